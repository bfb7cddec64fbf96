package policies_test

import (
	"context"
	"testing"

	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/policies"
)

// TestRego runs every Rego test (test_* rules in *_test.rego) as
// `ksguard test` runs them (validate.RunPolicyTests), so that `go test`
// fails when a policy test fails.
func TestRego(t *testing.T) {
	sources, err := validate.LoadSources(validate.PolicyModeAdditive, true)
	if err != nil {
		t.Fatal(err)
	}
	run, err := validate.RunPolicyTests(context.Background(), sources, validate.TestOptions{})
	if err != nil {
		t.Fatalf("running Rego tests: %v", err)
	}
	n := 0
	for r := range run.Results {
		n++
		name := r.Package + "." + r.Name
		t.Run(name, func(t *testing.T) {
			switch {
			case r.Error != nil:
				t.Errorf("%s (%s): error: %v", name, r.Location, r.Error)
			case r.Skip:
				t.Errorf("%s (%s) is marked skipped: a skipped test proves nothing", name, r.Location)
			case r.Fail:
				t.Errorf("%s (%s) failed", name, r.Location)
			}
		})
	}
	if n < 20 {
		t.Errorf("ran %d Rego tests; expected at least 20 (did the test files load?)", n)
	}
}

// TestEmbeddedPolicyCompiles checks that the embedded policies (without
// their tests) compile as the server loads them.
func TestEmbeddedPolicyCompiles(t *testing.T) {
	p, err := validate.LoadPolicy(context.Background(), policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Files() {
		if len(f) > 10 && f[len(f)-10:] == "_test.rego" {
			t.Errorf("test file %s was loaded into the serving policy", f)
		}
	}
}
