package validate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// ConfigKey is the data key of the guarded ConfigMap that holds the document.
const ConfigKey = "kubesphere.yaml"

// MaxDocumentBytes is the largest kubesphere.yaml ksguard reads. The API
// server stores at most 1 MiB per ConfigMap, so nothing legitimate is larger.
const MaxDocumentBytes = 1 << 20

// Schema values: which KubeSphere configuration layout a document uses.
const (
	SchemaV3      = "v3"
	SchemaV4      = "v4"
	SchemaUnknown = "unknown"
)

// Document is a parsed kubesphere.yaml: the YAML node tree (positions,
// comments and key order intact), the text it came from, and what the parser
// found suspicious.
type Document struct {
	// Text is the document as stored in the ConfigMap.
	Text []byte
	// Root is the top-level mapping, or nil when the document is empty or
	// could not be read.
	Root *yaml.Node
	// Findings lists what makes the document ambiguous or unreadable.
	Findings []Finding
	// Schema is SchemaV3, SchemaV4 or SchemaUnknown.
	Schema string

	lineStarts []int // byte offset of each line's first byte
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): `)

// ParseDocument parses text, a kubesphere.yaml document. It never fails: a
// document that cannot be read comes back with a finding that says why and a
// nil Root.
func ParseDocument(text []byte) *Document {
	d := &Document{Text: text, Schema: SchemaUnknown}
	if len(text) > MaxDocumentBytes {
		d.addFinding(FindingTooLarge, nil, 0,
			"%s is %d bytes, more than the %d ksguard reads: the API server cannot store it either; remove what does not belong in kubesphere-config",
			ConfigKey, len(text), MaxDocumentBytes)
		return d
	}
	dec := yaml.NewDecoder(bytes.NewReader(text))
	var top yaml.Node
	if err := dec.Decode(&top); err != nil {
		if errors.Is(err, io.EOF) {
			return d // empty document: every setting is absent
		}
		d.addYAMLError(err)
		return d
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		d.addFinding(FindingMultipleDocuments, nil, next.Line,
			"%s holds more than one YAML document (the second starts at line %d); ks-apiserver reads only the first: remove the extra '---' and what follows it",
			ConfigKey, next.Line)
	case !errors.Is(err, io.EOF):
		d.addYAMLError(err)
		return d
	}
	root, _ := resolve(&top)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root, _ = resolve(root.Content[0])
	}
	if isNull(root) {
		return d
	}
	if root.Kind != yaml.MappingNode {
		d.addFinding(FindingNotAMapping, nil, root.Line,
			"%s must be a YAML mapping (authentication:, multicluster:, ...), not a %s (line %d)",
			ConfigKey, kindName(root), root.Line)
		return d
	}
	d.Root = root
	d.checkDuplicates(root, nil)
	d.Schema = d.detectSchema()
	d.checkSchemaHybrid()
	d.checkDottedKeys(root, nil, map[*yaml.Node]bool{})
	d.checkGuardedPaths()
	return d
}

// addYAMLError records a YAML syntax error. The library's messages name the
// problem and the line, never the document's content; for an error inside a
// flow collection the line it names can be the one before, hence "around".
func (d *Document) addYAMLError(err error) {
	msg := err.Error()
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.TrimPrefix(msg, m[0])
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if line > 0 {
		d.addFinding(FindingInvalidYAML, nil, line,
			"%s is not valid YAML, around line %d: %s; fix the document (yamllint shows the spot)",
			ConfigKey, line, msg)
		return
	}
	d.addFinding(FindingInvalidYAML, nil, 0, "%s is not valid YAML: %s; fix the document", ConfigKey, msg)
}

func (d *Document) addFinding(kind string, path Path, line int, format string, args ...any) {
	d.Findings = append(d.Findings, Finding{Kind: kind, Path: path.String(), Line: line, Message: fmt.Sprintf(format, args...)})
}

// checkDuplicates reports keys written twice in one mapping, anywhere in the
// document. Aliased subtrees are checked where they are defined.
func (d *Document) checkDuplicates(n *yaml.Node, path Path) {
	switch n.Kind {
	case yaml.MappingNode:
		var seen map[string]*yaml.Node // only for large mappings
		if len(n.Content) > 32 {
			seen = make(map[string]*yaml.Node, len(n.Content)/2)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode && !isMergeKey(k) {
				if p := earlierKey(n, i, seen); p != nil {
					d.addFinding(FindingDuplicateKey, append(path[:len(path):len(path)], k.Value), k.Line,
						"key %q appears twice in %s (lines %d and %d); KubeSphere v3 keeps the last and v4 refuses to start: keep one",
						k.Value, where(path), p.Line, k.Line)
				}
			}
			d.checkDuplicates(n.Content[i+1], append(path[:len(path):len(path)], k.Value))
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			d.checkDuplicates(c, append(path[:len(path):len(path)], strconv.Itoa(i)))
		}
	}
}

// earlierKey returns the key before index i of mapping m that equals m's
// i-th key, or nil. seen, when not nil, indexes the keys before i.
func earlierKey(m *yaml.Node, i int, seen map[string]*yaml.Node) *yaml.Node {
	k := m.Content[i]
	if seen != nil {
		p := seen[k.Value]
		if p == nil {
			seen[k.Value] = k
		}
		return p
	}
	for j := 0; j < i; j += 2 {
		if p := m.Content[j]; p.Kind == yaml.ScalarNode && p.Value == k.Value {
			return p
		}
	}
	return nil
}

// where names a mapping in messages.
func where(path Path) string {
	if len(path) == 0 {
		return "the top level"
	}
	return path.String()
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar (" + strings.TrimPrefix(n.Tag, "!!") + ")"
	}
	return "node"
}

// detectSchema tells v4 (authentication has an issuer key) from v3 (an
// authentication section without one). An issuer that is null or not a
// mapping still makes the document v4: KubeSphere v4 reads an empty
// jwtSecret from it, which the policy refuses, where v3 rules would look
// for authentication.jwtSecret instead.
func (d *Document) detectSchema() string {
	auth, ok := lookup(d.Root, "authentication")
	if !ok || auth.value.Kind != yaml.MappingNode {
		return SchemaUnknown
	}
	if _, ok := lookup(auth.value, "issuer"); ok {
		return SchemaV4
	}
	return SchemaV3
}
