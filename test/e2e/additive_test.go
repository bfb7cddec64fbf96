package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAdditivePolicyDir: a --policy-dir holding only the README's example
// rule (examples/my-policies, the default --policy-mode=additive) adds its
// denial through the API server while every built-in guarantee stays: drift
// is refused and accessTokenMaxAge is stored as 0s. A file that would
// redefine a built-in rule is refused at reload with its file and line, and
// the last good policies keep serving.
func TestAdditivePolicyDir(t *testing.T) {
	dir := t.TempDir()
	example, err := os.ReadFile("../../examples/my-policies/inactivity.rego")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "inactivity.rego"), string(example))
	k := startKsguard(t, "--host-secret", guardedNS+"/"+secretName, "--policy-dir", dir, "--file-poll-interval", "1h")
	c, _ := newClient(t)
	doc := func(secret, maxAge, timeout string) string {
		return strings.Replace(document(t, secret, maxAge), "    clients:", "    accessTokenInactivityTimeout: "+timeout+"\n    clients:", 1)
	}
	const added = "accessTokenInactivityTimeout is 10m: set it to 0s"

	for _, tc := range []struct {
		name    string
		doc     string
		refused string // a substring of the refusal; "" when the write is stored
		stored  string // a substring of the stored document
	}{
		{name: "the example rule denies", doc: doc(hostJWT, "0s", "10m"), refused: added},
		{name: "drift is still refused", doc: doc(driftJWT, "0s", "0s"), refused: "does not match the host cluster's jwtSecret"},
		{name: "accessTokenMaxAge is still stored as 0s", doc: doc(hostJWT, "2h", "0s"),
			stored: "accessTokenMaxAge: 0s   # keep this comment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := put(c, tc.doc)
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("want a refusal saying %q, got %v", tc.refused, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := getConfig(t, guardedKey()); !strings.Contains(got, tc.stored) {
				t.Errorf("stored document lacks %q:\n%s", tc.stored, got)
			}
		})
	}

	t.Run("a file redefining a built-in rule is refused at reload", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "weaken.rego"), "package ksguard.admission\n\nbreak_glass if true\n")
		eventually(t, "the refusal is counted", func() error {
			if v := metric(t, k, "ksguard_policy_reloads_total", `result="failure"`); v != 1 {
				return fmt.Errorf("ksguard_policy_reloads_total{result=\"failure\"} = %v", v)
			}
			return nil
		})
		if !strings.Contains(k.Logs(), "weaken.rego:3: rule break_glass is a built-in rule") {
			t.Errorf("the refusal (weaken.rego:3) is not in the log")
		}
		if err := put(c, doc(driftJWT, "0s", "0s")); err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Errorf("drift is not refused while the weakening file sits in the directory: %v", err)
		}
		if err := os.Remove(filepath.Join(dir, "weaken.rego")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("removing the example rule is served", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "inactivity.rego"), "package ksguard.admission\n\n# no rules today\nunused if false\n")
		eventually(t, "the timeout is allowed", func() error { return put(c, doc(hostJWT, "0s", "10m")) })
		if err := put(c, document(t, hostJWT, "0s")); err != nil { // leave the config good
			t.Fatal(err)
		}
	})
}
