package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/policies"
	"github.com/ksguard/ksguard/test/harness"
)

// TestWarnMode: with --mode=warn, drift is stored, and the client sees
// the denial as a warning.
func TestWarnMode(t *testing.T) {
	startKsguard(t, "--host-secret", guardedNS+"/"+secretName, "--mode", "warn")
	c, warned := newClient(t)
	if err := put(c, document(t, driftJWT, "0s")); err != nil {
		t.Fatalf("warn mode refused a drifted write: %v", err)
	}
	ws := strings.Join(warned.take(), "\n")
	if !strings.Contains(ws, "ksguard (warn mode) would deny: jwtSecret at authentication.jwtSecret (line 10) does not match the host cluster's jwtSecret") {
		t.Errorf("the client saw no warn-mode warning: %q", ws)
	}
	assertNoSecret(t, "the client's warnings", ws)
	if err := put(c, document(t, hostJWT, "0s")); err != nil { // leave the config good
		t.Fatal(err)
	}
}

// TestPolicyReload: --policy-dir is reloaded on change; a policy that does
// not compile keeps the last good one serving and is counted.
func TestPolicyReload(t *testing.T) {
	dir := t.TempDir()
	mods, err := readEmbeddedPolicies()
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range mods {
		writeFile(t, filepath.Join(dir, name), src)
	}
	k := startKsguard(t, "--host-secret", guardedNS+"/"+secretName, "--policy-dir", dir, "--file-poll-interval", "1h")
	c, _ := newClient(t)
	if err := put(c, document(t, hostJWT, "0s")); err != nil {
		t.Fatal(err)
	}
	flagged := func() error {
		cm := configMap(guardedNS, guardedName, "")
		if err := c.Get(ctx, client.ObjectKeyFromObject(cm), cm); err != nil {
			t.Fatal(err)
		}
		cm.Annotations = map[string]string{"ksguard.io/e2e": "deny"}
		return c.Update(ctx, cm, client.DryRunAll)
	}
	const marker = "e2e: the ksguard.io/e2e annotation is set"
	denied := func() error {
		err := flagged()
		if err == nil || !strings.Contains(err.Error(), marker) {
			return fmt.Errorf("not denied by the added rule: %v", err)
		}
		return nil
	}
	if err := flagged(); err != nil {
		t.Fatalf("before the change, the annotation alone was refused: %v", err)
	}

	t.Run("a good change is served", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "e2e.rego"), "package ksguard.admission\n\nviolation contains \""+marker+"\" if {\n\twriting\n\tinput.object.annotations[\"ksguard.io/e2e\"] == \"deny\"\n}\n")
		eventually(t, "the added rule denies", denied)
		harness.WaitCount(t, 1, "ksguard_policy_reloads_total", []string{`result="success"`}, k)
	})

	t.Run("a broken change keeps the last good policy", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "broken.rego"), "package ksguard.admission\n\nviolation contains msg if {\n")
		eventually(t, "the failure is counted", func() error {
			if v := metric(t, k, "ksguard_policy_reloads_total", `result="failure"`); v != 1 {
				return fmt.Errorf("ksguard_policy_reloads_total{result=\"failure\"} = %v", v)
			}
			return nil
		})
		if !strings.Contains(k.Logs(), "broken.rego:4") {
			t.Errorf("the compiler's message (broken.rego:4) is not in the log")
		}
		if err := denied(); err != nil {
			t.Errorf("the last good policy is not serving: %v", err)
		}
		if err := c.Update(ctx, withDoc(t, guardedKey(), document(t, hostJWT, "0s")), client.DryRunAll); err != nil {
			t.Errorf("a good write is refused while a broken policy sits in the directory: %v", err)
		}
	})

	t.Run("removing both serves the original policy", func(t *testing.T) {
		for _, f := range []string{"broken.rego", "e2e.rego"} {
			if err := os.Remove(filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, "the annotation alone is allowed again", flagged)
		harness.WaitCount(t, 2, "ksguard_policy_reloads_total", []string{`result="success"`}, k)
	})
}

// readEmbeddedPolicies returns the embedded policies, tests left out.
func readEmbeddedPolicies() (map[string]string, error) {
	entries, err := policies.FS.ReadDir(".")
	if err != nil {
		return nil, err
	}
	mods := map[string]string{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "_test.rego") {
			continue
		}
		b, err := policies.FS.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		mods[e.Name()] = string(b)
	}
	return mods, nil
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
