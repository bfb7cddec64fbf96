package ksguard.admission_test

import data.ksguard.admission

test_mismatch_is_denied_with_path_and_line if {
	inp := with_setting("jwtSecret", "fingerprint", "hmac:other")
	admission.deny == {"jwtSecret at authentication.jwtSecret (line 9) does not match the host cluster's jwtSecret: set it to the host's value (the jwtSecret in the host's kubesphere-system/kubesphere-config), or users who open this member from the host are sent back to the login page"} with input as inp
}

test_mismatch_is_denied_on_create_too if {
	inp := json.patch(with_setting("jwtSecret", "fingerprint", "hmac:other"), [{"op": "replace", "path": "/operation", "value": "CREATE"}])
	count(admission.deny) == 1 with input as inp
}

test_dry_run_is_judged_the_same if {
	inp := json.patch(with_setting("jwtSecret", "fingerprint", "hmac:other"), [{"op": "replace", "path": "/dryRun", "value": true}])
	count(admission.deny) == 1 with input as inp
}

test_missing_secret_is_denied if {
	inp := with_setting("jwtSecret", "present", false)
	some msg in admission.deny with input as inp
	startswith(msg, "no jwtSecret at authentication.jwtSecret")
}

test_non_string_secret_is_denied if {
	inp := json.patch(base, [
		{"op": "replace", "path": "/object/settings/jwtSecret/isString", "value": false},
		{"op": "replace", "path": "/object/settings/jwtSecret/tag", "value": "!!int"},
	])
	some msg in admission.deny with input as inp
	contains(msg, "is not a YAML string (it reads as !!int)")
}

test_yaml11_bool_secret_is_denied if {
	inp := json.patch(base, [
		{"op": "replace", "path": "/object/settings/jwtSecret/isString", "value": false},
		{"op": "replace", "path": "/object/settings/jwtSecret/yaml11Tag", "value": "!!bool"},
	])
	some msg in admission.deny with input as inp
	contains(msg, "is not a YAML string (YAML 1.1, which KubeSphere v3 reads with, makes it !!bool)")
}

test_empty_secret_is_denied if {
	inp := with_setting("jwtSecret", "empty", true)
	some msg in admission.deny with input as inp
	contains(msg, "is empty")
}

test_v4_legacy_secret_disagreeing_is_denied if {
	inp := with_patch([
		{"op": "replace", "path": "/object/schema", "value": "v4"},
		{"op": "replace", "path": "/object/settings/legacyJwtSecret", "value": {"present": true, "path": "authentication.jwtSecret", "line": 3, "fingerprint": "hmac:old"}},
	])
	some msg in admission.deny with input as inp
	startswith(msg, "authentication.jwtSecret (line 3) differs from authentication.jwtSecret (line 9)")
}

test_v4_legacy_secret_agreeing_is_allowed if {
	inp := with_patch([
		{"op": "replace", "path": "/object/schema", "value": "v4"},
		{"op": "replace", "path": "/object/settings/legacyJwtSecret", "value": {"present": true, "path": "authentication.jwtSecret", "line": 3, "fingerprint": host_fp}},
	])
	count(admission.deny) == 0 with input as inp
}

test_missing_host_secret_denies_with_instructions if {
	inp := with_patch([{"op": "replace", "path": "/host", "value": {"available": false, "source": "", "problem": "Secret kubesphere-system/ksguard-host not found"}}])
	some msg in admission.deny with input as inp
	contains(msg, "not available to ksguard (Secret kubesphere-system/ksguard-host not found)")
	contains(msg, "--host-secret=NAMESPACE/NAME")
}

test_missing_host_secret_can_warn_instead if {
	inp := with_patch([
		{"op": "replace", "path": "/host", "value": {"available": false, "source": "", "problem": "not configured"}},
		{"op": "replace", "path": "/config/onMissingHost", "value": "warn"},
	])
	count(admission.deny) == 0 with input as inp
	some msg in admission.warn with input as inp
	contains(msg, "not available to ksguard (not configured)")
}

test_unreadable_document_gets_only_its_finding if {
	inp := with_patch([
		{"op": "replace", "path": "/object/readable", "value": false},
		{"op": "replace", "path": "/object/settings/jwtSecret/present", "value": false},
		{"op": "replace", "path": "/object/findings", "value": [{"kind": "invalid-yaml", "path": "", "line": 3, "message": "not valid YAML"}]},
	])
	admission.deny == {"not valid YAML"} with input as inp
	count(admission.edits) == 0 with input as inp
}
