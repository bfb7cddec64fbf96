package validate

import (
	"context"
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestOptions choose which Rego tests run and what they record.
type TestOptions struct {
	// Run is a regular expression: only tests whose full name
	// (data.PACKAGE.test_NAME) matches it run. Empty runs every test.
	Run string
	// Trace records each test's evaluation trace (for a verbose report).
	Trace bool
	// Coverage records which lines the tests evaluate.
	Coverage bool
	// Timeout bounds each test (default 5s, as opa test).
	Timeout time.Duration
}

// TestRun is a set of Rego tests under way.
type TestRun struct {
	// Results delivers one result per test, then is closed.
	Results chan *tester.Result
	// Modules are the parsed modules, tests included (for coverage reports).
	Modules map[string]*ast.Module
	// Cover holds the coverage once Results is drained; nil without
	// TestOptions.Coverage.
	Cover *cover.Cover
}

// RunPolicyTests compiles sources (policies and their *_test.rego tests,
// composed as by ComposeModules) with the compiler ksguard serves with —
// Rego v1, the input schema, strict built-in errors — and runs their test_
// rules with OPA's tester. An error means the tests could not run (a module
// does not parse or compile: the message names the file and line).
func RunPolicyTests(ctx context.Context, sources map[string]string, o TestOptions) (*TestRun, error) {
	mods, err := ParseModules(sources)
	if err != nil {
		return nil, err
	}
	compiler, err := newCompiler()
	if err != nil {
		return nil, err
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	r := tester.NewRunner().
		SetCompiler(compiler.WithEnablePrintStatements(true)).
		SetModules(mods).
		SetDefaultRegoVersion(ast.RegoV1).
		CapturePrintOutput(true).
		EnableTracing(o.Trace).
		StackTraces(true).
		RaiseBuiltinErrors(true).
		SetTimeout(timeout).
		Filter(o.Run)
	run := &TestRun{Modules: mods}
	if o.Coverage {
		run.Cover = cover.New()
		r = r.SetCoverageQueryTracer(run.Cover)
	}
	ch, err := r.RunTests(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("compiling the policies and their tests: %w", err)
	}
	run.Results = ch
	return run, nil
}
