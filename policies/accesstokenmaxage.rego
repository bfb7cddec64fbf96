package ksguard.admission

# The accessTokenMaxAge rule: on a member it must be 0, else ks-apiserver
# looks the host's tokens up in its own cache ("token not found in cache").
# ksguard writes the string 0s, which every KubeSphere version reads as zero
# (the v4 host refuses a bare number).

# max_age is the effective accessTokenMaxAge (v3:
# authentication.oauthOptions.accessTokenMaxAge, v4:
# authentication.issuer.accessTokenMaxAge). seconds is what ks-apiserver
# reads: absent or null is the 2h default, a bare integer is nanoseconds.
max_age := input.object.settings.accessTokenMaxAge

# needs_zero is true when the value must be rewritten to 0s.
needs_zero if {
	checkable
	input.object.schema in {"v3", "v4"}
	not max_age.zero
}

needs_zero if {
	checkable
	input.object.schema == "v4"
	max_age.bareNumber
}

# Once the edit is made, the client is warned "ksguard set PATH to 0s: REASON".
edits contains {"path": max_age.keys, "value": "0s", "reason": reason} if {
	needs_zero
	reason := sprintf("it was %s; a member must accept the host's tokens without looking them up in its own cache", [was])
}

# was describes the value before the edit, for the reason above.
was := "absent, so the 2h default applied" if not max_age.present

was := "null, so the 2h default applied" if {
	max_age.present
	max_age.null
}

was := sprintf("%q at line %d", [max_age.raw, max_age.line]) if {
	max_age.present
	not max_age.null
}

# A document with no authentication section gives no way to tell v3 from v4.
violation contains "kubesphere.yaml has no authentication section, so ksguard cannot tell KubeSphere v3 from v4: add authentication.jwtSecret and authentication.oauthOptions.accessTokenMaxAge: 0s (v3), or authentication.issuer.jwtSecret and authentication.issuer.accessTokenMaxAge: 0s (v4)" if {
	checkable
	input.object.schema == "unknown"
}
