// Package e2e tests ksguard end to end: `ksguard serve` (the real binary)
// behind a real kube-apiserver and etcd (envtest, built by `make envtest`),
// judged through a real client. Run alone with `make e2e`.
package e2e

import (
	"context"
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
	// leaseNS is ksguard's own namespace: the leader-election Lease and
	// its Role live there, apart from the guarded namespace, as installed.
	leaseNS = "ksguard-system"
)

var (
	cluster *harness.Cluster
	bin     string
)

func TestMain(m *testing.M) {
	os.Exit(harness.RunMain(m, "ksguard-e2e-", setUp, func() { harness.StopCluster(cluster) }))
}

// setUp builds ksguard and starts the cluster the tests share, with the
// guarded namespaces and the host Secret.
func setUp(tmp string) error {
	var err error
	if bin, err = harness.Build(tmp); err != nil { // with the caller's Go build cache
		return err
	}
	// Hermetic from here: nothing reads or writes the caller's home or caches.
	os.Setenv("XDG_CACHE_HOME", tmp+"/cache")
	os.Setenv("HOME", tmp+"/home")
	if cluster, err = harness.Start(harness.Options{}); err != nil {
		return err
	}
	ctx := context.Background()
	for _, ns := range []string{guardedNS, "other", leaseNS} {
		if err := cluster.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return err
		}
	}
	return cluster.Client.Create(ctx, hostSecret(hostJWT))
}
