package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/explain")

// fingerprints are random per process: golden files hold a placeholder.
var fingerprints = regexp.MustCompile(`hmac:[0-9a-f]{24}`)

// TestEvalExplain: eval --explain prints the input as Rego sees it and ties
// each denial, warning and edit to the rule (FILE:LINE) that made it; the
// whole output is a golden file (testdata/explain, -update rewrites them).
func TestEvalExplain(t *testing.T) {
	hs := "--host-secret-file=testdata/host-secret"
	timeout := strings.Replace(readFile(t, "testdata/member.yaml"), "accessTokenMaxAge: 0", "accessTokenMaxAge: 0\n        accessTokenInactivityTimeout: 10m", 1)
	glass := strings.Replace(readFile(t, "testdata/drifted.yaml"), "  name: kubesphere-config", "  name: kubesphere-config\n  annotations:\n    ksguard.io/break-glass: INC-1", 1)
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		code  int
		rules []string // locations the explanation must name
	}{
		{name: "drift", args: []string{"-f", "testdata/drifted.yaml", hs, "--policy-dir", "../../examples/my-policies"}, code: 1,
			rules: []string{`"(embedded)/jwtsecret.rego:11"`}},
		{name: "example-rule", args: []string{"-f", "-", hs, "--policy-dir", "../../examples/my-policies"}, stdin: timeout, code: 1,
			rules: []string{`"../../examples/my-policies/inactivity.rego:5"`}},
		{name: "edit", args: []string{"-f", "testdata/host-values.yaml", hs}, code: 0,
			rules: []string{`"(embedded)/accesstokenmaxage.rego:28"`}},
		{name: "warn-mode", args: []string{"-f", "testdata/drifted.yaml", hs, "--mode", "warn"}, code: 0,
			rules: []string{`"(embedded)/jwtsecret.rego:11"`}},
		{name: "break-glass", args: []string{"-f", "-", hs, "--user", "root", "--group", "system:masters"}, stdin: glass, code: 0,
			rules: []string{`"(embedded)/admission.rego:`}},
		{name: "no-host-secret", args: []string{"-f", "testdata/member.yaml"}, code: 1,
			rules: []string{`"(embedded)/jwtsecret.rego:`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.stdin, append([]string{"eval", "--explain"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			for _, s := range []string{testHostSecret, testDriftedSecret} {
				if strings.Contains(stdout, s) {
					t.Fatalf("a secret is in the output:\n%s", stdout)
				}
			}
			var out struct {
				Explain struct {
					Input    map[string]any `json:"input"`
					Denials  []any          `json:"denials"`
					Warnings []any          `json:"warnings"`
				} `json:"explain"`
			}
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatal(err)
			}
			if out.Explain.Input["object"] == nil || out.Explain.Input["config"] == nil {
				t.Errorf("no input in the explanation:\n%s", stdout)
			}
			for _, r := range tc.rules {
				if !strings.Contains(stdout, r) {
					t.Errorf("the explanation does not name %s", r)
				}
			}
			got := fingerprints.ReplaceAllString(stdout, "hmac:FINGERPRINT")
			golden := filepath.Join("testdata", "explain", tc.name+".json")
			if *updateGolden {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/webhook -run TestEvalExplain -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (review, then -update):\n%s", golden, got)
			}
		})
	}
	t.Run("not with --review", func(t *testing.T) {
		code, _, stderr := runCLI(t, "", "eval", "--explain", "--review", "testdata/review-drifted.json", hs)
		if code != 2 || !strings.Contains(stderr, "--explain goes with -f") {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
}
