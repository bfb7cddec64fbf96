package ksguard.admission

# The jwtSecret rules: a member's jwtSecret must be a string equal to the
# host cluster's. Secrets never reach Rego: both sides are fingerprints
# (equal secrets have equal fingerprints), so compare them and nothing else.

# secret is the effective jwtSecret of the written document (v3:
# authentication.jwtSecret, v4: authentication.issuer.jwtSecret).
secret := input.object.settings.jwtSecret

violation contains msg if {
	checkable
	input.host.available
	secret.present
	secret.isString
	not secret.empty
	secret.fingerprint != input.host.fingerprint
	msg := sprintf(
		"jwtSecret at %s (line %d) does not match the host cluster's jwtSecret: set it to the host's value (the jwtSecret in the host's kubesphere-system/kubesphere-config), or users who open this member from the host are sent back to the login page",
		[secret.path, secret.line],
	)
}

violation contains msg if {
	checkable
	not secret.present
	msg := sprintf(
		"no jwtSecret at %s: a member cluster must carry the host cluster's jwtSecret there (KubeSphere v3: authentication.jwtSecret, v4: authentication.issuer.jwtSecret)",
		[secret.path],
	)
}

violation contains msg if {
	checkable
	secret.present
	not secret.isString
	msg := sprintf(
		"jwtSecret at %s (line %d) is not a YAML string (%s): KubeSphere versions read such values differently (unquoted 0123 is the number 83, and KubeSphere v3 reads unquoted words such as on or off as booleans); write it in quotes",
		[secret.path, secret.line, reads_as],
	)
}

# reads_as says what a jwtSecret that is not a string reads as: YAML 1.2's
# tag, or YAML 1.1's (KubeSphere v3) where only that one is not a string.
reads_as := sprintf("it reads as %s", [secret.tag]) if secret.tag != "!!str"

reads_as := sprintf("YAML 1.1, which KubeSphere v3 reads with, makes it %s", [secret.yaml11Tag]) if {
	secret.tag == "!!str"
	secret.yaml11Tag != "!!str"
}

violation contains msg if {
	checkable
	secret.empty
	msg := sprintf(
		"jwtSecret at %s (line %d) is empty: set it to the host cluster's jwtSecret",
		[secret.path, secret.line],
	)
}

# A v4 document with both authentication.jwtSecret and
# authentication.issuer.jwtSecret: ks-apiserver reads the second, the ks-core
# chart's helper prefers the first on the next upgrade.
violation contains msg if {
	checkable
	input.object.schema == "v4"
	legacy := input.object.settings.legacyJwtSecret
	legacy.present
	legacy.fingerprint != secret.fingerprint
	msg := sprintf(
		"%s (line %d) differs from %s (line %d): KubeSphere v4 reads %s, but the ks-core chart carries %s into the next upgrade; remove %s or make both the host's value",
		[legacy.path, legacy.line, secret.path, secret.line, secret.path, legacy.path, legacy.path],
	)
}

# host_missing_msg tells how to give ksguard the host's jwtSecret.
host_missing_msg := sprintf(
	"the host cluster's jwtSecret is not available to ksguard (%s), so this write cannot be checked: give it with --host-secret=NAMESPACE/NAME (a Secret with key jwtSecret, chart value hostJwtSecret.existingSecret) or --host-secret-file",
	[input.host.problem],
)

violation contains host_missing_msg if {
	writing
	not input.host.available
	input.config.onMissingHost != "warn"
}

advice contains host_missing_msg if {
	writing
	not input.host.available
	input.config.onMissingHost == "warn"
}
