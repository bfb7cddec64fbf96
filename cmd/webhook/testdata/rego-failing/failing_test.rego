package failing_test

import data.ksguard.admission
import data.ksguard.admission_test.base

# Fails on purpose: a clean member is not denied.
test_clean_member_denied if {
	count(admission.deny) > 0 with input as base
}
