# Package ksguard.admission decides every write of the guarded ConfigMap
# (kubesphere-system/kubesphere-config by default). ksguard reads three sets
# from this package:
#
#   deny   messages: any message refuses the write
#   warn   messages the client is shown (kubectl prints them as "Warning:")
#   edits  {"path": [keys...], "value": "text"}: ksguard sets that value in
#          kubesphere.yaml by editing the text in place (comments, order and
#          every other byte stay)
#
# The other files of this package add reasons to `violation` (each becomes a
# denial) and to `advice` (each becomes a warning). This file turns
# violations into denials — or into warnings, when a member of an allowed
# group sets the break-glass annotation. The input is documented in
# README.md ("The policy input").
package ksguard.admission

# guarded is true for a write to the one ConfigMap ksguard protects. Every
# other object is allowed untouched: no rule fires without it.
guarded if {
	input.namespace == input.config.guarded.namespace
	input.name == input.config.guarded.name
}

# writing is true for a CREATE or UPDATE of the guarded ConfigMap.
writing if {
	guarded
	input.operation in {"CREATE", "UPDATE"}
}

# checkable is true for a CREATE or UPDATE whose kubesphere.yaml could be
# read, so that its settings can be judged.
checkable if {
	writing
	input.object.readable
}

# subject is the ConfigMap the write is about: the new object, or the stored
# one for a DELETE.
subject := input.object if input.operation != "DELETE"

subject := input.oldObject if input.operation == "DELETE"

# break_glass_reason is the value of the break-glass annotation, if set.
break_glass_reason := subject.annotations[input.config.breakGlass.annotation]

# break_glass is true when the annotation is set (to a reason) by a member of
# one of the allowed groups.
break_glass if {
	guarded
	break_glass_reason != ""
	some group in input.userInfo.groups
	group in input.config.breakGlass.groups
}

deny contains msg if {
	not break_glass
	some msg in violation
}

warn contains msg if {
	break_glass
	some v in violation
	msg := sprintf("allowed by break-glass, would be denied: %s", [v])
}

warn contains msg if {
	break_glass
	msg := sprintf(
		"break-glass annotation %s (%q) used by %s: ksguard reports its checks instead of enforcing them; remove the annotation when done",
		[input.config.breakGlass.annotation, break_glass_reason, input.userInfo.username],
	)
}

warn contains msg if {
	guarded
	break_glass_reason != ""
	not break_glass
	msg := sprintf(
		"break-glass annotation %s ignored: %s is not in an allowed group (%s)",
		[input.config.breakGlass.annotation, input.userInfo.username, concat(", ", input.config.breakGlass.groups)],
	)
}

warn contains msg if {
	some msg in advice
}
