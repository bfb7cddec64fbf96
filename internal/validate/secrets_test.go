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
// None may occur in a fixed message text (as 0123, the example in the
// non-string secret's denial, does): messages are searched for them here,
// and they are secret-free by construction, never by redaction.
var leakSecrets = []string{hostSecret, "member-drifted-secret-7Qx", "04711", "s3cr3t: with colon"}

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
					obj, old := ev.objects(req)
					input, _ := ev.input(req, obj, old)
					inJSON, err := json.Marshal(inputAsRego(t, input))
					if err != nil {
						t.Fatal(err)
					}
					// Fingerprints are random hex: one could hold "04711" by chance.
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

// TestRedactObject checks the structured redaction of a ConfigMap: values
// are replaced whole, never cut around a secret, so a secret that is one
// letter or a common word leaves every other value as it was.
func TestRedactObject(t *testing.T) {
	const doc = "authentication:\n  jwtSecret: \"%s\"\n  oauthOptions:\n    accessTokenMaxAge: 0s\n"
	for _, tc := range []struct {
		name        string
		secret      string
		data        map[string]string // the object's data (kubesphere.yaml aside)
		annotations map[string]string
		labels      map[string]string
		wantData    map[string]string
		wantAnn     map[string]string
		wantLabels  map[string]string
	}{
		{
			name: "long secret", secret: hostSecret,
			data:        map[string]string{"notes": "copied " + hostSecret, "other": "plain"},
			annotations: map[string]string{LastAppliedAnnotation: "{}", "note": "was " + hostSecret, "owner": "ops"},
			labels:      map[string]string{"k": hostSecret, "app": "kubesphere"},
			wantData:    map[string]string{"notes": Redacted, "other": "plain"},
			wantAnn:     map[string]string{LastAppliedAnnotation: Redacted, "note": Redacted, "owner": "ops"},
			wantLabels:  map[string]string{"k": Redacted, "app": "kubesphere"},
		},
		{
			// A one-letter secret is in most values: they go whole (too
			// much is hidden, nothing is mangled); kubesphere.yaml keeps
			// everything but its jwtSecret values.
			name: "one letter", secret: "n",
			data:        map[string]string{"other": "plain"},
			annotations: map[string]string{"owner": "ops", "note": "enabled"},
			wantData:    map[string]string{"other": Redacted},
			wantAnn:     map[string]string{"owner": "ops", "note": Redacted},
		},
		{
			name: "a word of the document", secret: "kubesphere",
			annotations: map[string]string{"owner": "ops"},
			labels:      map[string]string{"app": "kubesphere-config"},
			wantAnn:     map[string]string{"owner": "ops"},
			wantLabels:  map[string]string{"app": Redacted},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cm := guardedConfigMap(fmt.Sprintf(doc, tc.secret))
			for k, v := range tc.data {
				cm.Data[k] = v
			}
			cm.Annotations, cm.Labels = tc.annotations, tc.labels
			before := cm.DeepCopy()
			d := Decision{secrets: []string{tc.secret}}
			got := d.RedactObject(cm)
			if want := fmt.Sprintf(doc, Redacted); got.Data[ConfigKey] != want {
				t.Errorf("%s = %q, want %q", ConfigKey, got.Data[ConfigKey], want)
			}
			delete(got.Data, ConfigKey)
			if len(got.Data) != len(tc.wantData) || len(got.Annotations) != len(tc.wantAnn) || len(got.Labels) != len(tc.wantLabels) {
				t.Fatalf("got data %q annotations %q labels %q, want %q %q %q", got.Data, got.Annotations, got.Labels, tc.wantData, tc.wantAnn, tc.wantLabels)
			}
			for _, m := range []struct{ got, want map[string]string }{{got.Data, tc.wantData}, {got.Annotations, tc.wantAnn}, {got.Labels, tc.wantLabels}} {
				for k, v := range m.want {
					if m.got[k] != v {
						t.Errorf("%s = %q, want %q", k, m.got[k], v)
					}
				}
			}
			if !sameContent(cm, before) {
				t.Error("RedactObject changed its argument")
			}
		})
	}
	if (&Decision{}).RedactObject(nil) != nil {
		t.Error("RedactObject(nil) is not nil")
	}
}

