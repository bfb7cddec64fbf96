package policies_test

import (
	"context"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/policies"
)

// TestRego runs every Rego test (test_* rules in *_test.rego) with OPA's
// tester, so that `go test` fails when a policy test fails.
func TestRego(t *testing.T) {
	ctx := context.Background()
	sources, err := validate.ReadModulesWithTests(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	modules := map[string]*ast.Module{}
	for name, src := range sources {
		m, err := ast.ParseModuleWithOpts(name, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatalf("parsing %s: %v", name, err)
		}
		modules[name] = m
	}
	ch, err := tester.NewRunner().SetModules(modules).EnableTracing(false).RaiseBuiltinErrors(true).Run(ctx, modules)
	if err != nil {
		t.Fatalf("running Rego tests: %v", err)
	}
	n := 0
	for r := range ch {
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
