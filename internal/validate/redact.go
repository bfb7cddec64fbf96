package validate

import (
	"bytes"

	yaml "go.yaml.in/yaml/v3"
)

// Redacted replaces a secret in output.
const Redacted = "[redacted]"

// HoldsSecret reports whether s contains one of the secret values the
// decision saw (the host's jwtSecret and the jwtSecret values of the
// objects). Text that holds one is replaced whole (see RedactObject), never
// cut around the secret: a secret may be one letter or a common word, and
// cutting it out of text would mangle the text (or its encoding).
func (d *Decision) HoldsSecret(s string) bool { return containsAny(s, d.secrets) }

// Withheld messages stand in for a denial, a warning or an edit's reason
// that would have quoted a secret.
const (
	WithheldDenial  = "ksguard withheld the text of a denial: it quotes text of this write (a tag, a value, a key, an annotation or the user name) that holds a jwtSecret value, the host's or one in this ConfigMap; take the secret out of there to see the reason"
	WithheldWarning = "ksguard withheld the text of a warning: it quotes text of this write (a tag, a value, a key, an annotation or the user name) that holds a jwtSecret value, the host's or one in this ConfigMap; take the secret out of there to see it"
	WithheldReason  = "(withheld by ksguard: it quotes text that holds a jwtSecret value)"
)

// quotedTexts lists the text of the writer's that the policy input carries
// verbatim and the policies' messages quote: the tags and the
// accessTokenMaxAge text of the settings, the findings' messages (they quote
// keys), and the annotation values. The built-in messages are otherwise made
// from fingerprints and fixed words, so they do not depend on how a secret
// is spelled; this text is the one way a secret can reach them. (The
// document's other values and the labels are not listed: a rule that quotes
// them must not quote a value that could hold a secret.)
func quotedTexts(s Settings, findings []Finding, annotations map[string]string) []string {
	out := []string{s.JWTSecret.Tag, s.LegacyJWTSecret.Tag, s.AccessTokenMaxAge.Tag, s.AccessTokenMaxAge.Raw}
	for _, f := range findings {
		out = append(out, f.Message)
	}
	for _, v := range annotations {
		out = append(out, v)
	}
	return out
}

// withholdQuotedSecrets replaces, whole, every denial, warning and edit
// reason that quotes a text of the writer's (the user name, and each view's
// quoted texts, see quotedTexts) holding a secret value the decision saw. A
// denial stays a denial: only its text goes. Where no quoted text holds a
// secret (every ordinary write), nothing is searched and nothing changes.
func (d *Decision) withholdQuotedSecrets(username string, views ...*objectView) {
	var leaks []string
	leak := func(q string) {
		if q != "" && d.HoldsSecret(q) {
			leaks = append(leaks, q)
		}
	}
	leak(username)
	for _, v := range views {
		if v != nil {
			for _, q := range v.quoted {
				leak(q)
			}
		}
	}
	if len(leaks) == 0 {
		return
	}
	d.Denials = withhold(d.Denials, leaks, WithheldDenial)
	d.Warnings = withhold(d.Warnings, leaks, WithheldWarning)
	for i := range d.Edits {
		if containsAny(d.Edits[i].Reason, leaks) {
			d.Edits[i].Reason = WithheldReason
		}
	}
}

// withhold returns msgs with each message that contains one of leaks
// replaced by stand, which is listed once.
func withhold(msgs, leaks []string, stand string) []string {
	out := msgs[:0]
	listed := false
	for _, m := range msgs {
		if containsAny(m, leaks) {
			if listed {
				continue
			}
			m, listed = stand, true
		}
		out = append(out, m)
	}
	return out
}

