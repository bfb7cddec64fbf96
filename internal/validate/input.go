package validate

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	yaml "go.yaml.in/yaml/v3"
)

// expansionBudget bounds how many nodes a document may expand to when its
// aliases are followed: a document without aliases has fewer nodes than
// bytes, so more than that (plus a margin) is an alias bomb, a finding and
// not an input. The bound keeps a decision's cost linear in the request size.
func expansionBudget(text []byte) int { return len(text) + 1024 }

// LastAppliedAnnotation holds a copy of the whole object, secrets included.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// secretKey reports whether a mapping key names a jwtSecret (in any case).
func secretKey(k string) bool { return strings.EqualFold(k, "jwtSecret") }

// converter turns a node tree into OPA values for the policy input, built
// directly (no reflection, no JSON round trip). Every jwtSecret value becomes
// its fingerprint; its text is kept (unexported) so that output can be
// searched for it and redacted.
type converter struct {
	fp      *Fingerprinter
	budget  int
	secrets []string
}

func (c *converter) value(n *yaml.Node, underSecretKey bool) (*ast.Term, bool) {
	if c.budget--; c.budget < 0 {
		return nil, false
	}
	n, _ = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := ast.NewObject()
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if isMergeKey(k) {
				merges = append(merges, v)
				continue
			}
			val, ok := c.value(v, secretKey(k.Value))
			if !ok {
				return nil, false
			}
			m.Insert(ast.StringTerm(k.Value), val) // later keys win, as in ks-apiserver
		}
		for _, v := range merges {
			if !c.merge(m, v) {
				return nil, false
			}
		}
		return ast.NewTerm(m), true
	case yaml.SequenceNode:
		items := make([]*ast.Term, 0, len(n.Content))
		for _, item := range n.Content {
			val, ok := c.value(item, false)
			if !ok {
				return nil, false
			}
			items = append(items, val)
		}
		return ast.ArrayTerm(items...), true
	case yaml.ScalarNode:
		if underSecretKey {
			c.secrets = append(c.secrets, n.Value)
			return ast.StringTerm(c.fp.Sum([]byte(n.Value))), true
		}
		return scalarTerm(n), true
	}
	return ast.NullTerm(), true
}

// merge adds the keys of a "<<" value to m where m does not set them.
func (c *converter) merge(m ast.Object, v *yaml.Node) bool {
	v, _ = resolve(v)
	sources := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		sources = v.Content
	}
	for _, src := range sources {
		val, ok := c.value(src, false)
		if !ok {
			return false
		}
		if mm, isMap := val.Value.(ast.Object); isMap {
			mm.Foreach(func(k, x *ast.Term) {
				if m.Get(k) == nil {
					m.Insert(k, x)
				}
			})
		}
	}
	return true
}

// scalarTerm decodes a scalar: strings, bools, null, and numbers (their text
// when they are not JSON numbers, such as .inf or 0x1F).
func scalarTerm(n *yaml.Node) *ast.Term {
	switch n.Tag {
	case "!!null":
		return ast.NullTerm()
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return ast.BooleanTerm(b)
		}
	case "!!int", "!!float":
		var v any
		if n.Decode(&v) == nil {
			switch x := v.(type) {
			case int:
				return ast.IntNumberTerm(x)
			case int64:
				return ast.NumberTerm(json.Number(strconv.FormatInt(x, 10)))
			case uint64:
				return ast.NumberTerm(json.Number(strconv.FormatUint(x, 10)))
			case float64:
				if !math.IsNaN(x) && !math.IsInf(x, 0) {
					return ast.FloatNumberTerm(x)
				}
			}
		}
	}
	return ast.StringTerm(n.Value)
}

// objectView is what the policy sees of one ConfigMap.
// A view is read-only once made: the Evaluator's cache shares it between
// decisions.
type objectView struct {
	input    any       // the policy input for the object: OPA's value, converted once (the Go map if it cannot be)
	doc      *Document // nil when the ConfigMap has no kubesphere.yaml
	secrets  []string  // jwtSecret values found in the document
	quoted   []string  // the writer's text the input carries verbatim (quotedTexts)
	settings Settings  // the guarded settings, when the document has a mapping
	key      digest    // the view's cache key, when cached
	cached   bool
}

