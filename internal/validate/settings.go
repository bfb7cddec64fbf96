package validate

import (
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// SecretSetting is the policy's view of a jwtSecret in the document. The
// value itself never leaves this package: only its fingerprint does.
type SecretSetting struct {
	// Present is true when the key is in the document with a non-null value.
	Present bool `json:"present"`
	// Path is where the value is (or, when absent, where the schema wants it).
	Path string `json:"path"`
	// Keys is Path as a list, for edits.
	Keys []string `json:"keys"`
	// Line is the 1-based line of the value in kubesphere.yaml (0 if absent).
	Line int `json:"line"`
	// Tag is the YAML tag of the value: "!!str" for a string, "!!int" for an
	// unquoted 0123, and so on.
	Tag string `json:"tag"`
	// YAML11Tag is the tag YAML 1.1 resolves the value to (KubeSphere v3
	// reads with yaml.v2): "!!bool" for a plain yes, On or n, "!!int" for a
	// plain 0123.
	YAML11Tag string `json:"yaml11Tag"`
	// IsString is true when the value is a string under both YAML 1.1 and
	// 1.2, the only form every KubeSphere version reads the same way.
	IsString bool `json:"isString"`
	// Empty is true for an empty string.
	Empty bool `json:"empty"`
	// Shared is true when the value is reached through an alias or merge key.
	Shared bool `json:"shared"`
	// Fingerprint is a keyed hash of the value (see Fingerprinter).
	Fingerprint string `json:"fingerprint"`
}

// DurationSetting is the policy's view of accessTokenMaxAge.
type DurationSetting struct {
	// Present is true when the key is in the document (even with a null value).
	Present bool `json:"present"`
	// Path is where the value is (or, when absent, where the schema wants it).
	Path string `json:"path"`
	// Keys is Path as a list, for edits.
	Keys []string `json:"keys"`
	// Line is the 1-based line of the value (0 if absent).
	Line int `json:"line"`
	// Raw is the scalar as written ("2h", "0", "7200"); "" when absent or null.
	Raw string `json:"raw"`
	// Tag is the YAML tag of the value.
	Tag string `json:"tag"`
	// Null is true when the value is absent or null: the 2h default applies.
	Null bool `json:"null"`
	// Valid is false when ks-apiserver cannot read the value as a duration.
	Valid bool `json:"valid"`
	// Seconds is the effective value in seconds (the default when null;
	// 0.0000072 for a bare 7200, which is nanoseconds); null when not Valid.
	Seconds *float64 `json:"seconds"`
	// Zero is true when ks-apiserver reads the value as zero.
	Zero bool `json:"zero"`
	// BareNumber is true for an unquoted number (v4's host refuses it).
	BareNumber bool `json:"bareNumber"`
	// Shared is true when the value is reached through an alias or merge key.
	Shared bool `json:"shared"`
}

// Settings are the guarded settings of one document, read as ks-apiserver
// reads them for the document's schema.
type Settings struct {
	// JWTSecret is the effective jwtSecret.
	JWTSecret SecretSetting `json:"jwtSecret"`
	// LegacyJWTSecret is authentication.jwtSecret in a v4 document, which
	// ks-apiserver ignores but the v4 chart's helper prefers.
	LegacyJWTSecret SecretSetting `json:"legacyJwtSecret"`
	// AccessTokenMaxAge is the effective accessTokenMaxAge.
	AccessTokenMaxAge DurationSetting `json:"accessTokenMaxAge"`
}

// input returns the settings as the policy input holds them (plain maps, which
// OPA converts without a JSON round trip); field names are the JSON names.
func (s Settings) input() map[string]any {
	return map[string]any{
		"jwtSecret":         s.JWTSecret.input(),
		"legacyJwtSecret":   s.LegacyJWTSecret.input(),
		"accessTokenMaxAge": s.AccessTokenMaxAge.input(),
	}
}

func (s SecretSetting) input() map[string]any {
	return map[string]any{
		"present": s.Present, "path": s.Path, "keys": []string(s.Keys), "line": s.Line, "tag": s.Tag,
		"yaml11Tag": s.YAML11Tag, "isString": s.IsString, "empty": s.Empty, "shared": s.Shared, "fingerprint": s.Fingerprint,
	}
}

func (s DurationSetting) input() map[string]any {
	var seconds any
	if s.Seconds != nil {
		seconds = *s.Seconds
	}
	return map[string]any{
		"present": s.Present, "path": s.Path, "keys": []string(s.Keys), "line": s.Line, "raw": s.Raw,
		"tag": s.Tag, "null": s.Null, "valid": s.Valid, "seconds": seconds, "zero": s.Zero,
		"bareNumber": s.BareNumber, "shared": s.Shared,
	}
}

// found is the result of walking a path: the value (nil when absent) and
// the path as spelled in the document.
type found struct {
	value  *yaml.Node
	keys   Path
	shared bool
}

// find walks path from the root. When a key is missing, the rest of the
// path is filled in with the canonical names.
func (d *Document) find(path Path) found {
	f := found{keys: make(Path, 0, len(path))}
	n := d.Root
	for i, key := range path {
		e, ok := lookup(n, key)
		if !ok {
			f.keys = append(f.keys, path[i:]...)
			return found{keys: f.keys}
		}
		f.keys = append(f.keys, e.key.Value)
		f.shared = f.shared || e.shared
		n = e.value
		if i < len(path)-1 && n.Kind != yaml.MappingNode {
			f.keys = append(f.keys, path[i+1:]...)
			return found{keys: f.keys}
		}
	}
	f.value = n
	return f
}

// Settings reads the guarded settings, fingerprinting secrets with fp.
func (d *Document) Settings(fp *Fingerprinter) Settings {
	secretPath, agePath := PathV3JWTSecret, PathV3AccessTokenMaxAge
	if d.Schema == SchemaV4 {
		secretPath, agePath = PathV4JWTSecret, PathV4AccessTokenMaxAge
	}
	s := Settings{
		JWTSecret:         d.secretSetting(secretPath, fp),
		AccessTokenMaxAge: d.durationSetting(agePath),
	}
	if d.Schema == SchemaV4 {
		s.LegacyJWTSecret = d.secretSetting(PathV3JWTSecret, fp)
	}
	return s
}

func (d *Document) secretSetting(path Path, fp *Fingerprinter) SecretSetting {
	f := d.find(path)
	s := SecretSetting{Path: f.keys.String(), Keys: f.keys}
	if isNull(f.value) {
		return s
	}
	s.Present, s.Line, s.Tag, s.Shared = true, f.value.Line, f.value.Tag, f.shared
	if f.value.Kind == yaml.ScalarNode {
		s.YAML11Tag = yaml11Tag(f.value)
		s.IsString = f.value.Tag == "!!str" && s.YAML11Tag == "!!str"
		s.Empty = s.IsString && f.value.Value == ""
		s.Fingerprint = fp.Sum([]byte(f.value.Value))
	}
	return s
}

func (d *Document) durationSetting(path Path) DurationSetting {
	f := d.find(path)
	s := DurationSetting{Path: f.keys.String(), Keys: f.keys, Null: isNull(f.value), Shared: f.shared}
	if f.value != nil {
		s.Present, s.Line, s.Tag = true, f.value.Line, f.value.Tag
		if f.value.Kind == yaml.ScalarNode && !s.Null {
			s.Raw = f.value.Value
		}
	}
	dv := readDuration(f.value)
	s.Valid, s.BareNumber = dv.valid, dv.bareNumber
	if dv.valid {
		secs := dv.seconds
		s.Seconds, s.Zero = &secs, secs == 0
	}
	return s
}

// guardedKeys lists, for each mapping on a guarded path, the keys whose case
// matters. A key that differs from one of them only by case is a finding.
var guardedKeys = []struct {
	parent Path
	keys   []string
}{
	{nil, []string{"authentication"}},
	{Path{"authentication"}, []string{"jwtSecret", "oauthOptions", "issuer"}},
	{Path{"authentication", "oauthOptions"}, []string{"accessTokenMaxAge"}},
	{Path{"authentication", "issuer"}, []string{"jwtSecret", "accessTokenMaxAge"}},
}

// checkGuardedPaths reports keys that differ from a guarded key only by
// case, and sections on guarded paths that are not mappings.
func (d *Document) checkGuardedPaths() {
	for _, g := range guardedKeys {
		f := d.find(g.parent)
		m := f.value
		if len(g.parent) == 0 {
			m = d.Root
		}
		if isNull(m) {
			continue
		}
		if m.Kind != yaml.MappingNode {
			// A v3 oauthOptions.issuer is a string; only sections are checked.
			d.addFinding(FindingNotAMapping, f.keys, m.Line,
				"%s (line %d) must be a mapping, not a %s: ks-apiserver cannot read its settings from it",
				f.keys, m.Line, kindName(m))
			continue
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			for _, want := range g.keys {
				if k.Value != want && strings.EqualFold(k.Value, want) {
					p := append(f.keys[:len(f.keys):len(f.keys)], k.Value)
					d.addFinding(FindingCaseVariantKey, p, k.Line,
						"key %q at %s (line %d) differs from %q only by case: KubeSphere v3 reads it as %s, the host cluster's check does not; rename it to %q",
						k.Value, p, k.Line, want, want, want)
				}
			}
		}
	}
}
