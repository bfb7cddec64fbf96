package validate

import (
	"bytes"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Redacted replaces a secret in output.
const Redacted = "[redacted]"

// Redact replaces every secret the decision saw (the host's jwtSecret and
// the jwtSecret values of the objects) in s. Decide applies it to every
// message; callers apply it to anything else they print.
func (d *Decision) Redact(s string) string {
	if !containsAny(s, d.secrets) {
		return s
	}
	secrets := append([]string(nil), d.secrets...)
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
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