// viewObject parses a ConfigMap's document and builds its policy input.
func viewObject(cm *ConfigMap, fp *Fingerprinter) *objectView {
	if cm == nil {
		return nil
	}
	v := &objectView{}
	var findings []Finding
	dataKeys := make([]string, 0, len(cm.Data)+len(cm.BinaryData))
	for k := range cm.Data {
		dataKeys = append(dataKeys, k)
	}
	for k := range cm.BinaryData {
		dataKeys = append(dataKeys, k)
	}
	sort.Strings(dataKeys)
	for _, k := range dataKeys {
		if shadowingKey(k) {
			findings = append(findings, Finding{Kind: FindingShadowingDataKey, Path: k, Message: shadowingMessage(k)})
		}
	}
	schema := SchemaUnknown
	var document any
	var settings any
	readable := false
	text, hasDoc := cm.Data[ConfigKey]
	if !hasDoc {
		findings = append(findings, Finding{Kind: FindingMissingDocument, Path: ConfigKey,
			Message: "the ConfigMap has no " + ConfigKey + " data key: ks-apiserver reads its configuration from it; put the configuration there"})
	} else {
		d := ParseDocument([]byte(text))
		v.doc = d
		schema = d.Schema
		findings = append(findings, d.Findings...)
		if d.Root != nil {
			c := converter{fp: fp, budget: expansionBudget(d.Text)}
			val, ok := c.value(d.Root, false)
			if ok {
				document = val.Value
			} else {
				findings = append(findings, Finding{Kind: FindingExcessiveAliasing, Message: ConfigKey +
					" expands through its aliases to more nodes than it has bytes (an alias bomb?); write the configuration out without anchors (&) and aliases (*)"})
			}
			v.secrets = c.secrets
		}
		// An empty document is readable (every setting absent); one with a
		// syntax error, or that is not a mapping, is not.
		readable = d.Root != nil || len(d.Findings) == 0
		s := d.Settings(fp)
		v.settings = s
		if document != nil { // not for an alias bomb
			findings = append(findings, d.checkLoader(s, fp)...)
		}
		settings = s.input()
	}
	annotations := annotationsView(cm.Annotations, v.secrets)
	v.quoted = quotedTexts(v.settings, findings, annotations)
	findingsIn := make([]any, len(findings))
	for i, f := range findings {
		findingsIn[i] = map[string]any{"kind": f.Kind, "path": f.Path, "line": f.Line, "message": f.Message}
	}
	in := map[string]any{
		"name":        cm.Name,
		"namespace":   cm.Namespace,
		"annotations": annotations,
		"labels":      cm.Labels,
		"dataKeys":    dataKeys,
		"schema":      schema,
		"readable":    readable,
		"document":    document,
		"settings":    settings,
		"findings":    findingsIn,
	}
	v.input = in
	if val, err := ast.InterfaceToValue(in); err == nil {
		v.input = val
	}
	return v
}

// shadowingKey reports whether ks-apiserver's viper may read data key k
// instead of kubesphere.yaml: the same base name with another extension viper
// understands (it tries json and toml before yaml).
func shadowingKey(k string) bool {
	base, ext, ok := strings.Cut(k, ".")
	if !ok || base != "kubesphere" || k == ConfigKey {
		return false
	}
	switch strings.ToLower(ext) {
	case "json", "toml", "yml", "yaml", "properties", "props", "prop", "hcl", "tfvars", "dotenv", "env", "ini":
		return true
	}
	return false
}

func shadowingMessage(k string) string {
	return "data key " + k + " sits beside " + ConfigKey + ": ks-apiserver may read it instead, so what ksguard checks is not what runs; move its settings into " + ConfigKey + " and remove " + k
}

// annotationsView copies annotations for the policy input, leaving out values
// that hold the object itself (last-applied-configuration) or a secret.
func annotationsView(a map[string]string, secrets []string) map[string]string {
	out := make(map[string]string, len(a))
	for k, v := range a {
		if k == LastAppliedAnnotation || containsAny(v, secrets) {
			v = "(omitted by ksguard: holds a secret)"
		}
		out[k] = v
	}
	return out
}

// containsAny reports whether s contains one of the non-empty needles.
func containsAny(s string, needles []string) bool {
	for _, n := range needles {
		if n != "" && strings.Contains(s, n) {
			return true
		}
	}
	return false
}
