package ksguard.admission_test

# Inputs for the tests: a v3 member document as the ks-installer renders it,
# and helpers to vary it. Fingerprints are opaque strings to Rego, so any
# two equal strings stand for equal secrets.

host_fp := "hmac:host"

v3_settings := {
	"jwtSecret": {
		"present": true, "path": "authentication.jwtSecret", "keys": ["authentication", "jwtSecret"],
		"line": 9, "tag": "!!str", "yaml11Tag": "!!str", "isString": true, "empty": false, "shared": false, "fingerprint": host_fp,
	},
	"legacyJwtSecret": {"present": false},
	"accessTokenMaxAge": {
		"present": true, "path": "authentication.oauthOptions.accessTokenMaxAge",
		"keys": ["authentication", "oauthOptions", "accessTokenMaxAge"], "line": 11, "raw": "0s",
		"tag": "!!str", "null": false, "valid": true, "seconds": 0, "zero": true, "bareNumber": false, "shared": false,
	},
}

object := {
	"name": "kubesphere-config", "namespace": "kubesphere-system", "annotations": {}, "labels": {},
	"dataKeys": ["kubesphere.yaml"], "schema": "v3", "readable": true, "document": {},
	"settings": v3_settings, "findings": [],
}

config := {
	"guarded": {"namespace": "kubesphere-system", "name": "kubesphere-config"},
	"breakGlass": {"annotation": "ksguard.io/break-glass", "groups": ["system:masters"]},
	"onMissingHost": "deny", "mode": "enforce",
}

base := {
	"operation": "UPDATE", "dryRun": false,
	"userInfo": {"username": "alice", "groups": ["system:authenticated"]},
	"namespace": "kubesphere-system", "name": "kubesphere-config",
	"object": object, "oldObject": object,
	"host": {"available": true, "fingerprint": host_fp, "source": "test", "problem": ""},
	"config": config,
}

# with_setting returns base with one field of one setting replaced.
with_setting(setting, field, value) := json.patch(base, [{"op": "add", "path": sprintf("/object/settings/%s/%s", [setting, field]), "value": value}])

# with_patch applies a JSON patch to base.
with_patch(ops) := json.patch(base, ops)
