package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksguard/ksguard/test/harness"
)

// TestDemo runs `make demo`'s program and checks that it tells what
// happened: the drift refused with the policy's message, 2h stored as 0s.
func TestDemo(t *testing.T) {
	bin, err := harness.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		root, err := harness.RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		assets = filepath.Join(root, "bin", "k8s")
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	var out bytes.Buffer
	if err := run(context.Background(), &out, bin, filepath.Join(assets, "kubectl"), false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		`admission webhook "mutate.ksguard.io" denied the request: ksguard: jwtSecret at authentication.jwtSecret (line 8) does not match the host cluster's jwtSecret`,
		"Warning: ksguard set authentication.oauthOptions.accessTokenMaxAge to 0s",
		"configmap/kubesphere-config created",
		"    accessTokenMaxAge: 0s\n",
		`ksguard_decisions_total{result="denied"} 1`,
		"=> ksguard rolled Deployment ks-apiserver",
		"    kubectl.kubernetes.io/restartedAt=2",
		"ks-apiserver   Restarted   rolling restart for kubesphere-system/kubesphere-config",
		`ksguard_restarts_total{result="restarted"} 1`,
		"Done: drift refused, accessTokenMaxAge mutated to 0s, ks-apiserver restarted for the accepted change.",
		"cluster.role\twarning\tmulticluster.clusterRole is \"host\"",
		"OK: 1 member(s), ",
		"Stopping ksguard (SIGTERM).",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo did not print %q:\n%s", want, out.String())
		}
	}
	secret, err := os.ReadFile("../../examples/host-jwt-secret")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), strings.TrimSpace(string(secret))) || strings.Contains(out.String(), "member-drifted-secret-7Qx") {
		t.Error("the demo printed a jwtSecret")
	}
}
