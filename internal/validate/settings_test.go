package validate

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
)

// TestSettingsInputMatchesJSON keeps the two forms of the settings in step:
// the structs (whose JSON names the README documents) and the maps the
// policy input is built from.
func TestSettingsInputMatchesJSON(t *testing.T) {
	fp, err := NewFingerprinter()
	if err != nil {
		t.Fatal(err)
	}
	s := ParseDocument([]byte(readTestdata(t, "documents/v4-legacy-secret-mismatch.yaml"))).Settings(fp)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON map[string]map[string]any
	if err := json.Unmarshal(b, &fromJSON); err != nil {
		t.Fatal(err)
	}
	in := s.input()
	for name, want := range fromJSON {
		got, ok := in[name].(map[string]any)
		if !ok {
			t.Fatalf("input has no %s", name)
		}
		if w, g := slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got)); !slices.Equal(w, g) {
			t.Errorf("%s: JSON fields %v, input fields %v", name, w, g)
		}
	}
	if len(in) != len(fromJSON) {
		t.Errorf("input has %d settings, JSON %d", len(in), len(fromJSON))
	}
}
