// Package e2e tests ksguard end to end: `ksguard serve` (the real binary)
// behind a real kube-apiserver and etcd (envtest, built by `make envtest`),
// judged through a real client. Run alone with `make e2e`.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/go-logr/logr"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

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
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// Before anything starts: a bad flag exits here, not from m.Run with
	// the API server left running.
	flag.Parse()
	ctrllog.SetLogger(logr.Discard()) // the API server's and envtest's own chatter
	tmp, err := os.MkdirTemp("", "ksguard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if bin, err = harness.Build(tmp); err != nil { // with the caller's Go build cache
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Hermetic from here: nothing reads or writes the caller's home or caches.
	os.Setenv("XDG_CACHE_HOME", tmp+"/cache")
	os.Setenv("HOME", tmp+"/home")
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
	for _, ns := range []string{guardedNS, "other", leaseNS} {
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
