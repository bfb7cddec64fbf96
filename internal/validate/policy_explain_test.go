package validate

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestExplainNeverShowsSecrets: the explained input holds fingerprints,
// and a string that holds a secret under another key is redacted.
func TestExplainNeverShowsSecrets(t *testing.T) {
	const member, host = "member-secret-Xy7Qw2", "host-secret-Pl0Ok9"
	e := newTestEvaluator(t)
	doc := "authentication:\n  jwtSecret: \"" + member + "\"\n  oauthOptions:\n    accessTokenMaxAge: 2h\nldap:\n  password: prefix-" + member + "\n  hostCopy: " + host + "\n"
	req := Request{Operation: OperationCreate, Namespace: "kubesphere-system", Name: "kubesphere-config",
		Object: guardedConfigMap(doc), Host: HostSecret{Value: []byte(host), Source: "test"}}
	d, err := e.Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.Explain(context.Background(), req, d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{member, host} {
		if strings.Contains(string(b), s) {
			t.Errorf("the explanation holds a secret:\n%s", b)
		}
	}
	for _, want := range []string{`"password":"[redacted]"`, `"hostCopy":"[redacted]"`, `"jwtSecret":"hmac:`, `"rule":"violation"`, `"rule":"edits"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the explanation lacks %s:\n%s", want, b)
		}
	}
	if len(x.Denials) != len(d.Denials) || len(x.Edits) != len(d.Edits) || len(x.Warnings) != len(d.Warnings) {
		t.Errorf("explained %d/%d/%d, decided %d/%d/%d", len(x.Denials), len(x.Warnings), len(x.Edits), len(d.Denials), len(d.Warnings), len(d.Edits))
	}
}
