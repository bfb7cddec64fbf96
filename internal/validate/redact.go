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
