package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ksguard/ksguard/policies"
)

// schemaNode is the part of JSON Schema that policies/input.schema.json uses.
type schemaNode struct {
	Ref                  string                 `json:"$ref"`
	Nullable             bool                   `json:"nullable"`
	Type                 string                 `json:"type"`
	Enum                 []any                  `json:"enum"`
	Properties           map[string]*schemaNode `json:"properties"`
	Required             []string               `json:"required"`
	AdditionalProperties json.RawMessage        `json:"additionalProperties"`
	Items                *schemaNode            `json:"items"`
	AnyOf                []*schemaNode          `json:"anyOf"`
	Definitions          map[string]*schemaNode `json:"definitions"`
}

func readInputSchema(t *testing.T) *schemaNode {
	t.Helper()
	var root schemaNode
	if err := json.Unmarshal(policies.InputSchema, &root); err != nil {
		t.Fatalf("policies/input.schema.json: %v", err)
	}
	return &root
}

// schemaChecker validates values against the schema and records which
// properties some value had, so that a property no input carries is found.
type schemaChecker struct {
	root *schemaNode
	seen map[string]bool // "path" of each property met
}

func (c *schemaChecker) resolve(n *schemaNode) *schemaNode {
	for n.Ref != "" {
		n = c.root.Definitions[strings.TrimPrefix(n.Ref, "#/definitions/")]
	}
	return n
}

// check returns the first way v does not match n, at path.
func (c *schemaChecker) check(n *schemaNode, v any, path string) error {
	if n.Nullable && v == nil {
		return nil
	}
	n = c.resolve(n)
	if len(n.AnyOf) > 0 {
		var errs []string
		for _, alt := range n.AnyOf {
			err := c.check(alt, v, path)
			if err == nil {
				return nil
			}
			errs = append(errs, err.Error())
		}
		return fmt.Errorf("%s matches none of anyOf: %s", path, strings.Join(errs, "; "))
	}
	if len(n.Enum) > 0 && !slices.Contains(n.Enum, v) {
		return fmt.Errorf("%s = %v, not one of %v", path, v, n.Enum)
	}
	switch n.Type {
	case "":
		return nil // any value
	case "null":
		if v != nil {
			return fmt.Errorf("%s = %v, want null", path, v)
		}
	case "string", "boolean", "number", "integer":
		want := map[string]string{"string": "string", "boolean": "bool", "number": "json.Number", "integer": "json.Number"}[n.Type]
		if got := fmt.Sprintf("%T", v); got != want {
			return fmt.Errorf("%s is a %s, want %s", path, got, n.Type)
		}
		if n.Type == "integer" && strings.ContainsAny(string(v.(json.Number)), ".eE") {
			return fmt.Errorf("%s = %v, want an integer", path, v)
		}
	case "array":
		items, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s is a %T, want an array", path, v)
		}
		for i, it := range items {
			if err := c.check(n.Items, it, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s is a %T, want an object", path, v)
		}
		for _, r := range n.Required {
			if _, has := obj[r]; !has {
				return fmt.Errorf("%s has no %s, which the schema requires", path, r)
			}
		}
		for k, x := range obj {
			p := path + "." + k
			if prop, ok := n.Properties[k]; ok {
				c.seen[c.key(n, k)] = true
				if err := c.check(prop, x, p); err != nil {
					return err
				}
				continue
			}
			switch string(n.AdditionalProperties) {
			case "false":
				return fmt.Errorf("%s is in the input but not in the schema: add it to policies/input.schema.json and README.md", p)
			case "", "true":
			default:
				var extra schemaNode
				if err := json.Unmarshal(n.AdditionalProperties, &extra); err != nil {
					return err
				}
				if err := c.check(&extra, x, p); err != nil {
					return err
				}
			}
		}
	default:
		return fmt.Errorf("%s: the test does not know schema type %q", path, n.Type)
	}
	return nil
}

// key names property k of n by n's identity, so that a definition used in
// several places counts once.
func (c *schemaChecker) key(n *schemaNode, k string) string { return fmt.Sprintf("%p.%s", n, k) }

// properties lists every property of the schema, as keys of check.
func (c *schemaChecker) properties() map[string]string {
	out := map[string]string{}
	var walk func(n *schemaNode, path string)
	visited := map[*schemaNode]bool{}
	walk = func(n *schemaNode, path string) {
		n = c.resolve(n)
		if visited[n] {
			return
		}
		visited[n] = true
		for _, alt := range n.AnyOf {
			walk(alt, path)
		}
		if n.Items != nil {
			walk(n.Items, path+"[]")
		}
		for k, p := range n.Properties {
			out[c.key(n, k)] = path + "." + k
			walk(p, path+"."+k)
		}
	}
	walk(c.root, "input")
	return out
}

