package validate

import (
	"reflect"
	"testing"
)

// TestInsensitivise: keys are lower-cased at every depth, as viper's
// insensitiviseMap does after reading the file; of two keys that differ only
// by case, the one written with capitals wins whatever the map's order (in
// viper's loop the lower-case key is re-set with the value it holds when
// visited); maps inside lists are folded by v1.18 only.
func TestInsensitivise(t *testing.T) {
	for _, tc := range []struct {
		name   string
		flavor viperFlavor
		in     map[string]any
		want   map[string]any
	}{
		{"lower-case keys stay", viperV14,
			map[string]any{"a": 1, "b": map[string]any{"c": 2}},
			map[string]any{"a": 1, "b": map[string]any{"c": 2}}},
		{"capitals are folded at every depth", viperV14,
			map[string]any{"Authentication": map[any]any{"jwtSecret": "x", "Issuer": map[string]any{"accessTokenMaxAge": "0s"}}},
			map[string]any{"authentication": map[string]any{"jwtsecret": "x", "issuer": map[string]any{"accesstokenmaxage": "0s"}}}},
		{"the capitalised twin wins, before the lower-case one", viperV14,
			map[string]any{"jwtSecret": "capital", "jwtsecret": "lower"},
			map[string]any{"jwtsecret": "capital"}},
		{"the capitalised twin wins, after the lower-case one", viperV14,
			map[string]any{"jwtsecret": "lower", "JWTSECRET": "capital"},
			map[string]any{"jwtsecret": "capital"}},
		{"of two capitalised twins, the later in order wins", viperV14,
			map[string]any{"JwtSecret": "first", "jwtSecret": "second", "jwtsecret": "lower"},
			map[string]any{"jwtsecret": "second"}},
		{"a twin's map is folded too", viperV14,
			map[string]any{"Issuer": map[string]any{"MaxAge": "1h"}, "issuer": map[string]any{"maxage": "0s"}},
			map[string]any{"issuer": map[string]any{"maxage": "1h"}}},
		{"keys that cast alike: the string wins, in any map order", viperV14,
			map[string]any{"a": map[any]any{1: "int", "1": "string", true: "bool", "true": "string too", 2: "two"}},
			map[string]any{"a": map[string]any{"1": "string", "true": "string too", "2": "two"}}},
		{"v1.4 leaves maps in lists", viperV14,
			map[string]any{"List": []any{map[string]any{"Key": 1}}},
			map[string]any{"list": []any{map[string]any{"Key": 1}}}},
		{"v1.18 folds maps in lists", viperV118,
			map[string]any{"List": []any{map[string]any{"Key": 1}}},
			map[string]any{"list": []any{map[string]any{"key": 1}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 { // map order varies from run to run
				in := deepCopyConfig(tc.in)
				tc.flavor.insensitivise(in)
				if !reflect.DeepEqual(in, tc.want) {
					t.Fatalf("insensitivise:\n got  %#v\n want %#v", in, tc.want)
				}
			}
		})
	}
}

// deepCopyConfig copies the maps and lists of a decoded config.
func deepCopyConfig(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopyValue(v)
	}
	return out
}

func deepCopyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return deepCopyConfig(x)
	case map[any]any:
		out := make(map[any]any, len(x))
		for k, e := range x {
			out[k] = deepCopyValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopyValue(e)
		}
		return out
	}
	return v
}
