package validate

import (
	"fmt"
	"testing"

	yaml3 "gopkg.in/yaml.v3"
)

// fastAgrees reads text as schema's loader does up to viper's settings and
// decodes them both ways. Wherever decodeFast answers, mapstructure must
// decode without error and to the same values; it returns whether
// decodeFast answered.
func fastAgrees(t testing.TB, schema string, text []byte) bool {
	t.Helper()
	plainAgrees(t, schema, text)
	treeAgrees(t, text)
	r := settingsAsKubeSphere(schema, text, nil)
	if r.err != nil {
		return false
	}
	return settingsAgree(t, schema, r.settings)
}

// plainAgrees reads text as schema's loader does up to viper's
// insensitivise and, where plainSettings answers, checks that it gives
// what allSettings gives.
func plainAgrees(t testing.TB, schema string, text []byte) {
	t.Helper()
	config := map[string]any{}
	flavor := viperV14
	var err error
	if schema == SchemaV4 {
		flavor = viperV118
		err = yaml3.Unmarshal(text, &config)
	} else {
		err = unmarshalYAML2(text, &config)
	}
	if err != nil {
		return
	}
	flavor.insensitivise(config)
	plain, ok := plainSettings(config)
	if !ok {
		return
	}
	if all := flavor.allSettings(config); !sameSettings(plain, all) {
		t.Fatalf("%s: plainSettings %v, allSettings %v", schema, plain, all)
	}
}

// sameSettings compares settings by their Go syntax, types included (maps
// print sorted), so that a NaN equals itself.
func sameSettings(a, b map[string]any) bool { return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b) }

// TestPlainSettings: where plainSettings answers, it is allSettings, for
// both viper versions, on configs made to sit on its edges.
func TestPlainSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		config  map[string]any
		answers bool
	}{
		{"nested, with a null and an empty mapping", map[string]any{"a": map[string]any{"b": 1, "c": nil, "d": map[string]any{}, "e": map[string]any{"f": nil}}, "g": []any{map[any]any{"X": 1}, nil}}, true},
		{"a dotted key", map[string]any{"a.b": 1}, false},
		{"a dotted key below", map[string]any{"a": map[string]any{"b.c": 1}}, false},
		{"an empty key", map[string]any{"": 1}, false},
		{"a mapping with other keys", map[string]any{"a": map[any]any{1: 2}}, false},
		{"nothing", map[string]any{}, true},
	} {
		for _, flavor := range []viperFlavor{viperV14, viperV118} {
			t.Run(tc.name, func(t *testing.T) {
				plain, ok := plainSettings(tc.config)
				if ok != tc.answers {
					t.Fatalf("answered = %v, want %v", ok, tc.answers)
				}
				if all := flavor.allSettings(tc.config); ok && !sameSettings(plain, all) {
					t.Errorf("plainSettings %v, allSettings %v", plain, all)
				}
			})
		}
	}
}

func settingsAgree(t testing.TB, schema string, settings map[string]any) bool {
	t.Helper()
	fast, ok := decodeFast(schema, settings)
	if !ok {
		return false
	}
	slow, err := decodeSlow(schema, settings)
	if err != nil {
		t.Fatalf("%s: decodeFast answered where mapstructure fails (%s); settings %v", schema, err.message, settings)
	}
	if fast != slow {
		t.Fatalf("%s: decodeFast read %+v, mapstructure %+v; settings %v", schema, fast, slow, settings)
	}
	return true
}

