package validate

import (
	"bytes"
	"regexp"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// configFromTree builds, from the document's parsed tree, the config that
// the YAML library schema's loader pins decodes from its text (yaml.v2 for
// v3: nested mappings as map[interface{}]interface{}; yaml.v3 for v4:
// map[string]interface{}), so that a miss reads the text once instead of
// twice. It answers only for documents inside a subset where YAML 1.1
// (yaml.v2) and YAML 1.2 (yaml.v3) read every node alike, as nearly every
// kubesphere.yaml is:
//
//   - no findings (so no duplicate keys, one document, a mapping at the top),
//     no carriage return, tab, byte order mark, NEL or line or paragraph
//     separator, no directive or document marker at the start of a line;
//   - no anchor, alias, tag, merge key or block scalar;
//   - keys and plain values that both libraries resolve the same way:
//     quoted strings; plain strings that start with a letter or "/" and are
//     none of YAML 1.1's words (y, yes, on, off, ...); durations such as
//     10m0s; decimal integers; true and false, null and ~ in their three
//     spellings; empty values.
//
// For any other document ok is false and the caller decodes the text with
// the library itself. TestConfigFromTree and FuzzConfigFromTree compare the
// two wherever it answers.
func configFromTree(d *Document, schema string) (config map[string]any, ok bool) {
	if d == nil || d.Root == nil || len(d.Findings) > 0 || !plainText(d.Text) {
		return nil, false
	}
	return treeBuilder{v2: schema != SchemaV4}.mapping(d.Root)
}

// plainText reports whether text has none of the characters and line
// starts on which YAML 1.1 and 1.2 (or the two libraries) part.
func plainText(text []byte) bool {
	if bytes.ContainsAny(text, "\r\t") || bytes.Contains(text, []byte("\ufeff")) ||
		bytes.Contains(text, []byte("\u0085")) || bytes.Contains(text, []byte("\u2028")) || bytes.Contains(text, []byte("\u2029")) {
		return false
	}
	for line := range bytes.SplitSeq(text, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")) || bytes.HasPrefix(line, []byte("%")) {
			return false
		}
	}
	return true
}

// treeBuilder turns nodes into the values one library decodes.
type treeBuilder struct{ v2 bool }

func (b treeBuilder) mapping(n *yaml.Node) (map[string]any, bool) {
	out := make(map[string]any, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMergeKey(k) || k.Kind != yaml.ScalarNode {
			return nil, false
		}
		key, ok := b.scalar(k)
		s, isString := key.(string)
		if !ok || !isString {
			return nil, false
		}
		val, ok := b.value(v)
		if !ok {
			return nil, false
		}
		out[s] = val
	}
	return out, true
}

func (b treeBuilder) value(n *yaml.Node) (any, bool) {
	if n.Anchor != "" || n.Style&yaml.TaggedStyle != 0 {
		return nil, false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return b.scalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, ok := b.value(item)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	case yaml.MappingNode:
		m, ok := b.mapping(n)
		if !ok {
			return nil, false
		}
		if !b.v2 {
			return m, true
		}
		out := make(map[any]any, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out, true
	}
	return nil, false // an alias, or a document node below the top
}

var (
	// decimalRE is an integer both libraries read in base 10.
	decimalRE = regexp.MustCompile(`^(0|-?[1-9][0-9]{0,17})$`)
	// durationRE is a Go duration neither library reads as a number or a
	// timestamp.
	durationRE = regexp.MustCompile(`^([0-9]+(ns|us|µs|ms|s|m|h))+$`)
	// yaml11Words are plain scalars starting with a letter that YAML 1.1
	// (yaml.v2) reads as something other than a string, beside the null
	// and boolean words both libraries read alike.
	yaml11Words = map[string]bool{
		"y": true, "Y": true, "yes": true, "Yes": true, "YES": true,
		"n": true, "N": true, "no": true, "No": true, "NO": true,
		"on": true, "On": true, "ON": true, "off": true, "Off": true, "OFF": true,
	}
)

func (b treeBuilder) scalar(n *yaml.Node) (any, bool) {
	if n.Anchor != "" || n.Style&(yaml.TaggedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return nil, false
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		return n.Value, true
	}
	v := n.Value
	switch v {
	case "", "~", "null", "Null", "NULL":
		return nil, true
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	switch c := v[0]; {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '/':
		if yaml11Words[v] {
			return nil, false
		}
		return v, true
	case decimalRE.MatchString(v):
		i, err := strconv.Atoi(v)
		return i, err == nil
	case durationRE.MatchString(v):
		return v, true
	}
	return nil, false
}
