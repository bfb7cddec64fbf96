package validate

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// addDocumentSeeds adds every test document as a fuzz seed (beside the
// corpus checked in under testdata/fuzz).
func addDocumentSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/documents/*.yaml")
	for _, file := range files {
		f.Add(readTestdata(f, "documents/"+filepath.Base(file)))
	}
}

// FuzzParseDocument: any bytes parse without panicking; every finding has a
// kind and a message; settings can be read from any document.
func FuzzParseDocument(f *testing.F) {
	addDocumentSeeds(f)
	fp, _ := NewFingerprinter()
	f.Fuzz(func(t *testing.T, text string) {
		d := ParseDocument([]byte(text))
		for _, fd := range d.Findings {
			if fd.Kind == "" || fd.Message == "" {
				t.Fatalf("finding without kind or message: %+v", fd)
			}
		}
		if d.Root != nil && d.Root.Kind != yaml.MappingNode {
			t.Fatalf("Root is a %v, not a mapping", d.Root.Kind)
		}
		_ = d.Settings(fp)
		_ = RedactDocument([]byte(text))
	})
}

// FuzzSet: setting accessTokenMaxAge in any document either fails with an
// *EditError or yields a document that reads back with the value set and
// everything else equal (Set verifies that; this checks it again from
// outside, through the settings view).
func FuzzSet(f *testing.F) {
	addDocumentSeeds(f)
	fp, _ := NewFingerprinter()
	f.Fuzz(func(t *testing.T, text string) {
		d := ParseDocument([]byte(text))
		if d.Root == nil || len(d.Findings) > 0 {
			return
		}
		path := PathV3AccessTokenMaxAge
		if d.Schema == SchemaV4 {
			path = PathV4AccessTokenMaxAge
		}
		out, err := d.Set(path, "0s")
		if err != nil {
			if _, ok := err.(*EditError); !ok {
				t.Fatalf("Set returned %T, want *EditError: %v", err, err)
			}
			return
		}
		again := ParseDocument(out)
		if again.Root == nil {
			t.Fatalf("edited document does not parse: %q", out)
		}
		if s := again.Settings(fp).AccessTokenMaxAge; d.Schema != SchemaUnknown && (!s.Zero || s.Raw != "0s") {
			t.Fatalf("after Set, accessTokenMaxAge = %+v in %q", s, out)
		}
	})
}

// FuzzDecide: a whole decision on any document never panics, never returns
// an error with the default policy, and no message holds the secrets.
func FuzzDecide(f *testing.F) {
	addDocumentSeeds(f)
	ev := newTestEvaluator(f)
	f.Fuzz(func(t *testing.T, text string) {
		d, err := ev.Decide(context.Background(), updateRequest(text, hostSecret))
		if err != nil {
			t.Fatalf("Decide: %v", err)
		}
		for _, m := range append(d.Denials, d.Warnings...) {
			if strings.Contains(m, hostSecret) {
				t.Fatalf("message holds the host secret: %q", m)
			}
		}
		if d.Allowed && d.Document != nil {
			if again := ParseDocument(d.Document); again.Root == nil {
				t.Fatalf("allowed edit yields an unreadable document: %q", d.Document)
			}
		}
	})
}
