package validate

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// EditError says why an edit could not be made to the text in place, and how
// to write the value instead.
type EditError struct {
	// Path is the setting the edit was for.
	Path Path
	// Line is where the trouble is (0 if unknown).
	Line int
	// Value is the value the edit wanted to write.
	Value string
	// Reason says what stands in the way.
	Reason string
}

func (e *EditError) Error() string {
	at := ""
	if e.Line > 0 {
		at = fmt.Sprintf(" (line %d)", e.Line)
	}
	parent, key := "the top level", e.Path.String()
	if n := len(e.Path); n > 0 {
		key = e.Path[n-1]
		if n > 1 {
			parent = e.Path[:n-1].String()
		}
	}
	return fmt.Sprintf("ksguard cannot set %s%s to %s in place: %s; write `%s: %s` directly under %s",
		e.Path, at, e.Value, e.Reason, key, e.Value, parent)
}

// Set returns the document's text with the value at path set to the string
// value. Only the bytes of that one scalar change (or, when the key is
// missing, one block of lines is inserted at the mapping's indentation):
// every other byte, comment, blank line and key order stays. The result is
// read back and compared with the original; an edit that would change
// anything else is refused with an *EditError.
func (d *Document) Set(path Path, value string) ([]byte, error) {
	fail := func(line int, format string, args ...any) ([]byte, error) {
		return nil, &EditError{Path: path, Line: line, Value: value, Reason: fmt.Sprintf(format, args...)}
	}
	if d.Root == nil {
		return fail(0, "the document has no top-level mapping")
	}
	if len(path) == 0 {
		return fail(0, "the path is empty")
	}
	rendered := renderScalar(value)
	m, parentKey := d.Root, (*yaml.Node)(nil)
	spelled := make(Path, 0, len(path))
	var out []byte
	var err error
	for i, key := range path {
		e, ok := lookup(m, key)
		if !ok {
			spelled = append(spelled, path[i:]...)
			out, err = d.insert(m, parentKey, path[i:], rendered)
			break
		}
		if e.shared {
			return fail(e.value.Line, "%s is reached through an alias or a merge key (<<), so its text is shared with other keys", append(spelled, e.key.Value))
		}
		spelled = append(spelled, e.key.Value)
		if e.value.Anchor != "" && d.aliased(e.value) {
			return fail(e.value.Line, "%s carries the anchor &%s, which other keys alias, so editing it would change them too", spelled, e.value.Anchor)
		}
		inFlow := m.Style&yaml.FlowStyle != 0
		if i == len(path)-1 {
			if start, ok := d.emptyFlowCollection(e.value); ok {
				// {} or []: viper reads the default (2h) or cannot load it;
				// the two bytes are the value's whole text.
				out, err = d.splice(start, start+2, rendered), nil
				break
			}
			if e.value.Kind != yaml.ScalarNode {
				return fail(e.value.Line, "the value is a %s, not a scalar", kindName(e.value))
			}
			out, err = d.replaceScalar(e.value, rendered, inFlow)
			break
		}
		if isNull(e.value) {
			out, err = d.replaceNull(e.key, e.value, path[i+1:], rendered, inFlow)
			spelled = append(spelled, path[i+1:]...)
			break
		}
		if e.value.Kind != yaml.MappingNode {
			return fail(e.value.Line, "%s is a %s, not a mapping", spelled, kindName(e.value))
		}
		m, parentKey = e.value, e.key
	}
	if err != nil {
		return fail(0, "%v", err)
	}
	if err := d.verify(out, spelled, value); err != nil {
		return fail(0, "%v", err)
	}
	return out, nil
}

// aliased reports whether an alias anywhere in the document names target.
func (d *Document) aliased(target *yaml.Node) bool {
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		if n.Kind == yaml.AliasNode {
			return n.Alias == target
		}
		for _, c := range n.Content {
			if walk(c) {
				return true
			}
		}
		return false
	}
	return walk(d.Root)
}

