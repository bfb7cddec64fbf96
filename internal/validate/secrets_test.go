package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// leakSecrets are the secrets the leak test plants. Short and odd ones
// included: a secret that is also a number, and one with YAML syntax in it.
var leakSecrets = []string{hostSecret, "member-drifted-secret-7Qx", "0123", "s3cr3t: with colon"}

// TestNoSecretInAnyOutput feeds known secrets through every path — each test
// document with the host secret and with drifted secrets, every operation,
// warn mode, break-glass, a missing host value — and searches everything
// the decision exposes: denials, warnings, edits, the policy input, and the
// errors of edits that cannot be made.
func TestNoSecretInAnyOutput(t *testing.T) {
	ctx := context.Background()
	files, _ := filepath.Glob("testdata/documents/*.yaml")
	var docs []string
	for _, f := range files {
		docs = append(docs, readTestdata(t, "documents/"+filepath.Base(f)))
	}
	// Documents that carry each planted secret in each position.
	for _, s := range leakSecrets {
		q, _ := json.Marshal(s)
		docs = append(docs,
			fmt.Sprintf("authentication:\n  jwtSecret: %s\n  oauthOptions:\n    accessTokenMaxAge: 2h\n", q),
			fmt.Sprintf("authentication:\n  jwtSecret: %s\n  issuer:\n    jwtSecret: %s\n    accessTokenMaxAge: 7200\n", q, q),
			fmt.Sprintf("authentication:\n  JwtSecret: %s\n  jwtSecret: %s\n  jwtSecret: x\n", q, q),
			fmt.Sprintf("authentication:\n  jwtSecret: %s\n  oauthOptions: [\n", q),         // invalid YAML
			fmt.Sprintf("authentication:\n  jwtSecret: |\n    %s\n  oauthOptions: {}\n", s), // block scalar
			fmt.Sprintf("authentication:\n  jwtSecret: %s\n", s),                            // unquoted
		)
	}
	evs := map[string]*Evaluator{
		"enforce": newTestEvaluator(t),
		"warn":    newTestEvaluator(t, func(o *Options) { o.Mode = ModeWarn; o.OnMissingHost = "warn" }),
	}
	checked := 0
	for mode, ev := range evs {
		for i, doc := range docs {
			for _, host := range append([]string{""}, leakSecrets...) {
				for _, op := range []string{OperationCreate, OperationUpdate, OperationDelete} {
					req := updateRequest(doc, host)
					req.Operation = op
					if host == "" {
						req.Host = HostSecret{Problem: "not configured"}
					}
					req.Object.Annotations = map[string]string{
						"ksguard.io/break-glass": "testing",
						LastAppliedAnnotation:    `{"data":{"kubesphere.yaml":` + jsonString(doc) + `}}`,
					}
					req.User.Groups = []string{"system:masters"}
					if op == OperationDelete {
						req.Object, req.OldObject = nil, req.Object
					}
					input, _, _ := ev.input(req)
					inJSON, err := json.Marshal(input)
					if err != nil {
						t.Fatal(err)
					}
					// Fingerprints are random hex: one could hold "0123" by chance.
					in := fingerprintRE.ReplaceAll(inJSON, []byte("hmac:x"))
					d, err := ev.Decide(ctx, req)
					if err != nil {
						t.Fatalf("%s doc %d: %v", mode, i, err)
					}
					out, _ := json.Marshal(struct {
						Denials, Warnings []string
						Edits             []Edit
					}{d.Denials, d.Warnings, d.Edits})
					for _, s := range leakSecrets {
						if strings.Contains(string(in), s) && strings.Contains(doc, s) {
							t.Errorf("%s doc %d op %s: the policy input holds the secret %q", mode, i, op, s)
						}
						if strings.Contains(string(out), s) && (strings.Contains(doc, s) || host == s) {
							t.Errorf("%s doc %d op %s: the decision holds the secret %q: %s", mode, i, op, s, out)
						}
					}
					checked++
				}
			}
		}
	}
	if checked < 1000 {
		t.Errorf("checked only %d decisions", checked)
	}
}

var fingerprintRE = regexp.MustCompile(`hmac:[0-9a-f]{24}`)

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestRedactDocument checks that every jwtSecret value goes and nothing else
// changes.
func TestRedactDocument(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "authentication:\n  jwtSecret: abc # c\n  x: 1\n", "authentication:\n  jwtSecret: \"[redacted]\" # c\n  x: 1\n"},
		{"quoted", "authentication:\n  jwtSecret: \"a\\\"bc\"\n", "authentication:\n  jwtSecret: \"[redacted]\"\n"},
		{"v4 both", "authentication:\n  jwtSecret: 'a'\n  issuer:\n    JWTSecret: b\n", "authentication:\n  jwtSecret: \"[redacted]\"\n  issuer:\n    JWTSecret: \"[redacted]\"\n"},
		{"flow", "authentication: {jwtSecret: abc, x: 1}\n", "authentication: {jwtSecret: \"[redacted]\", x: 1}\n"},
		{"block scalar", "authentication:\n  jwtSecret: |\n    abc\n    def\n  x: 1\n", "authentication:\n  jwtSecret: \"[redacted]\"\n  x: 1\n"},
		{"invalid yaml", "authentication:\n  jwtSecret: abc\n  x: [\n", "authentication:\n  jwtSecret: \"[redacted]\"\n  x: [\n"},
		{"json", `{"authentication": {"jwtSecret": "abc"}}`, `{"authentication": {"jwtSecret": "[redacted]"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(RedactDocument([]byte(tc.in))); got != tc.want {
				t.Errorf("RedactDocument(%q) =\n%q, want\n%q", tc.in, got, tc.want)
			}
		})
	}
}
