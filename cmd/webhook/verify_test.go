package main

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
)

// TestVerifyExample runs the suite examples/ ships for the README's example
// rule, so that `make test` proves it.
func TestVerifyExample(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "verify", "../../examples/my-policies-suite.yaml")
	if code != 0 || !strings.Contains(stdout, "PASS: 7/7 cases passed") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		stdoutHas []string
		stderrHas []string
	}{
		{name: "failures are reported", args: []string{"testdata/verify/failing.yaml"}, code: 1, stdoutHas: []string{
			"FAIL  failing/wrong verdict\n      the write is denied, want allowed",
			`no denial matches "no such denial"`,
			"unexpected denial: jwtSecret at authentication.jwtSecret (line 8) does not match",
			`authentication.oauthOptions.accessTokenMaxAge (line 10) is "0s", want "2h"`,
			"authentication.jwtSecret (line 8): differs from the value the suite wants (not shown: a secret)",
			`authentication.nothing: not in the resulting kubesphere.yaml, want "x"`,
			"FAIL  failing/other lines changed\n      line 10 added:     accessTokenMaxAge: 0s",
			"PASS  failing/passes",
			"FAIL: 1/5 cases passed",
		}},
		{name: "run filters", args: []string{"--run", "failing/pass", "testdata/verify/failing.yaml"}, code: 0, stdoutHas: []string{"PASS: 1/1 cases passed"}},
		{name: "run matching nothing", args: []string{"--run", "nope", "testdata/verify/failing.yaml"}, code: 2, stderrHas: []string{`no case matched --run "nope"`}},
		{name: "an unknown field", args: []string{"testdata/verify/bad-field.yaml"}, code: 2, stderrHas: []string{"testdata/verify/bad-field.yaml", `unknown field "allowd"`}},
		{name: "no verdict", args: []string{"testdata/verify/no-allowed.yaml"}, code: 2, stderrHas: []string{`case "no verdict": expect.allowed is required`}},
		{name: "a missing manifest", args: []string{"testdata/verify/missing-object.yaml"}, code: 2, stderrHas: []string{`case "missing file"`, "testdata/nope.yaml", "no such file"}},
		{name: "no suite", args: nil, code: 2, stderrHas: []string{"name at least one SUITE.yaml"}},
		{name: "bad format", args: []string{"-o", "xml", "x.yaml"}, code: 2, stderrHas: []string{"-o xml: want pretty, json or junit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", append([]string{"verify"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			outputHas(t, "stdout", stdout, tc.stdoutHas)
			outputHas(t, "stderr", stderr, tc.stderrHas)
			if strings.Contains(stdout+stderr, testHostSecret) {
				t.Errorf("a secret is in the output")
			}
		})
	}
}

func TestVerifyFormats(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		_, stdout, _ := runCLI(t, "", "verify", "-o", "json", "testdata/verify/failing.yaml")
		var results []caseResult
		if err := json.Unmarshal([]byte(stdout), &results); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		if len(results) != 5 || results[4].Case != "passes" || !results[4].Pass || results[0].Pass {
			t.Errorf("results: %+v", results)
		}
	})
	t.Run("junit", func(t *testing.T) {
		_, stdout, _ := runCLI(t, "", "verify", "-o", "junit", "testdata/verify/failing.yaml", "../../examples/my-policies-suite.yaml")
		var out junitSuites
		if err := xml.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		if len(out.Suites) != 2 || out.Suites[0].Tests != 5 || out.Suites[0].Failures != 4 || out.Suites[1].Tests != 7 || out.Suites[1].Failures != 0 {
			t.Errorf("suites: %+v", out.Suites)
		}
	})
}