// verify reads out back and checks that it equals the original document with
// only path set to value.
func (d *Document) verify(out []byte, path Path, value string) error {
	var want, got any
	if err := d.Root.Decode(&want); err != nil { // the parsed tree: what yaml.Unmarshal(d.Text) decodes, without parsing again
		return fmt.Errorf("the original document cannot be read back to check the edit: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	// Parsed once, for this check and for the loader's reading below
	// (configFromTree); the tree decodes to what yaml.Unmarshal(out) does.
	edited := ParseDocument(out)
	decodeErr := error(nil)
	if edited.Root != nil {
		decodeErr = edited.Root.Decode(&got)
	} else {
		decodeErr = yaml.Unmarshal(out, &got)
	}
	if decodeErr != nil {
		return fmt.Errorf("the edited document would not be valid YAML")
	}
	want = setPath(want, path, value)
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("the edit would change more than that one value")
	}
	// The document as it will be stored must load, and ks-apiserver must
	// read the new value where it was written.
	r := readings.read(d.Schema, out, edited)
	if r.err != nil {
		return fmt.Errorf("%s could still not load the edited document: %s", r.loader, r.err.message)
	}
	if got, ok := r.get(path); !ok || fmt.Sprint(got) != value {
		return fmt.Errorf("%s would not read the new value there (merge keys, aliases or dotted keys decide what it reads)", r.loader)
	}
	return nil
}

// setPath sets path in a decoded document, creating mappings on the way.
func setPath(doc any, path Path, value string) any {
	if len(path) == 0 {
		return value
	}
	switch m := doc.(type) {
	case map[string]any:
		m[path[0]] = setPath(m[path[0]], path[1:], value)
		return m
	case map[any]any: // a mapping with a key that is not a string
		m[path[0]] = setPath(m[path[0]], path[1:], value)
		return m
	}
	return map[string]any{path[0]: setPath(nil, path[1:], value)}
}

// offset returns the byte offset of a 1-based line and column (columns count
// characters, as the YAML library does), or -1 when out of range.
func (d *Document) offset(line, col int) int {
	if d.lineStarts == nil {
		d.lineStarts = append(d.lineStarts, 0)
		for i := 0; i < len(d.Text); {
			if n := lineBreak(d.Text, i); n > 0 {
				i += n
				d.lineStarts = append(d.lineStarts, i)
				continue
			}
			i++
		}
	}
	if line < 1 || line > len(d.lineStarts) || col < 1 {
		return -1
	}
	off := d.lineStarts[line-1]
	for c := 1; c < col; c++ {
		if off >= len(d.Text) || lineBreak(d.Text, off) > 0 {
			return -1
		}
		_, size := utf8.DecodeRune(d.Text[off:])
		off += size
	}
	return off
}

// lineBreak returns the length of the line break at t[i:], or 0. The YAML
// library breaks lines at LF, CRLF, a lone CR, and the Unicode NEL, LS and PS.
func lineBreak(t []byte, i int) int {
	switch {
	case t[i] == '\n':
		return 1
	case t[i] == '\r':
		if i+1 < len(t) && t[i+1] == '\n' {
			return 2
		}
		return 1
	case bytes.HasPrefix(t[i:], []byte("\u0085")):
		return 2
	case bytes.HasPrefix(t[i:], []byte("\u2028")), bytes.HasPrefix(t[i:], []byte("\u2029")):
		return 3
	}
	return 0
}

// eol is the document's line ending: its first line break.
func (d *Document) eol() string {
	for i := range d.Text {
		if n := lineBreak(d.Text, i); n > 0 {
			return string(d.Text[i : i+n])
		}
	}
	return "\n"
}

// indentStep guesses the document's indentation step from its first nested
// block mapping; 2 when there is none.
func (d *Document) indentStep() int {
	for i := 0; i+1 < len(d.Root.Content); i += 2 {
		k, v := d.Root.Content[i], d.Root.Content[i+1]
		if v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 && v.Content[0].Column > k.Column {
			return v.Content[0].Column - k.Column
		}
	}
	return 2
}

// skipProps moves past an anchor (&name) and, when tag is true, a tag
// (!!str), and the blanks after them.
func (d *Document) skipProps(off int, tag bool) int {
	t := d.Text
	for off < len(t) && (t[off] == '&' || (tag && t[off] == '!')) {
		for off < len(t) && t[off] != ' ' && t[off] != '\t' && t[off] != '\n' && t[off] != '\r' {
			off++
		}
		for off < len(t) && (t[off] == ' ' || t[off] == '\t') {
			off++
		}
	}
	return off
}

// scalarSpan returns the byte range [start, end) of scalar n's text,
// including its tag but not its anchor.
func (d *Document) scalarSpan(n *yaml.Node, inFlow bool) (start, end int, err error) {
	t := d.Text
	start = d.offset(n.Line, n.Column)
	if start < 0 {
		return 0, 0, fmt.Errorf("the value's position is outside the document")
	}
	start = d.skipProps(start, false)
	valueStart := d.skipProps(start, true)
	style := n.Style &^ yaml.TaggedStyle
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		for end = valueStart + 1; end < len(t); end++ {
			if t[end] == '\\' {
				end++
			} else if t[end] == '"' {
				return start, end + 1, nil
			}
		}
		return 0, 0, fmt.Errorf("the quoted value at line %d has no closing quote", n.Line)
	case style&yaml.SingleQuotedStyle != 0:
		for end = valueStart + 1; end < len(t); end++ {
			if t[end] == '\'' {
				if end+1 < len(t) && t[end+1] == '\'' {
					end++
					continue
				}
				return start, end + 1, nil
			}
		}
		return 0, 0, fmt.Errorf("the quoted value at line %d has no closing quote", n.Line)
	case style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return 0, 0, fmt.Errorf("the value at line %d is a block scalar (| or >)", n.Line)
	}
	end = valueStart
	for end < len(t) && lineBreak(t, end) == 0 {
		c := t[end]
		if c == '#' && end > valueStart && (t[end-1] == ' ' || t[end-1] == '\t') {
			break
		}
		if inFlow && (c == ',' || c == ']' || c == '}') {
			break
		}
		end++
	}
	for end > valueStart && (t[end-1] == ' ' || t[end-1] == '\t') {
		end--
	}
	raw := string(t[valueStart:end])
	if raw != n.Value && !(isNull(n) && (raw == "" || raw == "~" || strings.EqualFold(raw, "null"))) {
		return 0, 0, fmt.Errorf("the value at line %d spans several lines", n.Line)
	}
	return start, end, nil
}

