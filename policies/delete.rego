package ksguard.admission

# Deleting the guarded ConfigMap is refused: ks-apiserver cannot start
# without it, and whatever re-creates it would start from scratch.
violation contains msg if {
	guarded
	input.operation == "DELETE"
	msg := sprintf(
		"deleting %s/%s is refused: ks-apiserver cannot start without it; edit it instead, or set the break-glass annotation %s (allowed groups: %s) first",
		[input.namespace, input.name, input.config.breakGlass.annotation, concat(", ", input.config.breakGlass.groups)],
	)
}