// TestRedactPatch checks that the documents a patch carries lose their
// jwtSecret values and nothing else changes.
func TestRedactPatch(t *testing.T) {
	const doc = "authentication:\n  jwtSecret: n\n  x: n\n"
	in := []PatchOperation{
		{Op: "replace", Path: "/data/kubesphere.yaml", Value: doc},
		{Op: "add", Path: "/metadata/labels", Value: map[string]any{"a": "b"}},
	}
	got := RedactPatch(in)
	if want := "authentication:\n  jwtSecret: \"" + Redacted + "\"\n  x: n\n"; got[0].Value != want {
		t.Errorf("document = %q, want %q", got[0].Value, want)
	}
	if got[0].Op != "replace" || got[0].Path != "/data/kubesphere.yaml" || got[1].Path != "/metadata/labels" {
		t.Errorf("operations changed: %+v", got)
	}
	if in[0].Value != doc {
		t.Error("RedactPatch changed its argument")
	}
}

// TestNoSecretInMessagesFromTheWritersText: messages quote what the writer
// typed — a value's tag, the accessTokenMaxAge text, key names, the
// break-glass reason, the user name. When that text holds a secret (the
// host's jwtSecret, or a jwtSecret value of the object), the message that
// quotes it is withheld whole, and the write's outcome does not change.
// (FuzzDecide found the first: a tag spelled as the host's jwtSecret.)
func TestNoSecretInMessagesFromTheWritersText(t *testing.T) {
	ctx := context.Background()
	for _, s := range []string{hostSecret, "member-drifted-secret-7Qx", "04711"} { // tag-safe
		docs := map[string]string{
			"tag":                   fmt.Sprintf("authentication:\n  jwtSecret: !%s x\n  oauthOptions:\n    accessTokenMaxAge: 0s\n", s),
			"tag, empty value":      fmt.Sprintf("authentication:\n  jwtSecret: !%s\n", s),
			"accessTokenMaxAge":     fmt.Sprintf("authentication:\n  jwtSecret: x\n  oauthOptions:\n    accessTokenMaxAge: %q\n", s),
			"accessTokenMaxAge tag": fmt.Sprintf("authentication:\n  jwtSecret: x\n  oauthOptions:\n    accessTokenMaxAge: !%s 2h\n", s),
			"dotted key":            fmt.Sprintf("authentication:\n  jwtSecret: x\n  %q: 1\n  oauthOptions:\n    accessTokenMaxAge: 0s\n", s+".y"),
			"duplicate key":         fmt.Sprintf("%q: 1\n%q: 2\nauthentication:\n  jwtSecret: x\n  oauthOptions:\n    accessTokenMaxAge: 0s\n", s, s),
			"top-level key":         fmt.Sprintf("%q:\n  jwtSecret: x\n", s),
		}
		for name, doc := range docs {
			for _, who := range []string{"host", "object"} {
				t.Run(fmt.Sprintf("%s/%s/%s", s, name, who), func(t *testing.T) {
					host := s
					if who == "object" { // the object's own jwtSecret is s; the host's differs
						host = "another-host-secret-9zZ"
						doc = doc + "x-secret-holder:\n  jwtSecret: " + jsonString(s) + "\n"
					}
					for _, mode := range []string{ModeEnforce, ModeWarn} {
						ev := newTestEvaluator(t, func(o *Options) { o.Mode = mode })
						req := updateRequest(doc, host)
						req.User = UserInfo{Username: "admin-" + s, Groups: []string{"system:masters"}}
						req.Object.Annotations = map[string]string{"ksguard.io/break-glass": "because " + s}
						d, err := ev.Decide(ctx, req)
						if err != nil {
							t.Fatal(err)
						}
						for _, m := range append(append(append([]string{}, d.Denials...), d.Warnings...), d.Waived...) {
							if strings.Contains(m, s) {
								t.Errorf("%s mode: a message holds the secret %q: %q", mode, s, m)
							}
						}
						for _, e := range d.Edits {
							if strings.Contains(e.Reason, s) {
								t.Errorf("%s mode: an edit's reason holds the secret %q: %q", mode, s, e.Reason)
							}
						}
					}
				})
			}
		}
	}
}