// TestInputSchema checks policies/input.schema.json against the code that
// builds the input: every input built from the test documents (CREATE,
// UPDATE, DELETE; host available or not; labels or none), as Rego sees it,
// matches the schema, and every property of the schema occurs in one of
// them; the Go types of the settings have exactly the schema's fields; and
// README.md's "The policy input" names every field.
func TestInputSchema(t *testing.T) {
	root := readInputSchema(t)
	c := &schemaChecker{root: root, seen: map[string]bool{}}
	files, err := filepath.Glob("testdata/documents/*.yaml")
	if err != nil || len(files) < 10 {
		t.Fatalf("test documents: %v (%d)", err, len(files))
	}
	e := newTestEvaluator(t)
	t.Run("inputs match the schema", func(t *testing.T) {
		for _, f := range files {
			doc, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cm := &ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kubesphere-system", Name: "kubesphere-config",
				Labels: map[string]string{"app": "ks"}, Annotations: map[string]string{"a": "b"}},
				Data: map[string]string{ConfigKey: string(doc)}}
			bare := &ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kubesphere-system", Name: "kubesphere-config"}, Data: map[string]string{"other": "x"}}
			for _, req := range []Request{
				{Operation: OperationCreate, Namespace: cm.Namespace, Name: cm.Name, Object: cm, Host: HostSecret{Value: []byte("h"), Source: "test"},
					User: UserInfo{Username: "u", Groups: []string{"g"}}},
				{Operation: OperationUpdate, Namespace: cm.Namespace, Name: cm.Name, Object: cm, OldObject: bare, Host: HostSecret{Problem: "none"}},
				{Operation: OperationDelete, Namespace: cm.Namespace, Name: cm.Name, OldObject: cm, DryRun: true},
			} {
				obj, old := e.objects(req)
				in, _ := e.input(req, obj, old)
				v, err := ast.InterfaceToValue(in)
				if err != nil {
					t.Fatal(err)
				}
				asRego, err := ast.JSON(v) // the input exactly as Rego sees it
				if err != nil {
					t.Fatal(err)
				}
				b, _ := json.Marshal(asRego)
				var generic any
				dec := json.NewDecoder(strings.NewReader(string(b)))
				dec.UseNumber()
				if err := dec.Decode(&generic); err != nil {
					t.Fatal(err)
				}
				if err := c.check(root, generic, "input"); err != nil {
					t.Errorf("%s, %s: %v", filepath.Base(f), req.Operation, err)
				}
			}
		}
		for key, path := range c.properties() {
			if !c.seen[key] {
				t.Errorf("%s is in the schema but in no input ksguard built: remove it from policies/input.schema.json (and README.md), or add a test document that has it", path)
			}
		}
	})
	t.Run("settings types", func(t *testing.T) {
		for _, tc := range []struct {
			def string
			typ reflect.Type
		}{
			{"settings", reflect.TypeOf(Settings{})},
			{"secretSetting", reflect.TypeOf(SecretSetting{})},
			{"durationSetting", reflect.TypeOf(DurationSetting{})},
		} {
			var fields []string
			for i := 0; i < tc.typ.NumField(); i++ {
				fields = append(fields, strings.Split(tc.typ.Field(i).Tag.Get("json"), ",")[0])
			}
			var props []string
			for k := range root.Definitions[tc.def].Properties {
				props = append(props, k)
			}
			sort.Strings(fields)
			sort.Strings(props)
			if !slices.Equal(fields, props) {
				t.Errorf("%s has JSON fields %v, the schema's %s has %v", tc.typ, fields, tc.def, props)
			}
			if req := slices.Sorted(slices.Values(root.Definitions[tc.def].Required)); !slices.Equal(req, props) {
				t.Errorf("the schema's %s requires %v, want every field %v", tc.def, req, props)
			}
		}
	})
	t.Run("README names every field", func(t *testing.T) {
		readme, err := os.ReadFile("../../README.md")
		if err != nil {
			t.Fatal(err)
		}
		text := string(readme)
		start := strings.Index(text, "### The policy input")
		end := strings.Index(text[start+1:], "\n### ")
		if start < 0 || end < 0 {
			t.Fatal("README.md has no section \"### The policy input\"")
		}
		section := text[start : start+1+end]
		for _, path := range c.properties() {
			name := path[strings.LastIndex(path, ".")+1:]
			if !regexp.MustCompile("`[^`\n]*\\b" + regexp.QuoteMeta(name) + "\\b[^`\n]*`").MatchString(section) {
				t.Errorf("README.md's \"The policy input\" does not name %s (%s)", name, path)
			}
		}
	})
}

// TestSchemaCatchesTypos: a reference to a field the input does not have
// fails to compile, naming the file and line; a reference into the
// document (any shape) compiles.
func TestSchemaCatchesTypos(t *testing.T) {
	embedded, err := EmbeddedModules(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, src string
		wantErr   []string
	}{
		{name: "typo in object", src: "package ksguard.admission\n\nviolation contains \"x\" if {\n\tcheckable\n\tinput.object.setings.jwtSecret.present\n}\n",
			wantErr: []string{"my/typo.rego:5", "undefined ref: input.object.setings.jwtSecret.present", `have: "setings"`}},
		{name: "typo in a setting", src: "package ksguard.admission\n\nadvice contains \"x\" if input.object.settings.accessTokenMaxAge.secconds > 0\n",
			wantErr: []string{"my/typo.rego:3", "undefined ref: input.object.settings.accessTokenMaxAge.secconds"}},
		{name: "wrong type", src: "package ksguard.admission\n\nadvice contains \"x\" if input.dryRun == \"yes\"\n",
			wantErr: []string{"my/typo.rego:3", "rego_type_error"}},
		{name: "the document is free-form", src: "package ksguard.admission\n\nadvice contains \"x\" if input.object.document.any.path.at.all == 1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mods, err := ComposeModules(PolicyModeAdditive, embedded, map[string]string{"my/typo.rego": tc.src})
			if err != nil {
				t.Fatal(err)
			}
			_, err = CompilePolicy(context.Background(), mods)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("compiled")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
