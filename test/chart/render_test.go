package chart

import (
	"bytes"
	"encoding/base64"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// cases are the values files in testdata/values, by name.
func cases(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/values/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no values files in testdata/values: %v", err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	return names
}

// helm runs helm with args and returns its stdout, stderr and error.
func helm(args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	cmd := exec.Command(helmBin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// render renders the chart as release ksguard in namespace with the values
// file of case name, plus --set flags.
func render(t *testing.T, namespace, name string, set ...string) string {
	t.Helper()
	args := []string{"template", "ksguard", chartPath, "--namespace", namespace, "--kube-version", kubeVersion,
		"-f", filepath.Join("testdata", "values", name+".yaml")}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, errOut, err := helm(args...)
	if err != nil {
		t.Fatalf("helm template (%s): %v\n%s", name, err, errOut)
	}
	return out
}

func TestLint(t *testing.T) {
	for _, name := range cases(t) {
		t.Run(name, func(t *testing.T) {
			out, errOut, err := helm("lint", "--strict", chartPath, "--kube-version", kubeVersion, "-f", filepath.Join("testdata", "values", name+".yaml"))
			if err != nil || strings.Contains(out, "[WARNING]") || strings.Contains(out, "[ERROR]") {
				t.Fatalf("helm lint: %v\n%s%s", err, out, errOut)
			}
		})
	}
}

// TestTemplate compares what helm renders for each values file with
// testdata/golden (go test ./test/chart -update rewrites them).
func TestTemplate(t *testing.T) {
	for _, name := range cases(t) {
		t.Run(name, func(t *testing.T) {
			got := maskConfigHashKey(t, render(t, "ksguard-system", name))
			golden := filepath.Join("testdata", "golden", name+".yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./test/chart -run TestTemplate -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("helm template differs from %s (rerun with -update if the change is intended):\n%s", golden, diff(string(want), got))
			}
		})
	}
}

// configHashKeyLine is the data line of the config-hash key Secret: 32
// random letters and digits, base64-encoded.
var configHashKeyLine = regexp.MustCompile(`(?m)^  key: "([A-Za-z0-9+/=]+)"$`)

// maskConfigHashKey replaces the config-hash key, random at every render
// (helm template cannot look the installed one up), by a fixed mark, so
// the golden files stay deterministic; it fails t unless the key is there
// and is 32 random letters and digits.
func maskConfigHashKey(t *testing.T, out string) string {
	t.Helper()
	docs := strings.Split(out, "\n---\n")
	found := 0
	for i, d := range docs {
		if !strings.Contains(d, "kind: Secret\n") || !strings.Contains(d, "-config-hash-key\n") {
			continue
		}
		m := configHashKeyLine.FindStringSubmatch(d)
		if m == nil {
			t.Fatalf("the config-hash key Secret has no key:\n%s", d)
		}
		key, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil || !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).Match(key) {
			t.Fatalf("the config-hash key is not 32 random letters and digits (%v)", err)
		}
		docs[i] = strings.Replace(d, m[0], `  key: "MASKED: 32 random letters and digits, kept by upgrades"`, 1)
		found++
	}
	if found != 1 {
		t.Fatalf("%d config-hash key Secrets rendered, want 1", found)
	}
	return strings.Join(docs, "\n---\n")
}

// TestConfigHashKeyRandom: two renders make two different keys (an
// install's key is its own; upgrades keep it, see the lifecycle test).
func TestConfigHashKeyRandom(t *testing.T) {
	a := configHashKeyLine.FindString(render(t, "ksguard-system", "default"))
	b := configHashKeyLine.FindString(render(t, "ksguard-system", "default"))
	if a == "" || a == b {
		t.Fatalf("two renders gave the keys %q and %q", a, b)
	}
}

// diff returns the first lines where want and got differ, with context.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		if i >= len(w) || i >= len(g) || w[i] != g[i] {
			lo := max(0, i-3)
			return "want:\n" + strings.Join(w[lo:min(len(w), i+4)], "\n") + "\ngot:\n" + strings.Join(g[lo:min(len(g), i+4)], "\n")
		}
	}
	return ""
}

// TestBadValues: wrong values fail with the chart's (or the schema's)
// message, not a broken manifest.
func TestBadValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  []string
		says string
	}{
		{name: "both secret options", set: []string{"hostJwtSecret.value=x", "hostJwtSecret.existingSecret=y"}, says: "hostJwtSecret: set existingSecret or value, not both"},
		{name: "neither secret option", says: "hostJwtSecret: set existingSecret (a Secret in the release namespace with key jwtSecret) or value"},
		{name: "wrong type", set: []string{"hostJwtSecret.value=x", "replicaCount=two"}, says: "at '/replicaCount': got string, want integer"},
		{name: "wrong type in a map", set: []string{"hostJwtSecret.value=x", "certManager.enabled=maybe"}, says: "at '/certManager/enabled': got string, want boolean"},
		{name: "unknown value", set: []string{"hostJwtSecret.value=x", "replicas=2"}, says: "additional properties 'replicas' not allowed"},
		{name: "bad failure policy", set: []string{"hostJwtSecret.value=x", "webhook.failurePolicy=Maybe"}, says: "/webhook/failurePolicy"},
		{name: "bad restart target", set: []string{"hostJwtSecret.value=x", "restart.target=a/b/c"}, says: "/restart/target"},
		{name: "bad duration", set: []string{"hostJwtSecret.value=x", "restart.minInterval=10 seconds"}, says: "/restart/minInterval"},
		{name: "issuerRef without a name", set: []string{"hostJwtSecret.value=x", "certManager.issuerRef.kind=ClusterIssuer"}, says: "certManager.issuerRef.name is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"template", "ksguard", chartPath, "--kube-version", kubeVersion}
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			out, errOut, err := helm(args...)
			if err == nil {
				t.Fatalf("helm template accepted %v:\n%s", tc.set, out)
			}
			if !strings.Contains(errOut, tc.says) {
				t.Fatalf("helm template failed with %q; want it to say %q", errOut, tc.says)
			}
		})
	}
}
