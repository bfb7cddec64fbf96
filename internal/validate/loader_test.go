package validate

import (
	"strings"
	"testing"
	"time"
)

// TestReadAsKubeSphere pins the loader view on the behaviours that make it
// differ from a plain YAML 1.2 reading. test/parity checks the same view
// against KubeSphere's real loaders on thousands of documents; these cases
// say why.
func TestReadAsKubeSphere(t *testing.T) {
	const v3 = "authentication:\n  jwtSecret: s\n  oauthOptions:\n    accessTokenMaxAge: %s\n"
	cases := []struct {
		name, schema, doc string
		secret            string
		age               time.Duration
		err               string // substring of the load error; "" when it loads
	}{
		{name: "plain v3", schema: SchemaV3, doc: strings.Replace(v3, "%s", "0s", 1), secret: "s"},
		{name: "bare integer is nanoseconds", schema: SchemaV3, doc: strings.Replace(v3, "%s", "7200", 1), secret: "s", age: 7200},
		{name: "absent age is the 2h default", schema: SchemaV3, doc: "authentication:\n  jwtSecret: s\n", secret: "s", age: 2 * time.Hour},
		{name: "empty mapping is the default", schema: SchemaV3, doc: strings.Replace(v3, "%s", "{}", 1), secret: "s", age: 2 * time.Hour},
		{name: "bool false is zero (weak typing)", schema: SchemaV3, doc: strings.Replace(v3, "%s", "false", 1), secret: "s"},
		{name: "untrimmed duration fails", schema: SchemaV3, doc: strings.Replace(v3, "%s", `"0s "`, 1), err: "cannot decode authentication.OAuthOptions.AccessTokenMaxAge as a duration"},
		{name: "YAML 1.1 yes is the bool true, read as 1", schema: SchemaV3, doc: "authentication:\n  jwtSecret: yes\n", secret: "1", age: 2 * time.Hour},
		{name: "YAML 1.2 yes is a string", schema: SchemaV4, doc: "authentication:\n  issuer:\n    jwtSecret: yes\n", secret: "yes", age: 2 * time.Hour},
		{name: "0123 is 83 in YAML 1.1", schema: SchemaV3, doc: "authentication:\n  jwtSecret: 0123\n", secret: "83", age: 2 * time.Hour},
		{name: "top-level dotted key beats the nested one", schema: SchemaV3, doc: "authentication:\n  jwtSecret: s\nauthentication.jwtSecret: t\n", secret: "t", age: 2 * time.Hour},
		{name: "inner dotted key beats the nested one", schema: SchemaV4, doc: "authentication:\n  issuer.accessTokenMaxAge: 1h\n  issuer:\n    jwtSecret: s\n    accessTokenMaxAge: 0s\n", secret: "s", age: time.Hour},
		{name: "v1.4: a null dotted key hides the nested one", schema: SchemaV3, doc: "authentication:\n  jwtSecret: s\nauthentication.jwtSecret:\n", secret: "", age: 2 * time.Hour},
		{name: "v1.18: a null dotted key does not", schema: SchemaV4, doc: "authentication:\n  issuer:\n    jwtSecret: s\nauthentication.issuer.jwtSecret:\n", secret: "s", age: 2 * time.Hour},
		{name: "yaml.v2 applies a later merge over an explicit key", schema: SchemaV3, doc: "b: &b {accessTokenMaxAge: 2h}\nauthentication:\n  jwtSecret: s\n  oauthOptions:\n    accessTokenMaxAge: 0s\n    <<: *b\n", secret: "s", age: 2 * time.Hour},
		{name: "yaml.v3 keeps the explicit key", schema: SchemaV4, doc: "b: &b {accessTokenMaxAge: 2h}\nauthentication:\n  issuer:\n    jwtSecret: s\n    accessTokenMaxAge: 0s\n    <<: *b\n", secret: "s"},
		{name: "keys fold to lower case", schema: SchemaV3, doc: "Authentication:\n  JWTSECRET: s\n  OAuthOptions:\n    AccessTokenMaxAge: 0s\n", secret: "s"},
		{name: "a null issuer reads as empty", schema: SchemaV4, doc: "authentication:\n  issuer: null\n", secret: "", age: 2 * time.Hour},
		{name: "a list key cannot be loaded", schema: SchemaV3, doc: "authentication:\n  jwtSecret: s\n? [a, b]\n: c\n", err: "it cannot read the YAML"},
		{name: "a scalar merge cannot be loaded", schema: SchemaV4, doc: "authentication:\n  <<: 1\n", err: "it cannot read the YAML"},
		{name: "duplicate keys stop v4", schema: SchemaV4, doc: "authentication:\n  issuer: {}\n  issuer: {}\n", err: "already defined"},
		{name: "duplicate keys: v3 keeps the last", schema: SchemaV3, doc: "authentication:\n  jwtSecret: s\n  jwtSecret: t\n", secret: "t", age: 2 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := readAsKubeSphere(tc.schema, []byte(tc.doc))
			if tc.err != "" {
				if r.err == nil || !strings.Contains(r.err.message, tc.err) {
					t.Fatalf("load error = %+v, want one containing %q", r.err, tc.err)
				}
				return
			}
			if r.err != nil {
				t.Fatalf("load error: %+v", r.err)
			}
			if r.jwtSecret != tc.secret || r.accessTokenMaxAge != tc.age {
				t.Errorf("read jwtSecret %q, accessTokenMaxAge %v; want %q, %v", r.jwtSecret, r.accessTokenMaxAge, tc.secret, tc.age)
			}
		})
	}
}

// TestLoadErrorsHoldNoValue: the YAML libraries and mapstructure quote
// values in their errors; what ksguard makes of them never does.
func TestLoadErrorsHoldNoValue(t *testing.T) {
	const secret = "s3cr3t-value-4711"
	docs := map[string]string{
		SchemaV3 + "/list":       "authentication:\n  jwtSecret: [" + secret + "]\n",
		SchemaV3 + "/map":        "authentication:\n  jwtSecret: {a: " + secret + "}\n",
		SchemaV4 + "/list":       "authentication:\n  issuer:\n    jwtSecret: [" + secret + "]\n",
		SchemaV3 + "/duration":   "authentication:\n  maximumClockSkew: " + secret + "\n",
		SchemaV4 + "/scalar-doc": secret + "\n",
		SchemaV3 + "/scalar-doc": secret + "\n",
		SchemaV4 + "/dup-key":    "authentication:\n  " + secret + ": 1\n  " + secret + ": 2\n",
		SchemaV3 + "/list-key":   "? [" + secret + "]\n: c\n",
		SchemaV3 + "/int":        "authentication:\n  authenticateRateLimiterMaxTries: " + secret + "\n",
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			r := readAsKubeSphere(strings.SplitN(name, "/", 2)[0], []byte(doc))
			if r.err == nil {
				t.Fatalf("loads; want a load error")
			}
			if strings.Contains(r.err.message, secret) {
				t.Errorf("load error shows the value: %q", r.err.message)
			}
		})
	}
}
