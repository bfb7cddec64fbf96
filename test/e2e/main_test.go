// Package e2e tests ksguard end to end: `ksguard serve` (the real binary)
// behind a real kube-apiserver and etcd (envtest, built by `make envtest`),
// judged through a real client. Run alone with `make e2e`.
package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ksguard/ksguard/test/harness"
)

// Names used throughout.
const (
	guardedNS   = "kubesphere-system"
	guardedName = "kubesphere-config"
	secretName  = "ksguard-host-jwt"
)

var (
	cluster *harness.Cluster
	bin     string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// Hermetic: nothing reads or writes the caller's home or caches.
	tmp, err := os.MkdirTemp("", "ksguard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	os.Setenv("XDG_CACHE_HOME", tmp+"/cache")
	os.Setenv("HOME", tmp+"/home")

	if bin, err = harness.Build(tmp); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if cluster, err = harness.Start(harness.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the cluster:", err)
		}
	}()
	ctx := context.Background()
	for _, ns := range []string{guardedNS, "other"} {
		if err := cluster.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if err := cluster.Client.Create(ctx, hostSecret(hostJWT)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
