package validate

// Finding kinds: what makes a kubesphere-config ConfigMap ambiguous or
// unreadable. Policies match on Kind; Message says what is wrong, where, and
// what to do, and never holds a secret.
const (
	// FindingMissingDocument: the ConfigMap has no kubesphere.yaml data key.
	FindingMissingDocument = "missing-document"
	// FindingInvalidYAML: kubesphere.yaml is not valid YAML.
	FindingInvalidYAML = "invalid-yaml"
	// FindingNotAMapping: the document, or a section on a guarded path, is
	// not a YAML mapping.
	FindingNotAMapping = "not-a-mapping"
	// FindingMultipleDocuments: kubesphere.yaml holds more than one YAML
	// document; ks-apiserver reads only the first.
	FindingMultipleDocuments = "multiple-documents"
	// FindingDuplicateKey: a mapping holds the same key twice (v3 keeps the
	// last, v4 refuses to start).
	FindingDuplicateKey = "duplicate-key"
	// FindingCaseVariantKey: a key differs from a guarded key only by case
	// (v3's viper matches it, the host's own check does not).
	FindingCaseVariantKey = "case-variant-key"
	// FindingShadowingDataKey: another data key, such as kubesphere.json,
	// that ks-apiserver may read instead of kubesphere.yaml.
	FindingShadowingDataKey = "shadowing-data-key"
	// FindingExcessiveAliasing: aliases expand the document beyond what
	// ksguard will evaluate (a "billion laughs" document).
	FindingExcessiveAliasing = "excessive-aliasing"
	// FindingTooLarge: kubesphere.yaml is larger than ksguard reads.
	FindingTooLarge = "too-large"
	// FindingUnloadable: the configuration loader of the document's
	// KubeSphere version cannot load it, so ks-apiserver would not start.
	FindingUnloadable = "unloadable"
	// FindingReadDifferently: the loader of the document's KubeSphere
	// version reads a guarded setting differently from where ksguard finds
	// it (merge-key order, aliases and the like).
	FindingReadDifferently = "read-differently"
	// FindingDottedKey: a key holding dots that viper reads as a path onto a
	// guarded setting ("authentication.jwtSecret: x" at the top level beats
	// the nested one).
	FindingDottedKey = "dotted-key"
	// FindingSchemaHybrid: authentication holds both v4's issuer and v3's
	// oauthOptions, so which settings apply depends on the version that
	// reads it.
	FindingSchemaHybrid = "schema-hybrid"
)

// Finding is one thing that makes the document ambiguous or unsafe.
type Finding struct {
	// Kind is one of the Finding* constants.
	Kind string `json:"kind"`
	// Path is the dotted YAML path the finding is about ("" for the document).
	Path string `json:"path"`
	// Line is the 1-based line in kubesphere.yaml, or 0 when not applicable.
	Line int `json:"line"`
	// Message says what is wrong, where, and what to do.
	Message string `json:"message"`
}
