package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTestCommand(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		stdoutHas []string
		stderrHas []string
	}{
		{name: "embedded policies", args: []string{"test"}, code: 0, stdoutHas: []string{"PASS: 29/29"}},
		{name: "with the example directory", args: []string{"test", "../../examples/my-policies"}, code: 0, stdoutHas: []string{"PASS: 31/31"}},
		{name: "verbose names each test", args: []string{"test", "-v", "../../examples/my-policies"}, code: 0,
			stdoutHas: []string{"data.my_policies_test.test_inactivity_timeout_must_be_zero: PASS", "../../examples/my-policies/inactivity_test.rego:"}},
		{name: "run filters", args: []string{"test", "--run", "inactivity", "../../examples/my-policies"}, code: 0, stdoutHas: []string{"PASS: 2/2"}},
		{name: "run matching nothing", args: []string{"test", "--run", "no_such_test"}, code: 1, stderrHas: []string{`no test matched --run "no_such_test"`}},
		{name: "a failing test exits 2", args: []string{"test", "testdata/rego-failing"}, code: 2,
			stdoutHas: []string{"data.failing_test.test_clean_member_denied: FAIL", "FAIL: 1/30"}},
		{name: "a policy that does not parse exits 1", args: []string{"test", "testdata/policy-syntax"}, code: 1,
			stderrHas: []string{"testdata/policy-syntax/extra.rego:4"}},
		{name: "a field the input does not have exits 1", args: []string{"test", "testdata/policy-typo"}, code: 1,
			stderrHas: []string{"testdata/policy-typo/typo.rego:6: rego_type_error: undefined ref: input.object.setings.jwtSecret.present", `have: "setings"`}},
		{name: "a policy that does not compile exits 1", args: []string{"test", "--policy-mode", "replace", "testdata/policy-broken"}, code: 1,
			stderrHas: []string{"testdata/policy-broken/admission.rego:4", "undefined function undefined_function"}},
		{name: "a built-in rule redefined exits 1", args: []string{"test", "testdata/policy-redefines"}, code: 1,
			stderrHas: []string{"testdata/policy-redefines/weaken.rego:4: rule break_glass is a built-in rule", "--policy-mode=replace"}},
		{name: "replace mode runs the directory alone", args: []string{"test", "--policy-mode", "replace", "testdata/rego-failing"}, code: 2,
			stdoutHas: []string{"FAIL: 1/1"}},
		{name: "coverage", args: []string{"test", "--coverage", "../../examples/my-policies"}, code: 0,
			stdoutHas: []string{"Coverage: ", "100.00%  ../../examples/my-policies/inactivity.rego", "(embedded)/accesstokenmaxage.rego  not covered: 36"}},
		{name: "coverage below the threshold exits 2", args: []string{"test", "--coverage", "--threshold", "100"}, code: 2,
			stderrHas: []string{"is below --threshold 100.00%"}},
		{name: "threshold needs coverage", args: []string{"test", "--threshold", "50"}, code: 1, stderrHas: []string{"--threshold needs --coverage"}},
		{name: "bad output format", args: []string{"test", "-o", "xml"}, code: 1, stderrHas: []string{"-o xml: want pretty or json"}},
		{name: "bad policy mode", args: []string{"test", "--policy-mode", "merge"}, code: 1, stderrHas: []string{"--policy-mode merge"}},
		{name: "missing directory", args: []string{"test", "testdata/nope"}, code: 1, stderrHas: []string{"testdata/nope", "no such file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			outputHas(t, "stdout", stdout, tc.stdoutHas)
			outputHas(t, "stderr", stderr, tc.stderrHas)
		})
	}
}

func TestTestCommandJSON(t *testing.T) {
	t.Run("results", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "", "test", "-o", "json", "testdata/rego-failing")
		if code != 2 {
			t.Fatalf("exit %d, want 2: %s", code, stderr)
		}
		var results []struct {
			Package string `json:"package"`
			Name    string `json:"name"`
			Fail    bool   `json:"fail"`
		}
		if err := json.Unmarshal([]byte(stdout), &results); err != nil {
			t.Fatalf("not a JSON list of results: %v\n%s", err, stdout)
		}
		failed := 0
		for _, r := range results {
			if r.Fail {
				failed++
				if r.Name != "test_clean_member_denied" {
					t.Errorf("%s.%s failed", r.Package, r.Name)
				}
			}
		}
		if len(results) != 30 || failed != 1 {
			t.Errorf("%d results, %d failed; want 30 and 1", len(results), failed)
		}
	})
	t.Run("coverage", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "", "test", "-o", "json", "--coverage", "../../examples/my-policies")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var report struct {
			Files    map[string]any `json:"files"`
			Coverage float64        `json:"coverage"`
		}
		if err := json.Unmarshal([]byte(stdout), &report); err != nil {
			t.Fatalf("not opa's coverage report: %v\n%s", err, stdout)
		}
		if report.Files["../../examples/my-policies/inactivity.rego"] == nil || report.Coverage < 90 {
			t.Errorf("coverage %v, files %v", report.Coverage, report.Files)
		}
	})
}

// TestReadmeExampleRule: the rule and test README.md's "Write your first
// rule" shows are the files examples/my-policies holds (which the other
// tests run), so the README cannot drift from what is proven.
func TestReadmeExampleRule(t *testing.T) {
	readme := readFile(t, "../../README.md")
	start := strings.Index(readme, "### Write your first rule")
	if start < 0 {
		t.Fatal("README.md has no \"Write your first rule\"")
	}
	section := readme[start:]
	for _, tc := range []struct{ file, from string }{
		{"../../examples/my-policies/inactivity.rego", "package ksguard.admission\n"},
		{"../../examples/my-policies/inactivity_test.rego", "test_inactivity_timeout_must_be_zero if {"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want := readFile(t, tc.file)
			if tc.from != "package ksguard.admission\n" {
				want = want[strings.Index(want, tc.from):]
			}
			if !strings.Contains(section, want) {
				t.Errorf("README.md's \"Write your first rule\" does not show %s as it is:\n%s", tc.file, want)
			}
		})
	}
}