// splice returns the text with [start, end) replaced by repl.
func (d *Document) splice(start, end int, repl string) []byte {
	out := make([]byte, 0, len(d.Text)-(end-start)+len(repl))
	out = append(out, d.Text[:start]...)
	out = append(out, repl...)
	return append(out, d.Text[end:]...)
}

// replaceScalar replaces the text of scalar n with rendered.
func (d *Document) replaceScalar(n *yaml.Node, rendered string, inFlow bool) ([]byte, error) {
	start, end, err := d.scalarSpan(n, inFlow)
	if err != nil {
		return nil, err
	}
	if start > 0 && d.Text[start-1] == ':' {
		rendered = " " + rendered // an empty value right after "key:"
	}
	return d.splice(start, end, rendered), nil
}

// emptyFlowCollection reports whether n is written "{}" or "[]" (no
// anchor, no tag), and where.
func (d *Document) emptyFlowCollection(n *yaml.Node) (int, bool) {
	if (n.Kind != yaml.MappingNode && n.Kind != yaml.SequenceNode) || len(n.Content) > 0 || n.Style&yaml.FlowStyle == 0 || n.Anchor != "" {
		return 0, false
	}
	off := d.offset(n.Line, n.Column)
	if off < 0 || off+2 > len(d.Text) {
		return 0, false
	}
	if t := string(d.Text[off : off+2]); t != "{}" && t != "[]" {
		return 0, false
	}
	return off, true
}

