package ksguard.admission_test

import data.ksguard.admission

age_path := ["authentication", "oauthOptions", "accessTokenMaxAge"]

test_nonzero_age_is_set_to_0s if {
	inp := with_patch([
		{"op": "replace", "path": "/object/settings/accessTokenMaxAge/zero", "value": false},
		{"op": "replace", "path": "/object/settings/accessTokenMaxAge/raw", "value": "2h"},
	])
	admission.edits == {{
		"path": age_path, "value": "0s",
		"reason": "it was \"2h\" at line 11; a member must accept the host's tokens without looking them up in its own cache",
	}} with input as inp
	count(admission.deny) == 0 with input as inp
}

test_absent_age_is_created if {
	inp := with_patch([
		{"op": "replace", "path": "/object/settings/accessTokenMaxAge", "value": {
			"present": false, "path": "authentication.oauthOptions.accessTokenMaxAge", "keys": age_path,
			"null": true, "valid": true, "seconds": 7200, "zero": false, "bareNumber": false,
		}},
	])
	some edit in admission.edits with input as inp
	edit.path == age_path
	startswith(edit.reason, "it was absent, so the 2h default applied;")
}

test_v3_bare_zero_is_left_alone if {
	inp := with_patch([
		{"op": "replace", "path": "/object/settings/accessTokenMaxAge/bareNumber", "value": true},
		{"op": "replace", "path": "/object/settings/accessTokenMaxAge/tag", "value": "!!int"},
	])
	count(admission.edits) == 0 with input as inp
}

test_v4_bare_zero_is_rewritten if {
	v4_path := ["authentication", "issuer", "accessTokenMaxAge"]
	inp := with_patch([
		{"op": "replace", "path": "/object/schema", "value": "v4"},
		{"op": "replace", "path": "/object/settings/accessTokenMaxAge/bareNumber", "value": true},
		{"op": "replace", "path": "/object/settings/accessTokenMaxAge/keys", "value": v4_path},
	])
	some edit in admission.edits with input as inp
	edit.path == v4_path
	edit.value == "0s"
}

test_unknown_schema_is_denied_and_not_edited if {
	inp := with_patch([
		{"op": "replace", "path": "/object/schema", "value": "unknown"},
		{"op": "replace", "path": "/object/settings/accessTokenMaxAge/zero", "value": false},
	])
	count(admission.edits) == 0 with input as inp
	some msg in admission.deny with input as inp
	startswith(msg, "kubesphere.yaml has no authentication section")
}

test_no_edit_on_delete if {
	inp := with_patch([
		{"op": "replace", "path": "/operation", "value": "DELETE"},
		{"op": "replace", "path": "/object", "value": null},
		{"op": "replace", "path": "/oldObject/settings/accessTokenMaxAge/zero", "value": false},
	])
	count(admission.edits) == 0 with input as inp
}
