package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/ksguard/ksguard/internal/hostsecret"
	"github.com/ksguard/ksguard/internal/validate"
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

// outputHas fails t for each of wants that output (named name) lacks.
func outputHas(t *testing.T, name, output string, wants []string) {
	t.Helper()
	for _, s := range wants {
		if !strings.Contains(output, s) {
			t.Errorf("%s lacks %q:\n%s", name, s, output)
		}
	}
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
		{name: "policy dir replaces the embedded policies", args: []string{"eval", "-f", "testdata/member.yaml", hs, "--policy-dir", "testdata/policy-deny-all", "--policy-mode", "replace"},
			code: 1, denialsHas: []string{"this policy directory denies everything"}},
		{name: "policy that does not compile", args: []string{"eval", "-f", "testdata/member.yaml", hs, "--policy-dir", "testdata/policy-broken", "--policy-mode=replace"},
			code: 2, stderrHas: []string{"policy-broken", "admission.rego:4", "undefined function undefined_function"}},
		{name: "additive: the example rule denies its finding", args: []string{"eval", "-f", "-", hs, "--policy-dir", "../../examples/my-policies"},
			stdin: strings.Replace(readFile(t, "testdata/member.yaml"), "accessTokenMaxAge: 0", "accessTokenMaxAge: 0\n        accessTokenInactivityTimeout: 10m", 1),
			code:  1, denialsHas: []string{"accessTokenInactivityTimeout is 10m: set it to 0s"}},
		{name: "additive: the example rule alone still denies drift", args: []string{"eval", "-f", "testdata/drifted.yaml", hs, "--policy-dir", "../../examples/my-policies"},
			code: 1, denialsHas: []string{"jwtSecret at authentication.jwtSecret (line 8) does not match the host cluster's jwtSecret"}},
		{name: "additive: the example rule alone still edits accessTokenMaxAge", args: []string{"eval", "-f", "testdata/host-values.yaml", hs, "--policy-dir", "../../examples/my-policies"},
			code: 0, allowed: true, patched: true, objectHas: "  oauthOptions:\n    accessTokenMaxAge: 0s\n    clients:"},
		{name: "additive: a file redefining a built-in rule is refused", args: []string{"eval", "-f", "testdata/member.yaml", hs, "--policy-dir", "testdata/policy-deny-all"},
			code: 2, stderrHas: []string{"testdata/policy-deny-all/", "rule deny is a built-in rule", "--policy-mode=replace"}},
		{name: "additive: a file that does not parse", args: []string{"eval", "-f", "testdata/member.yaml", hs, "--policy-dir", "testdata/policy-syntax"},
			code: 2, stderrHas: []string{"testdata/policy-syntax/extra.rego:4"}},
		{name: "a field the input does not have", args: []string{"eval", "-f", "testdata/member.yaml", hs, "--policy-dir", "testdata/policy-typo"},
			code: 2, stderrHas: []string{"testdata/policy-typo/typo.rego:6", "undefined ref: input.object.setings.jwtSecret.present"}},
		{name: "bad policy mode", args: []string{"eval", "-f", "testdata/member.yaml", hs, "--policy-mode", "merge"}, code: 2, stderrHas: []string{`--policy-mode must be additive or replace, not "merge"`}},
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
			outputHas(t, "stderr", stderr, tc.stderrHas)
			outputHas(t, "stdout", stdout, tc.stdoutHas)
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

// TestEvalOddSecrets runs eval with secrets that also occur in ordinary
// text — single letters, JSON syntax, words of every message and document —
// as the host's, as the document's (drifted) and as both (in sync). The
// output must be valid JSON and, but for the weak-host warning, the same as
// with a long random secret: the same messages byte for byte, and the same
// redacted object and patch. A one-letter secret or a common word cannot be
// searched for in the whole output (it is in every message), so the test
// checks the structured fields where a secret would be a value: every
// jwtSecret line of the printed documents, the annotations that held it.
func TestEvalOddSecrets(t *testing.T) {
	const ref, refOther = "Yl3vQ8rTzP0aKc7WmX2bN5dJ9hF4gS6u", "Rz8kD2mQ7wP4xL1nB6vC3jH9tF5yG0sA"
	hostFile := filepath.Join(t.TempDir(), "host-secret")
	// manifest is testdata/host-values.yaml with jwtSecret secret, and two
	// annotations that hold it.
	manifest := func(secret string) string {
		q := jsonQuote(t, secret)
		m := strings.Replace(readFile(t, "testdata/host-values.yaml"), `jwtSecret: "`+testHostSecret+`"`, "jwtSecret: "+q, 1)
		return strings.Replace(m, "  name: kubesphere-config\n", "  name: kubesphere-config\n  annotations:\n"+
			"    example.com/note: "+q+"\n"+
			"    kubectl.kubernetes.io/last-applied-configuration: "+jsonQuote(t, `{"data":{"kubesphere.yaml":"jwtSecret: `+secret+`"}}`)+"\n", 1)
	}
	// review is testdata/review-mutate.json with jwtSecret secret.
	review := func(secret string) string {
		var r map[string]any
		if err := json.Unmarshal([]byte(readFile(t, "testdata/review-mutate.json")), &r); err != nil {
			t.Fatal(err)
		}
		data := r["request"].(map[string]any)["object"].(map[string]any)["data"].(map[string]any)
		data["kubesphere.yaml"] = strings.Replace(data["kubesphere.yaml"].(string), `jwtSecret: "`+testHostSecret+`"`, "jwtSecret: "+jsonQuote(t, secret), 1)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	run := func(t *testing.T, host, stdin string, args ...string) (int, string, string) {
		t.Helper()
		if err := os.WriteFile(hostFile, []byte(host), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runCLI(t, stdin, append(append([]string{"eval"}, args...), "--host-secret-file", hostFile)...)
		if !json.Valid([]byte(stdout)) {
			t.Fatalf("stdout is not valid JSON (exit %d, stderr %s):\n%s", code, stderr, stdout)
		}
		return code, stdout, stderr
	}
	weak := func(host string) string { return hostsecret.WeakWarning("file "+hostFile, len(host)) }

	for _, pos := range []struct {
		name      string
		host, doc func(secret string) string // the host value and the document's jwtSecret, given the secret
	}{
		{"host, drifted", func(s string) string { return s }, func(string) string { return refOther }},
		{"document, drifted", func(string) string { return testHostSecret }, func(s string) string { return s }},
		{"both, in sync", func(s string) string { return s }, func(s string) string { return s }},
	} {
		wantCode, wantOut, _ := run(t, pos.host(ref), manifest(pos.doc(ref)), "-f", "-")
		var want evalOutput
		if err := json.Unmarshal([]byte(wantOut), &want); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(wantOut, ref) || strings.Contains(wantOut, refOther) {
			t.Fatalf("%s: the reference output holds its secret:\n%s", pos.name, wantOut)
		}
		checkRedacted(t, pos.name+" reference", want)
		wantReview := map[string]string{}
		for _, w := range []string{"mutate", "validate"} {
			_, wantReview[w], _ = run(t, pos.host(ref), review(pos.doc(ref)), "--review", "-", "--webhook", w)
		}

		for _, s := range []string{"n", "a", "e", `"`, `\`, "kubesphere", "authentication", "true"} {
			t.Run(pos.name+"/"+s, func(t *testing.T) {
				code, stdout, _ := run(t, pos.host(s), manifest(pos.doc(s)), "-f", "-")
				if code != wantCode {
					t.Errorf("exit status %d, want %d", code, wantCode)
				}
				var got evalOutput
				if err := json.Unmarshal([]byte(stdout), &got); err != nil {
					t.Fatal(err)
				}
				// Every odd secret is weak as a host value; the long
				// host value of "document, drifted" is not.
				if host := pos.host(s); hostsecret.Weak([]byte(host)) {
					i := slices.Index(got.Warnings, weak(host))
					if i < 0 {
						t.Errorf("no weak-host warning in %q", got.Warnings)
					} else {
						got.Warnings = slices.Delete(got.Warnings, i, i+1)
					}
				}
				if !slices.Equal(got.Denials, want.Denials) || !slices.Equal(got.Warnings, want.Warnings) {
					t.Errorf("messages differ from the reference's:\n got: %q %q\nwant: %q %q", got.Denials, got.Warnings, want.Denials, want.Warnings)
				}
				checkRedacted(t, "output", got)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("output differs from the reference's:\n%s\nwant\n%s", stdout, wantOut)
				}
				for _, w := range []string{"mutate", "validate"} {
					_, stdout, stderr := run(t, pos.host(s), review(pos.doc(s)), "--review", "-", "--webhook", w)
					if stdout != wantReview[w] {
						t.Errorf("--webhook %s: the response differs from the reference's:\n%s\nwant\n%s", w, stdout, wantReview[w])
					}
					if wantWarning := hostsecret.Weak([]byte(pos.host(s))); strings.Contains(stderr, weak(pos.host(s))) != wantWarning {
						t.Errorf("--webhook %s: stderr %q, want the weak-host warning: %v", w, stderr, wantWarning)
					}
				}
			})
		}
	}
}

// checkRedacted fails unless every jwtSecret of out's object and patch is
// redacted, and so are the annotations that held a secret.
func checkRedacted(t *testing.T, what string, out evalOutput) {
	t.Helper()
	docs := []string{out.Object.Data["kubesphere.yaml"]}
	for _, op := range out.Patch {
		docs = append(docs, op.Value.(string))
	}
	for _, doc := range docs {
		n := 0
		for _, l := range strings.Split(doc, "\n") {
			if strings.Contains(l, "jwtSecret") {
				n++
				if strings.TrimSpace(l) != `jwtSecret: "`+validate.Redacted+`"` {
					t.Errorf("%s: a jwtSecret is not redacted: %q", what, l)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d jwtSecret lines, want 1:\n%s", what, n, doc)
		}
	}
	for _, k := range []string{"example.com/note", validate.LastAppliedAnnotation} {
		if v := out.Object.Annotations[k]; v != validate.Redacted {
			t.Errorf("%s: annotation %s = %q, want %q", what, k, v, validate.Redacted)
		}
	}
}

// TestEvalWeakHostSecret: a host jwtSecret shorter than KubeSphere's 32
// characters is one warning in eval's JSON, with its length, never its
// value; a strong one is none.
func TestEvalWeakHostSecret(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, host string
		warned     bool
	}{
		{name: "one letter", host: "n", warned: true},
		{name: "a word", host: "weak-host-value-Zq", warned: true},
		{name: "31 characters", host: strings.Repeat("q", 31), warned: true},
		{name: "as KubeSphere generates", host: testHostSecret, warned: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.WriteFile(path, []byte(tc.host+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, stdout, stderr := runCLI(t, "", "eval", "-f", "testdata/member.yaml", "--host-secret-file", path)
			var out evalOutput
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatalf("stdout is not the decision JSON: %v\n%s", err, stdout)
			}
			var weak []string
			for _, w := range out.Warnings {
				if strings.Contains(w, "is weak") {
					weak = append(weak, w)
				}
			}
			switch {
			case !tc.warned && len(weak) > 0:
				t.Errorf("a strong host value is warned about: %q", weak)
			case tc.warned && (len(weak) != 1 || weak[0] != hostsecret.WeakWarning("file "+path, len(tc.host))):
				t.Errorf("weak-host warnings = %q, want one with the length %d", weak, len(tc.host))
			}
			if len(tc.host) > 1 && strings.Contains(stdout+stderr, tc.host) {
				t.Errorf("the output holds the host value")
			}
		})
	}
}

// jsonQuote returns s as a JSON string, which is also a YAML double-quoted
// scalar.
func jsonQuote(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