// RedactObject returns a copy of cm that can be shown without the secrets
// the decision saw. Secret values are replaced in the structured object,
// before anything is encoded, and whole: kubesphere.yaml has its jwtSecret
// values replaced (RedactDocument); every other data value is redacted the
// same way and, if it still holds a secret, replaced by Redacted; the
// last-applied-configuration annotation (a copy of the object) is replaced
// by Redacted, and so is every other annotation or label value that holds a
// secret. Nothing else changes.
func (d *Decision) RedactObject(cm *ConfigMap) *ConfigMap {
	if cm == nil {
		return nil
	}
	out := cm.DeepCopy()
	for k, v := range out.Data {
		v = string(RedactDocument([]byte(v)))
		if k != ConfigKey && d.HoldsSecret(v) {
			v = Redacted
		}
		out.Data[k] = v
	}
	for k, v := range out.Annotations {
		if k == LastAppliedAnnotation || d.HoldsSecret(v) {
			out.Annotations[k] = Redacted
		}
	}
	for k, v := range out.Labels {
		if d.HoldsSecret(v) {
			out.Labels[k] = Redacted
		}
	}
	return out
}

// RedactPatch returns a copy of ops with the jwtSecret values of the
// documents they carry (every string value) replaced, as RedactDocument
// does.
func RedactPatch(ops []PatchOperation) []PatchOperation {
	out := make([]PatchOperation, len(ops))
	for i, op := range ops {
		out[i] = op
		if s, ok := op.Value.(string); ok {
			out[i].Value = string(RedactDocument([]byte(s)))
		}
	}
	return out
}

// RedactDocument returns text, a kubesphere.yaml document, with the value of
// every jwtSecret key (in any case, at any depth) replaced by "[redacted]"
// and everything else untouched, so that a document can be shown without
// its secrets. A document that cannot be parsed has the rest of every line
// that mentions a jwtSecret blanked instead.
func RedactDocument(text []byte) []byte {
	d := ParseDocument(text)
	if d.Root == nil {
		return redactLines(text)
	}
	type span struct{ start, end int }
	var spans []span
	var walk func(n *yaml.Node, inFlow bool)
	walk = func(n *yaml.Node, inFlow bool) {
		switch n.Kind {
		case yaml.MappingNode:
			flow := inFlow || n.Style&yaml.FlowStyle != 0
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if secretKey(k.Value) && v.Kind == yaml.ScalarNode {
					start, end, err := d.scalarSpan(v, flow)
					if err != nil {
						continue // a block scalar: the line-based pass below blanks it
					}
					spans = append(spans, span{start, end})
					continue
				}
				walk(v, flow)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, inFlow || n.Style&yaml.FlowStyle != 0)
			}
		}
	}
	walk(d.Root, false)
	out := append([]byte(nil), text...)
	for i := len(spans) - 1; i >= 0; i-- {
		s := spans[i]
		out = append(out[:s.start], append([]byte(`"`+Redacted+`"`), out[s.end:]...)...)
	}
	// Lines the walk redacted are left alone; this catches what it could not
	// place (block scalars).
	return redactLines(out)
}

// redactLines blanks everything after the first ':' on each line that
// mentions jwtSecret (and the indented lines below it), except where the
// value is already redacted.
func redactLines(text []byte) []byte {
	lines := bytes.SplitAfter(text, []byte("\n"))
	var out bytes.Buffer
	blankIndent := -1
	for _, l := range lines {
		trimmed := bytes.TrimLeft(l, " \t")
		indent := len(l) - len(trimmed)
		if blankIndent >= 0 {
			if len(bytes.TrimSpace(l)) > 0 && indent <= blankIndent {
				blankIndent = -1
			} else {
				continue // a continuation of a redacted value
			}
		}
		i := bytes.Index(bytes.ToLower(l), []byte("jwtsecret"))
		if i < 0 || bytes.Contains(l, []byte(Redacted)) {
			out.Write(l)
			continue
		}
		c := bytes.IndexByte(l[i:], ':')
		if c < 0 {
			out.Write(l)
			continue
		}
		out.Write(l[:i+c+1])
		out.WriteString(` "` + Redacted + `"`)
		if bytes.HasSuffix(l, []byte("\n")) {
			out.WriteByte('\n')
		}
		blankIndent = indent
	}
	return out.Bytes()
}
