package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/ksguard/ksguard/internal/validate"
)

const verifyUsage = `Usage:
  ksguard verify [--run REGEX] [-o pretty|json|junit] SUITE.yaml...

Judges every case of each suite exactly as the webhook does (the same
evaluation as ksguard eval) and checks what the case expects: allowed or
denied, one regular expression per denial and per warning, values of the
resulting kubesphere.yaml, and that no other line changed. The suite's
format is in README.md ("ksguard verify"); examples/my-policies/suite.yaml
is one.
Exit status: 0 every case passed, 1 a case failed, 2 a suite could not be
read or a case could not be judged.

Flags:
`

// caseResult is the outcome of one case.
type caseResult struct {
	Suite    string   `json:"suite"`
	Case     string   `json:"case"`
	Pass     bool     `json:"pass"`
	Failures []string `json:"failures,omitempty"`
}

func runVerify(args []string, stdout, stderr io.Writer) int {
	var f verifyFlags
	flags := flag.NewFlagSet("ksguard verify", flag.ContinueOnError)
	f.register(flags)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprint(stderr, verifyUsage)
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitAllowed
		}
		return exitError
	}
	run, err := f.check(flags.NArg())
	if err != nil {
		fmt.Fprintf(stderr, "ksguard verify: %v\n", err)
		return exitError
	}
	results, err := verifySuites(context.Background(), flags.Args(), run)
	if err != nil {
		fmt.Fprintf(stderr, "ksguard verify: %v\n", err)
		return exitError
	}
	if len(results) == 0 {
		fmt.Fprintf(stderr, "ksguard verify: no case matched --run %q\n", f.run)
		return exitError
	}
	if err := writeVerify(stdout, f.output, results); err != nil {
		fmt.Fprintf(stderr, "ksguard verify: %v\n", err)
		return exitError
	}
	for _, r := range results {
		if !r.Pass {
			return exitDenied
		}
	}
	return exitAllowed
}

// verifySuites reads the suites and judges their cases whose SUITE/CASE
// name run matches (every case when run is nil).
func verifySuites(ctx context.Context, files []string, run *regexp.Regexp) ([]caseResult, error) {
	fp, err := validate.NewFingerprinter()
	if err != nil {
		return nil, err
	}
	compiled := map[[2]string]*validate.Policy{} // by policy directory and mode
	var results []caseResult
	for _, file := range files {
		s, err := readSuite(file)
		if err != nil {
			return nil, err
		}
		for i := range s.Cases {
			c := &s.Cases[i]
			if run != nil && !run.MatchString(s.Name+"/"+c.Name) {
				continue
			}
			r, err := s.judge(ctx, c, fp, compiled)
			if err != nil {
				return nil, fmt.Errorf("suite %s, case %q: %w", file, c.Name, err)
			}
			results = append(results, r)
		}
	}
	return results, nil
}

// judge decides one case and checks its expectations.
func (s *suite) judge(ctx context.Context, c *suiteCase, fp *validate.Fingerprinter, compiled map[[2]string]*validate.Policy) (caseResult, error) {
	r := caseResult{Suite: s.Name, Case: c.Name}
	cs := s.settings(c)
	if !slices.Contains(validate.PolicyModes, cs.PolicyMode) {
		return r, fmt.Errorf("policyMode must be %s, not %q", strings.Join(validate.PolicyModes, " or "), cs.PolicyMode)
	}
	if cs.Mode != validate.ModeEnforce && cs.Mode != validate.ModeWarn {
		return r, fmt.Errorf("mode must be enforce or warn, not %q", cs.Mode)
	}
	key := [2]string{cs.PolicyDir, cs.PolicyMode}
	pol := compiled[key]
	if pol == nil {
		var dirs []string
		if cs.PolicyDir != "" {
			dirs = append(dirs, cs.PolicyDir)
		}
		sources, err := validate.LoadSources(cs.PolicyMode, false, dirs...)
		if err != nil {
			return r, err
		}
		if pol, err = validate.CompilePolicy(ctx, sources); err != nil {
			return r, err
		}
		compiled[key] = pol
	}
	host, err := cs.host()
	if err != nil {
		return r, err
	}
	obj, err := s.configMap(c.Object)
	if err != nil {
		return r, err
	}
	old, err := s.configMap(c.Old)
	if err != nil {
		return r, err
	}
	opts := validate.DefaultOptions()
	opts.Mode = cs.Mode
	req, err := newRequest(c.Operation, "", obj, old, validate.UserInfo{Username: c.User, Groups: c.Groups}, host, opts)
	if err != nil {
		return r, err
	}
	d, err := validate.NewEvaluator(pol, opts, fp).Decide(ctx, req)
	if err != nil {
		return r, err
	}
	r.Failures = expectations(c.Expect, req, d)
	r.Pass = len(r.Failures) == 0
	return r, nil
}

// expectations lists how decision d of req misses e.
func expectations(e expectation, req validate.Request, d validate.Decision) []string {
	var out []string
	if *e.Allowed != d.Allowed {
		verdict := map[bool]string{true: "allowed", false: "denied"}
		out = append(out, fmt.Sprintf("the write is %s, want %s", verdict[d.Allowed], verdict[*e.Allowed]))
	}
	if e.Denials != nil {
		out = append(out, checkMessages("denial", *e.Denials, d.Denials)...)
	}
	if e.Warnings != nil {
		out = append(out, checkMessages("warning", *e.Warnings, d.Warnings)...)
	}
	if len(e.Values) == 0 && !e.Unchanged {
		return out
	}
	if req.Object == nil {
		return append(out, "values and unchangedOtherwise need an object: a DELETE has none")
	}
	before := []byte(req.Object.Data[validate.ConfigKey])
	after := before
	if d.Document != nil {
		after = d.Document
	}
	if len(e.Values) > 0 {
		out = append(out, checkValues(after, e.Values)...)
	}
	if e.Unchanged {
		out = append(out, checkUnchanged(before, after, e.Values)...)
	}
	return out
}