// TestDecodeFastAgreesWithMapstructure: on every test document, for both
// loaders, and on settings made to sit on each edge of what decodeFast
// takes, it answers as mapstructure does or leaves the decoding to it; and
// it answers for the documents KubeSphere's installers render (else it
// would speed nothing up).
func TestDecodeFastAgreesWithMapstructure(t *testing.T) {
	t.Run("documents", func(t *testing.T) {
		docs := testDocuments(t)
		answered := map[string]bool{}
		for name, text := range docs {
			for _, schema := range []string{SchemaV3, SchemaV4} {
				if fastAgrees(t, schema, text) {
					answered[schema+"/"+name] = true
				}
			}
		}
		for _, want := range []string{"v3/v3.4.1-member-rendered.yaml", "v3/v3.4.1-host-rendered.yaml", "v3/v3.0.0-member.yaml",
			"v3/v3.3.2-member-custom-oauth.yaml", "v4/v4.1.3-member.yaml", "v4/v4.1.3-host.yaml"} {
			if !answered[want] {
				t.Errorf("decodeFast left %s to mapstructure", want)
			}
		}
		t.Logf("decodeFast answered %d of %d readings", len(answered), 2*len(docs))
	})

	clients := func(c ...any) map[string]any {
		return map[string]any{"authentication": map[string]any{"jwtsecret": "s", "oauthoptions": map[string]any{"clients": c}}}
	}
	for _, tc := range []struct {
		name     string
		schema   string
		settings map[string]any
		answers  bool
	}{
		{"nothing set", SchemaV3, map[string]any{}, true},
		{"other sections only", SchemaV3, map[string]any{"network": map[string]any{"x": 1}}, true},
		{"durations as strings and ints", SchemaV3, map[string]any{"authentication": map[string]any{
			"maximumclockskew": 7, "oauthoptions": map[string]any{"accesstokenmaxage": "1h30m"}}}, true},
		{"a duration that does not parse", SchemaV3, map[string]any{"authentication": map[string]any{"oauthoptions": map[string]any{"accesstokenmaxage": "2 h"}}}, false},
		{"an empty duration", SchemaV3, map[string]any{"authentication": map[string]any{"maximumclockskew": ""}}, false},
		{"a float duration (weak)", SchemaV3, map[string]any{"authentication": map[string]any{"maximumclockskew": 1.5}}, false},
		{"an int secret (weak)", SchemaV3, map[string]any{"authentication": map[string]any{"jwtsecret": 123}}, false},
		{"a bool secret (weak)", SchemaV4, map[string]any{"authentication": map[string]any{"issuer": map[string]any{"jwtsecret": true}}}, false},
		{"a string bool (weak)", SchemaV3, map[string]any{"authentication": map[string]any{"multiplelogin": "true"}}, false},
		{"authentication not a mapping", SchemaV3, map[string]any{"authentication": "x"}, false},
		{"oauthOptions null", SchemaV3, map[string]any{"authentication": map[string]any{"oauthoptions": nil}}, false},
		{"clients as mappings", SchemaV3, clients(map[any]any{"name": "ks", "secret": "x", "redirectURIs": []any{"*"}}), true},
		{"client keys that fold to one field", SchemaV3, clients(map[any]any{"name": "a", "Name": "b"}), false},
		{"a client key that is not a string", SchemaV3, clients(map[any]any{1: "a"}), false},
		{"redirectURIs as one string (the hook splits it)", SchemaV3, clients(map[any]any{"redirectURIs": "a,b"}), false},
		{"a client's own accessTokenMaxAge (a pointer)", SchemaV3, clients(map[any]any{"accessTokenMaxAge": "1h"}), false},
		{"a null client", SchemaV3, clients(nil), false},
		{"identity provider options", SchemaV3, map[string]any{"authentication": map[string]any{"oauthoptions": map[string]any{
			"identityproviders": []any{map[string]any{"name": "ldap", "provider": map[string]any{"host": "x", "port": 389}}}}}}, true},
		{"identity provider options with non-string keys", SchemaV3, map[string]any{"authentication": map[string]any{"oauthoptions": map[string]any{
			"identityproviders": []any{map[string]any{"provider": map[any]any{1: "x"}}}}}}, false},
		{"v4 issuer", SchemaV4, map[string]any{"authentication": map[string]any{"issuer": map[string]any{
			"jwtsecret": "s", "accesstokenmaxage": 0, "maximumclockskew": "20s", "url": "http://ks"}}}, true},
		{"v4 without issuer", SchemaV4, map[string]any{"authentication": map[string]any{"multiplelogin": false}}, true},
		{"unknown keys are ignored", SchemaV4, map[string]any{"authentication": map[string]any{"whatever": []any{1, nil}}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := settingsAgree(t, tc.schema, tc.settings); got != tc.answers {
				t.Errorf("decodeFast answered = %v, want %v", got, tc.answers)
			}
		})
	}
}

// FuzzDecodeFast: on any document, for both loaders, decodeFast answers as
// mapstructure does or leaves the decoding to it.
func FuzzDecodeFast(f *testing.F) {
	addDocumentSeeds(f)
	f.Add("authentication:\n  maximumClockSkew: 7\n  oauthOptions:\n    accessTokenMaxAge: 1h\n    clients:\n    - {name: a, redirectURIs: [x]}\n")
	fp, err := NewFingerprinter()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 1<<14 {
			return // keep each run small
		}
		// As viewObject: a document that expands through its aliases beyond
		// the budget is a finding, and never read through the loader.
		if d := ParseDocument([]byte(text)); d.Root != nil {
			c := converter{fp: fp, budget: expansionBudget(d.Text)}
			if _, ok := c.value(d.Root, false); !ok {
				return
			}
		}
		for _, schema := range []string{SchemaV3, SchemaV4} {
			fastAgrees(t, schema, []byte(text))
		}
	})
}
