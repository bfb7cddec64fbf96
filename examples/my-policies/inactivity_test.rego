package my_policies_test

import data.ksguard.admission
import data.ksguard.admission_test.with_patch

# with_timeout is the ready-made test input (policies/testinput_test.rego)
# with accessTokenInactivityTimeout set to t.
with_timeout(t) := with_patch([{"op": "add", "path": "/object/document", "value": {"authentication": {"oauthOptions": {"accessTokenInactivityTimeout": t}}}}])

test_inactivity_timeout_must_be_zero if {
	admission.deny["accessTokenInactivityTimeout is 10m: set it to 0s"] with input as with_timeout("10m")
}

test_zero_inactivity_timeout_is_allowed if {
	count(admission.deny) == 0 with input as with_timeout("0s")
}
