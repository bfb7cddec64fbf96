package validate

import (
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// guardedLower are the guarded settings of both schemas, as viper's
// lower-cased key paths.
var guardedLower = []Path{
	{"authentication", "jwtsecret"},
	{"authentication", "oauthoptions", "accesstokenmaxage"},
	{"authentication", "issuer", "jwtsecret"},
	{"authentication", "issuer", "accesstokenmaxage"},
}

// onGuardedPath reports whether p (lower case) and a guarded setting's path
// are one a prefix of the other: a key there can change what ks-apiserver
// reads for that setting.
func onGuardedPath(p Path) bool {
	for _, g := range guardedLower {
		n := min(len(p), len(g))
		if Path(p[:n]).String() == Path(g[:n]).String() {
			return true
		}
	}
	return false
}

// checkDottedKeys reports keys holding dots that viper reads as a path onto
// a guarded setting. viper looks a setting up by its longest dotted prefix
// first, so a top-level "authentication.jwtSecret: x" beats the nested
// authentication.jwtSecret, and "oauthOptions.accessTokenMaxAge: 2h" inside
// authentication beats oauthOptions.accessTokenMaxAge. ksguard refuses them
// rather than reading them, because the YAML tooling that writes this
// ConfigMap (ks-installer, Helm) and the host's own check read such keys as
// plain keys.
func (d *Document) checkDottedKeys(m *yaml.Node, parent Path, seen map[*yaml.Node]bool) {
	m, _ = resolve(m)
	if m == nil || m.Kind != yaml.MappingNode || seen[m] {
		return
	}
	seen[m] = true
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if isMergeKey(k) {
			v, _ = resolve(v)
			if v != nil && v.Kind == yaml.SequenceNode {
				for _, src := range v.Content {
					d.checkDottedKeys(src, parent, seen)
				}
				continue
			}
			d.checkDottedKeys(v, parent, seen)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			continue
		}
		child := append(parent[:len(parent):len(parent)], strings.Split(strings.ToLower(k.Value), ".")...)
		if !onGuardedPath(child) {
			continue
		}
		if strings.Contains(k.Value, ".") {
			d.addFinding(FindingDottedKey, child, k.Line,
				"key %q at %s (line %d) holds dots: ks-apiserver's viper reads it as the path %s and lets it override the nested setting; write it as nested keys instead",
				k.Value, where(parent), k.Line, child)
			continue
		}
		d.checkDottedKeys(v, child, seen)
	}
}

// checkSchemaHybrid reports an authentication section that holds both v4's
// issuer and v3's oauthOptions: ks-apiserver v3 reads oauthOptions and
// ignores issuer, v4 the other way round, and nothing in the document says
// which runs it.
func (d *Document) checkSchemaHybrid() {
	auth, ok := lookup(d.Root, "authentication")
	if !ok || auth.value.Kind != yaml.MappingNode {
		return
	}
	iss, hasIssuer := lookup(auth.value, "issuer")
	oauth, hasOAuth := lookup(auth.value, "oauthOptions")
	if !hasIssuer || !hasOAuth {
		return
	}
	d.addFinding(FindingSchemaHybrid, Path{"authentication"}, iss.key.Line,
		"authentication holds both issuer (line %d, KubeSphere v4) and oauthOptions (line %d, KubeSphere v3): each version reads its own and ignores the other, so the guarded settings depend on which runs; keep the one of your version (v4: issuer, v3: oauthOptions) and remove the other",
		iss.key.Line, oauth.key.Line)
}

// checkLoader reads the document as the loader of its KubeSphere version
// does and reports where that reading and ksguard's settings s disagree, or
// where the loader cannot load the document at all.
func (d *Document) checkLoader(s Settings, fp *Fingerprinter) []Finding {
	for _, f := range d.Findings {
		switch f.Kind {
		case FindingInvalidYAML, FindingTooLarge, FindingNotAMapping:
			return nil // already unreadable, and said why
		}
	}
	r := readings.read(d.Schema, d.Text, d)
	agePath := PathV3AccessTokenMaxAge
	if d.Schema == SchemaV4 {
		agePath = PathV4AccessTokenMaxAge
	}
	var out []Finding
	if r.err != nil {
		// ksguard's edit replaces a non-zero accessTokenMaxAge; whether the
		// edited document loads is checked when the edit is made.
		if r.err.path != nil && !s.AccessTokenMaxAge.Zero && equalFoldPath(r.err.path, agePath) {
			return nil
		}
		line := r.err.line
		if line == 0 && r.err.path != nil {
			if f := d.find(r.err.path); f.value != nil {
				line = f.value.Line
			}
		}
		at := ""
		if line > 0 {
			at = fmt.Sprintf(" (line %d)", line)
		}
		return append(out, Finding{Kind: FindingUnloadable, Path: r.err.path.String(), Line: line, Message: fmt.Sprintf(
			"%s cannot load %s%s: %s; ks-apiserver would not start: correct the document", r.loader, ConfigKey, at, r.err.message)})
	}
	if d.explained() {
		return nil
	}
	sec := s.JWTSecret
	switch {
	case sec.Present && sec.IsString && fp.Sum([]byte(r.jwtSecret)) != sec.Fingerprint,
		!sec.Present && r.jwtSecret != "":
		out = append(out, Finding{Kind: FindingReadDifferently, Path: sec.Path, Line: sec.Line, Message: fmt.Sprintf(
			"%s reads a different jwtSecret than the one at %s%s: merge keys (<<) or aliases decide what it reads; write jwtSecret once, as a quoted string, directly under %s",
			r.loader, sec.Path, lineNote(sec.Line), Path(sec.Keys[:len(sec.Keys)-1]))})
	}
	if age := s.AccessTokenMaxAge; age.Zero && r.accessTokenMaxAge != 0 {
		out = append(out, Finding{Kind: FindingReadDifferently, Path: age.Path, Line: age.Line, Message: fmt.Sprintf(
			"%s reads accessTokenMaxAge as %s, not the zero at %s%s: merge keys (<<) or aliases decide what it reads; write accessTokenMaxAge: 0s once, directly under %s",
			r.loader, r.accessTokenMaxAge, age.Path, lineNote(age.Line), Path(age.Keys[:len(age.Keys)-1]))})
	}
	return out
}

// explained reports whether the document already has a finding that
// explains why a loader would read it differently.
func (d *Document) explained() bool {
	for _, f := range d.Findings {
		switch f.Kind {
		case FindingDottedKey, FindingDuplicateKey, FindingCaseVariantKey, FindingSchemaHybrid:
			return true
		}
	}
	return false
}

func lineNote(line int) string {
	if line == 0 {
		return ""
	}
	return fmt.Sprintf(" (line %d)", line)
}

func equalFoldPath(a, b Path) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// yaml11Tag is the tag YAML 1.1 (yaml.v2, which KubeSphere v3 reads with)
// resolves a scalar to. Quoted, block and explicitly tagged scalars keep
// their YAML 1.2 tag; a plain one is resolved again, so that yes, On, n,
// 0123 or 1_000 read as the bool, int or float they are in YAML 1.1.
func yaml11Tag(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) != 0 {
		return n.Tag
	}
	var m map[string]any
	if unmarshalYAML2([]byte("v: "+n.Value), &m) != nil {
		return n.Tag
	}
	switch m["v"].(type) {
	case string:
		return "!!str"
	case bool:
		return "!!bool"
	case int, int64, uint64:
		return "!!int"
	case float64:
		return "!!float"
	case nil:
		return "!!null"
	}
	return n.Tag
}