// replaceNull replaces the null value of key with a mapping holding keys.
func (d *Document) replaceNull(key, null *yaml.Node, keys Path, rendered string, inFlow bool) ([]byte, error) {
	start, end, err := d.scalarSpan(null, inFlow)
	if err != nil {
		return nil, err
	}
	if inFlow {
		repl := nestedFlow(keys, rendered)
		if start > 0 && d.Text[start-1] == ':' {
			repl = " " + repl
		}
		return d.splice(start, end, "{"+repl+"}"), nil
	}
	for start > 0 && (d.Text[start-1] == ' ' || d.Text[start-1] == '\t') {
		start-- // no trailing blank after "key:"
	}
	step := d.indentStep()
	block := nestedBlock(key.Column-1+step, step, keys, rendered, d.eol())
	return d.splice(start, end, d.eol()+strings.TrimSuffix(block, d.eol())), nil
}

// insert adds keys (nested mappings ending in the value) to mapping m, whose
// key is parentKey (nil for the top level).
func (d *Document) insert(m, parentKey *yaml.Node, keys Path, rendered string) ([]byte, error) {
	if m.Style&yaml.FlowStyle != 0 {
		pos := d.offset(m.Line, m.Column)
		if pos < 0 {
			return nil, fmt.Errorf("the mapping's position is outside the document")
		}
		pos = d.skipProps(pos, true)
		if pos >= len(d.Text) || d.Text[pos] != '{' {
			return nil, fmt.Errorf("the flow mapping at line %d does not start with {", m.Line)
		}
		repl := nestedFlow(keys, rendered)
		if len(m.Content) > 0 {
			repl += ", "
		}
		return d.splice(pos+1, pos+1, repl), nil
	}
	if len(m.Content) == 0 {
		return nil, fmt.Errorf("the mapping at line %d is empty", m.Line)
	}
	first := m.Content[0]
	step := d.indentStep()
	if parentKey != nil && first.Column > parentKey.Column {
		step = first.Column - parentKey.Column
	}
	eol := d.eol()
	block := nestedBlock(first.Column-1, step, keys, rendered, eol)
	if parentKey == nil {
		// Top level: append at the end of the document.
		if !bytes.HasSuffix(d.Text, []byte(eol)) {
			block = eol + block
		}
		return d.splice(len(d.Text), len(d.Text), block), nil
	}
	// Nested: the new key becomes the mapping's first, right under its parent.
	pos := d.offset(parentKey.Line+1, 1)
	if pos < 0 {
		return nil, fmt.Errorf("the line after %q (line %d) is outside the document", parentKey.Value, parentKey.Line)
	}
	return d.splice(pos, pos, block), nil
}

// nestedBlock writes keys as nested block mappings, the last holding value.
func nestedBlock(indent, step int, keys Path, rendered, eol string) string {
	var b strings.Builder
	for i, k := range keys {
		b.WriteString(strings.Repeat(" ", indent+i*step))
		b.WriteString(renderScalar(k))
		b.WriteByte(':')
		if i == len(keys)-1 {
			b.WriteByte(' ')
			b.WriteString(rendered)
		}
		b.WriteString(eol)
	}
	return b.String()
}

// nestedFlow writes keys as nested flow mappings without the outer braces.
func nestedFlow(keys Path, rendered string) string {
	s := rendered
	for i := len(keys) - 1; i >= 0; i-- {
		if i < len(keys)-1 {
			s = "{" + s + "}"
		}
		s = renderScalar(keys[i]) + ": " + s
	}
	return s
}

// renderScalar writes s as a plain scalar when that reads back as the same
// string, else double-quoted.
func renderScalar(s string) string {
	if plainSafe(s) {
		return s
	}
	return strconv.Quote(s)
}

func plainSafe(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			(i > 0 && (r == '.' || r == '_' || r == '-' || r == '/'))
		if !ok {
			return false
		}
	}
	var n yaml.Node
	return yaml.Unmarshal([]byte(s), &n) == nil && len(n.Content) == 1 && n.Content[0].Tag == "!!str"
}
