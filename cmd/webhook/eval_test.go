package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
)

const (
	testHostSecret    = "gfIwilcc0WjNGKJ5DLeksf2JKfcLgTZU"
	testDriftedSecret = "member-drifted-secret-7Qx"
)

// runCLI runs ksguard with args and returns its exit status and output.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestEval(t *testing.T) {
	hs := "--host-secret-file=testdata/host-secret"
	for _, tc := range []struct {
		name       string
		args       []string
		stdin      string
		code       int
		allowed    bool
		patched    bool     // the patch is not empty
		stdoutHas  []string // substrings of stdout
		stderrHas  []string // substrings of stderr
		objectHas  string   // substring of the printed object's kubesphere.yaml
		noDenials  bool
		denialsHas []string
	}{
		{name: "member allowed untouched", args: []string{"eval", "-f", "testdata/member.yaml", hs}, code: 0, allowed: true, noDenials: true},
		{name: "host values mutated", args: []string{"eval", "-f", "testdata/host-values.yaml", hs}, code: 0, allowed: true, patched: true,
			objectHas: "  oauthOptions:\n    accessTokenMaxAge: 0s\n    clients:"},
		{name: "drift denied", args: []string{"eval", "-f", "testdata/drifted.yaml", hs}, code: 1,
			denialsHas: []string{"jwtSecret at authentication.jwtSecret (line 8) does not match the host cluster's jwtSecret"}},
		{name: "stdin", args: []string{"eval", "-f", "-", hs}, stdin: readFile(t, "testdata/drifted.yaml"), code: 1, denialsHas: []string{"does not match"}},
		{name: "update with old", args: []string{"eval", "-f", "testdata/member.yaml", "--old", "testdata/drifted.yaml", hs}, code: 0, allowed: true},
		{name: "delete denied", args: []string{"eval", "-f", "testdata/member.yaml", "--operation", "DELETE", hs}, code: 1,
			denialsHas: []string{"deleting kubesphere-system/kubesphere-config is refused"}},
		{name: "break-glass by a master", args: []string{"eval", "-f", "-", hs, "--user", "root", "--group", "system:masters"},
			stdin: strings.Replace(readFile(t, "testdata/drifted.yaml"), "  name: kubesphere-config", "  name: kubesphere-config\n  annotations:\n    ksguard.io/break-glass: INC-1", 1),
			code:  0, allowed: true, stdoutHas: []string{"allowed by break-glass, would be denied: jwtSecret at"}},
		{name: "last-applied annotation is redacted", args: []string{"eval", "-f", "-", hs},
			stdin: strings.Replace(readFile(t, "testdata/drifted.yaml"), "  name: kubesphere-config", "  name: kubesphere-config\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"kubesphere.yaml\":\"jwtSecret: member-drifted-secret-7Qx\"}}'", 1),
			code:  1, stdoutHas: []string{`"kubectl.kubernetes.io/last-applied-configuration": "[redacted]"`}},
		{name: "warn mode", args: []string{"eval", "-f", "testdata/drifted.yaml", hs, "--mode", "warn"}, code: 0, allowed: true,
			stdoutHas: []string{"ksguard (warn mode) would deny: jwtSecret at"}},
		{name: "no host secret", args: []string{"eval", "-f", "testdata/member.yaml"}, code: 1,
			denialsHas: []string{"the host cluster's jwtSecret is not available to ksguard (no host secret was given)"}},
		{name: "invalid yaml", args: []string{"eval", "-f", "testdata/invalid-yaml.yaml", hs}, code: 1, denialsHas: []string{"is not valid YAML"}},
		{name: "policy dir replaces the embedded policies", args: []string{"eval", "-f", "testdata/member.yaml", hs, "--policy-dir", "testdata/policy-deny-all"},
			code: 1, denialsHas: []string{"this policy directory denies everything"}},
		{name: "policy that does not compile", args: []string{"eval", "-f", "testdata/member.yaml", hs, "--policy-dir", "testdata/policy-broken"},
			code: 2, stderrHas: []string{"policy-broken", "admission.rego:4", "undefined function undefined_function"}},
		{name: "missing policy dir", args: []string{"eval", "-f", "testdata/member.yaml", hs, "--policy-dir", "testdata/nope"}, code: 2, stderrHas: []string{"--policy-dir", "no such file"}},
		{name: "missing file", args: []string{"eval", "-f", "testdata/nope.yaml", hs}, code: 2, stderrHas: []string{"reading testdata/nope.yaml: no such file or directory"}},
		{name: "missing host secret file", args: []string{"eval", "-f", "testdata/member.yaml", "--host-secret-file", "nope"}, code: 2, stderrHas: []string{"reading the host secret"}},
		{name: "not a configmap", args: []string{"eval", "-f", "testdata/deployment.yaml", hs}, code: 2, stderrHas: []string{"holds a apps/v1 Deployment, not a v1 ConfigMap"}},
		{name: "not yaml at all", args: []string{"eval", "-f", "-", hs}, stdin: "\x00\x01: [", code: 2, stderrHas: []string{"reading the ConfigMap manifest standard input"}},
		{name: "unknown field", args: []string{"eval", "-f", "-", hs}, stdin: "kind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\nspec: {}\n", code: 2, stderrHas: []string{`unknown field "spec"`}},
		{name: "a bare kubesphere.yaml", args: []string{"eval", "-f", "-", hs}, stdin: "authentication:\n  jwtSecret: x\n", code: 2, stderrHas: []string{"this looks like a kubesphere.yaml document"}},
		{name: "wrong type", args: []string{"eval", "-f", "-", hs}, stdin: "kind: ConfigMap\nmetadata: {name: x}\ndata: [a]\n", code: 2, stderrHas: []string{"reading the ConfigMap manifest standard input"}},
		{name: "bad operation", args: []string{"eval", "-f", "testdata/member.yaml", hs, "--operation", "PATCH"}, code: 2, stderrHas: []string{"--operation must be CREATE, UPDATE or DELETE"}},
		{name: "bad mode", args: []string{"eval", "-f", "testdata/member.yaml", hs, "--mode", "loud"}, code: 2, stderrHas: []string{"--mode must be enforce or warn"}},
		{name: "neither -f nor --review", args: []string{"eval", hs}, code: 2, stderrHas: []string{"give exactly one of -f"}},
		{name: "stray argument", args: []string{"eval", "testdata/member.yaml"}, code: 2, stderrHas: []string{"unexpected argument"}},
		{name: "unknown flag", args: []string{"eval", "--nope"}, code: 2, stderrHas: []string{"flag provided but not defined: -nope"}},
		{name: "unknown command", args: []string{"serve-all"}, code: 2, stderrHas: []string{`unknown command "serve-all"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Fatalf("exit status %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.stderrHas {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q: %s", s, stderr)
				}
			}
			for _, s := range tc.stdoutHas {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q: %s", s, stdout)
				}
			}
			for _, s := range []string{testHostSecret, testDriftedSecret} {
				if strings.Contains(stdout+stderr, s) {
					t.Errorf("output holds a secret (%q)", s)
				}
			}
			if code == 2 {
				if stdout != "" {
					t.Errorf("stdout should be empty on an error, got %s", stdout)
				}
				return
			}
			var out evalOutput
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatalf("stdout is not the decision JSON: %v\n%s", err, stdout)
			}
			if out.Allowed != tc.allowed {
				t.Errorf("allowed = %v, want %v (denials %q)", out.Allowed, tc.allowed, out.Denials)
			}
			if (len(out.Patch) > 0) != tc.patched {
				t.Errorf("patch = %v, want patched=%v", out.Patch, tc.patched)
			}
			if tc.noDenials && len(out.Denials) > 0 {
				t.Errorf("denials = %q, want none", out.Denials)
			}
			for _, s := range tc.denialsHas {
				if !strings.Contains(strings.Join(out.Denials, "\n"), s) {
					t.Errorf("denials lack %q: %q", s, out.Denials)
				}
			}
			if tc.objectHas != "" && (out.Object == nil || !strings.Contains(out.Object.Data["kubesphere.yaml"], tc.objectHas)) {
				t.Errorf("object's kubesphere.yaml lacks %q", tc.objectHas)
			}
		})
	}
}

// TestEvalShowSecrets checks that --show-secrets prints the object as is, so
// that it can be applied, and that by default the secret is redacted.
func TestEvalShowSecrets(t *testing.T) {
	hs := "--host-secret-file=testdata/host-secret"
	_, redacted, _ := runCLI(t, "", "eval", "-f", "testdata/host-values.yaml", hs)
	if !strings.Contains(redacted, `jwtSecret: \"[redacted]\"`) {
		t.Errorf("default output does not redact the jwtSecret:\n%s", redacted)
	}
	_, shown, _ := runCLI(t, "", "eval", "-f", "testdata/host-values.yaml", hs, "--show-secrets")
	if !strings.Contains(shown, `jwtSecret: \"`+testHostSecret+`\"`) {
		t.Errorf("--show-secrets output does not hold the object as is:\n%s", shown)
	}
}

// TestEvalReview answers AdmissionReviews as each webhook.
func TestEvalReview(t *testing.T) {
	hs := "--host-secret-file=testdata/host-secret"
	for _, tc := range []struct {
		name, file, webhook string
		code                int
		allowed, patched    bool
		message             string
	}{
		{"drift denied by mutate", "testdata/review-drifted.json", "mutate", 1, false, false, "ksguard: jwtSecret at authentication.jwtSecret (line 8) does not match"},
		{"drift denied by validate", "testdata/review-drifted.json", "validate", 1, false, false, "does not match"},
		{"mutate patches", "testdata/review-mutate.json", "mutate", 0, true, true, ""},
		{"validate refuses an unmade edit", "testdata/review-mutate.json", "validate", 1, false, false, "authentication.oauthOptions.accessTokenMaxAge must be 0s; a mutating webhook after ksguard's changed it back"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", "eval", "--review", tc.file, hs, "--webhook", tc.webhook, "--show-secrets")
			if code != tc.code {
				t.Fatalf("exit status %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			var review admissionv1.AdmissionReview
			if err := json.Unmarshal([]byte(stdout), &review); err != nil {
				t.Fatal(err)
			}
			r := review.Response
			if review.Kind != "AdmissionReview" || r == nil || r.UID == "" {
				t.Fatalf("not an AdmissionReview response: %s", stdout)
			}
			if r.Allowed != tc.allowed {
				t.Errorf("allowed = %v, want %v", r.Allowed, tc.allowed)
			}
			if (len(r.Patch) > 0) != tc.patched {
				t.Errorf("patch = %s, want patched=%v", r.Patch, tc.patched)
			}
			if tc.patched {
				var ops []map[string]any
				if err := json.Unmarshal(r.Patch, &ops); err != nil {
					t.Fatalf("patch is not JSON: %v", err)
				}
				if len(ops) != 1 || ops[0]["op"] != "replace" || ops[0]["path"] != "/data/kubesphere.yaml" ||
					!strings.Contains(ops[0]["value"].(string), "accessTokenMaxAge: 0s") {
					t.Errorf("patch = %v", ops)
				}
			}
			if tc.message != "" && (r.Result == nil || !strings.Contains(r.Result.Message, tc.message) || r.Result.Code != 403) {
				t.Errorf("result = %+v, want a 403 with %q", r.Result, tc.message)
			}
		})
	}
	for _, bad := range []struct{ name, stdin, want string }{
		{"not json", "{", "decoding the AdmissionReview"},
		{"no request", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, "has no request"},
		{"unknown field", `{"request":{"uid":"1","bogus":1}}`, `unknown field "bogus"`},
		{"wrong kind", `{"request":{"uid":"1","kind":{"group":"apps","version":"v1","kind":"Deployment"}}}`, "ksguard judges core/v1 ConfigMaps only, got apps/v1, Kind=Deployment"},
		{"object of the wrong shape", `{"request":{"uid":"1","kind":{"version":"v1","kind":"ConfigMap"},"object":{"data":[1]}}}`, "decoding request.object as a ConfigMap"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, bad.stdin, "eval", "--review", "-", hs)
			if code != 2 || stdout != "" || !strings.Contains(stderr, bad.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, stdout, stderr, bad.want)
			}
		})
	}
}

// TestEvalRedactsReviewPatch checks the default redaction of a review's patch.
func TestEvalRedactsReviewPatch(t *testing.T) {
	_, stdout, _ := runCLI(t, "", "eval", "--review", "testdata/review-mutate.json", "--host-secret-file=testdata/host-secret")
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal([]byte(stdout), &review); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(review.Response.Patch), testHostSecret) || strings.Contains(stdout, base64.StdEncoding.EncodeToString([]byte(testHostSecret))[:20]) {
		t.Errorf("the printed patch holds the secret")
	}
	if !strings.Contains(string(review.Response.Patch), "[redacted]") {
		t.Errorf("the printed patch is not redacted: %s", review.Response.Patch)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
