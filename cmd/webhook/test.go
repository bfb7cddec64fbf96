package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/ksguard/ksguard/internal/validate"
)

// Exit statuses of ksguard test, as opa test's.
const (
	testPassed = 0 // every test passed (and coverage reached the threshold)
	testError  = 1 // the tests could not run: a bad flag, a file that does not compile
	testFailed = 2 // a test failed or errored, or coverage is below --threshold
)

const testUsage = `Usage:
  ksguard test [-v] [--run REGEX] [--coverage [--threshold PCT]] [-o pretty|json] [--policy-mode additive|replace] [DIR...]

Runs the Rego tests (test_ rules in *_test.rego) of the embedded policies
together with those of each DIR, composed and compiled as ksguard serve
composes and compiles --policy-dir (additive: DIR's files join the embedded
ones, so the built-in tests also prove your rules keep the built-in
guarantees; replace: DIR's files alone).
Exit status (as opa test): 0 passed, 1 the tests could not run (the
compiler's message names the file and line), 2 a test failed or coverage is
below --threshold.

Flags:
`

func runTest(args []string, stdout, stderr io.Writer) int {
	var f testFlags
	flags := flag.NewFlagSet("ksguard test", flag.ContinueOnError)
	f.register(flags)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprint(stderr, testUsage)
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return testPassed
		}
		return testError
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "ksguard test: %v\n", err)
		return testError
	}
	code, err := runPolicyTests(context.Background(), &f, flags.Args(), stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ksguard test: %v\n", err)
	}
	return code
}

// runPolicyTests runs the tests and reports them in f.output.
func runPolicyTests(ctx context.Context, f *testFlags, dirs []string, stdout, stderr io.Writer) (int, error) {
	sources, err := validate.LoadSources(f.policyMode, true, dirs...)
	if err != nil {
		return testError, err
	}
	run, err := validate.RunPolicyTests(ctx, sources, validate.TestOptions{Run: f.run, Trace: f.verbose, Coverage: f.coverage})
	if err != nil {
		return testError, err
	}
	code, ran := testPassed, 0
	results := make(chan *tester.Result)
	go func() {
		defer close(results)
		for r := range run.Results {
			ran++
			if !r.Pass() {
				code = testFailed // a skipped test proves nothing: it fails too
			}
			results <- r
		}
	}()
	var reporter tester.Reporter = tester.PrettyReporter{Output: stdout, Verbose: f.verbose}
	if f.output == "json" {
		reporter = tester.JSONReporter{Output: stdout}
		if f.coverage {
			reporter = failuresOnly{stderr} // the coverage report is the output, as in opa test
		}
	}
	if err := reporter.Report(results); err != nil {
		return testError, fmt.Errorf("reporting the results: %w", err)
	}
	if ran == 0 {
		return testError, fmt.Errorf("no test matched --run %q", f.run)
	}
	if !f.coverage {
		return code, nil
	}
	report := run.Cover.Report(run.Modules)
	if err := writeCoverage(stdout, f.output, report); err != nil {
		return testError, err
	}
	if report.Coverage < f.threshold {
		return testFailed, fmt.Errorf("coverage %.2f%% is below --threshold %.2f%%: add tests for the lines listed as not covered", report.Coverage, f.threshold)
	}
	return code, nil
}

// writeCoverage prints the coverage report: opa's JSON, or one line per file.
func writeCoverage(w io.Writer, format string, report cover.Report) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return fmt.Errorf("encoding the coverage report: %w", err)
		}
		return nil
	}
	files := make([]string, 0, len(report.Files))
	for f := range report.Files {
		files = append(files, f)
	}
	sort.Strings(files)
	fmt.Fprintf(w, "\nCoverage: %.2f%% (%d lines covered, %d not)\n", report.Coverage, report.CoveredLines, report.NotCoveredLines)
	for _, f := range files {
		fr := report.Files[f]
		fmt.Fprintf(w, "  %6.2f%%  %s", fr.Coverage, f)
		for i, r := range fr.NotCovered {
			sep := ", "
			if i == 0 {
				sep = "  not covered: "
			}
			if r.Start.Row == r.End.Row {
				fmt.Fprintf(w, "%s%d", sep, r.Start.Row)
			} else {
				fmt.Fprintf(w, "%s%d-%d", sep, r.Start.Row, r.End.Row)
			}
		}
		fmt.Fprintln(w)
	}
	return nil
}

// failuresOnly reports the tests that did not pass, to w.
type failuresOnly struct{ w io.Writer }

func (r failuresOnly) Report(ch chan *tester.Result) error {
	for res := range ch {
		if !res.Pass() {
			fmt.Fprintln(r.w, res.String())
		}
	}
	return nil
}
