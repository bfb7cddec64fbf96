package ksguard.admission

# A typo: the input has settings, not setings. It must not compile.
violation contains "typo" if {
	checkable
	input.object.setings.jwtSecret.present
}
