package ksguard.admission_test

import data.ksguard.admission

test_clean_member_is_allowed_untouched if {
	count(admission.deny) == 0 with input as base
	count(admission.edits) == 0 with input as base
	count(admission.warn) == 0 with input as base
}

test_other_configmap_is_never_judged if {
	drifted := with_setting("jwtSecret", "fingerprint", "hmac:other")
	other_name := json.patch(drifted, [{"op": "replace", "path": "/name", "value": "something-else"}])
	count(admission.deny) == 0 with input as other_name
	other_ns := json.patch(drifted, [{"op": "replace", "path": "/namespace", "value": "default"}])
	count(admission.deny) == 0 with input as other_ns
	count(admission.edits) == 0 with input as json.patch(other_ns, [{"op": "replace", "path": "/object/settings/accessTokenMaxAge/zero", "value": false}])
}

test_break_glass_turns_denials_into_warnings if {
	drifted := with_setting("jwtSecret", "fingerprint", "hmac:other")
	glass := json.patch(drifted, [
		{"op": "add", "path": "/object/annotations", "value": {"ksguard.io/break-glass": "INC-42 restoring host access"}},
		{"op": "replace", "path": "/userInfo/groups", "value": ["system:masters"]},
	])
	count(admission.deny) == 0 with input as glass
	some w in admission.warn with input as glass
	startswith(w, "allowed by break-glass, would be denied: jwtSecret at authentication.jwtSecret (line 9)")
	some u in admission.warn with input as glass
	contains(u, "INC-42 restoring host access")
}

test_break_glass_ignored_for_other_groups if {
	drifted := with_setting("jwtSecret", "fingerprint", "hmac:other")
	glass := json.patch(drifted, [{"op": "add", "path": "/object/annotations", "value": {"ksguard.io/break-glass": "please"}}])
	count(admission.deny) == 1 with input as glass
	some w in admission.warn with input as glass
	contains(w, "ignored: alice is not in an allowed group (system:masters)")
}

test_break_glass_groups_are_configurable if {
	drifted := with_setting("jwtSecret", "fingerprint", "hmac:other")
	glass := json.patch(drifted, [
		{"op": "add", "path": "/object/annotations", "value": {"ksguard.io/break-glass": "x"}},
		{"op": "replace", "path": "/config/breakGlass/groups", "value": ["ops"]},
		{"op": "replace", "path": "/userInfo/groups", "value": ["ops"]},
	])
	count(admission.deny) == 0 with input as glass
}

test_break_glass_needs_a_reason if {
	drifted := with_setting("jwtSecret", "fingerprint", "hmac:other")
	glass := json.patch(drifted, [
		{"op": "add", "path": "/object/annotations", "value": {"ksguard.io/break-glass": ""}},
		{"op": "replace", "path": "/userInfo/groups", "value": ["system:masters"]},
	])
	count(admission.deny) == 1 with input as glass
}

test_delete_is_refused if {
	del := with_patch([
		{"op": "replace", "path": "/operation", "value": "DELETE"},
		{"op": "replace", "path": "/object", "value": null},
	])
	some msg in admission.deny with input as del
	startswith(msg, "deleting kubesphere-system/kubesphere-config is refused")
}

test_delete_with_break_glass_is_allowed if {
	del := with_patch([
		{"op": "replace", "path": "/operation", "value": "DELETE"},
		{"op": "replace", "path": "/object", "value": null},
		{"op": "add", "path": "/oldObject/annotations", "value": {"ksguard.io/break-glass": "decommissioning"}},
		{"op": "replace", "path": "/userInfo/groups", "value": ["system:masters"]},
	])
	count(admission.deny) == 0 with input as del
}

test_delete_of_other_configmap_is_allowed if {
	del := with_patch([
		{"op": "replace", "path": "/operation", "value": "DELETE"},
		{"op": "replace", "path": "/name", "value": "other"},
	])
	count(admission.deny) == 0 with input as del
}

test_every_finding_denies if {
	f := {"kind": "duplicate-key", "path": "authentication.jwtSecret", "line": 12, "message": "key \"jwtSecret\" appears twice"}
	inp := with_patch([{"op": "replace", "path": "/object/findings", "value": [f]}])
	admission.deny == {"key \"jwtSecret\" appears twice"} with input as inp
}

test_findings_of_the_old_object_do_not_deny if {
	f := {"kind": "invalid-yaml", "path": "", "line": 1, "message": "broken"}
	inp := with_patch([{"op": "replace", "path": "/oldObject/findings", "value": [f]}])
	count(admission.deny) == 0 with input as inp
}
