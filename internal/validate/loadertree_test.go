package validate

import (
	"reflect"
	"testing"

	yaml3 "gopkg.in/yaml.v3"
)

// treeAgrees parses text as ParseDocument does and, for both loaders,
// wherever configFromTree answers, checks that it built what the loader's
// YAML library decodes from the text. It returns the loaders it answered
// for.
func treeAgrees(t testing.TB, text []byte) []string {
	t.Helper()
	d := ParseDocument(text)
	var answered []string
	for _, schema := range []string{SchemaV3, SchemaV4} {
		got, ok := configFromTree(d, schema)
		if !ok {
			continue
		}
		want := map[string]any{}
		lib, err := "yaml.v2", error(nil)
		if schema == SchemaV4 {
			lib, err = "yaml.v3", yaml3.Unmarshal(text, &want)
		} else {
			err = unmarshalYAML2(text, &want)
		}
		if err != nil {
			t.Fatalf("configFromTree answered for %q, which %s cannot decode: %v", text, lib, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("configFromTree built\n%#v\n%s decodes\n%#v\nfrom %q", got, lib, want, text)
		}
		answered = append(answered, schema)
	}
	return answered
}

// TestConfigFromTree: on every test document and on scalars made to sit on
// the edges of the subset, the config built from the parsed tree is what
// the loaders' YAML libraries decode, or it is left to them; and it is
// built for the documents KubeSphere's installers render.
func TestConfigFromTree(t *testing.T) {
	answered := map[string]int{}
	for name, text := range testDocuments(t) {
		answered[name] = len(treeAgrees(t, text))
	}
	for _, want := range []string{"v3.4.1-member-rendered.yaml", "v3.4.1-host-rendered.yaml", "v3.0.0-member.yaml", "v4.1.3-member.yaml", "v4.1.3-host.yaml"} {
		if answered[want] != 2 {
			t.Errorf("configFromTree left %s to the YAML libraries", want)
		}
	}
	for _, tc := range []struct {
		name    string
		text    string
		answers bool
	}{
		{"strings, numbers, booleans, nulls", "a: x\nb: 10\nc: -3\nd: 0\ne: true\nf: False\ng: ~\nh:\ni: null\nj: '0123'\nk: \"yes\"\nl: /p\nm: 10m0s\no: 168h\n", true},
		{"lists and flow", "a: [x, 1, {b: c}]\nd:\n- e\n- {}\n", true},
		{"YAML 1.1 words", "a: yes\n", false},
		{"a YAML 1.1 word as a key", "on: 1\n", false},
		{"octal-looking", "a: 0123\n", false},
		{"a float", "a: 1.5\n", false},
		{"a timestamp", "a: 2001-12-14\n", false},
		{"an anchor", "a: &x 1\nb: *x\n", false},
		{"a merge", "a: {b: 1}\nc:\n  <<: {b: 2}\n", false},
		{"a tag", "a: !!str 1\n", false},
		{"a block scalar", "a: |\n  x\n", false},
		{"a tab", "a:\tx\n", false},
		{"CRLF", "a: x\r\nb: y\r\n", false},
		{"a document marker", "---\na: x\n", false},
		{"an integer key", "1: x\n", false},
		{"a null key", "~: x\n", false},
		{"duplicates", "a: 1\na: 2\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(treeAgrees(t, []byte(tc.text))) == 2; got != tc.answers {
				t.Errorf("answered = %v, want %v", got, tc.answers)
			}
		})
	}
}

// FuzzConfigFromTree: on any document, the config built from the parsed
// tree is what the loaders' YAML libraries decode, or it is left to them.
func FuzzConfigFromTree(f *testing.F) {
	addDocumentSeeds(f)
	f.Add("a: x\nb: [1, {c: d}]\ne: 10m0s\n")
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 1<<14 {
			return
		}
		treeAgrees(t, []byte(text))
	})
}
