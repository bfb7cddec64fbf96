package ksguard.admission

deny contains msg if {
	msg := undefined_function(input.name)
}
