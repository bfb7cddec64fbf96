// Command certmanager runs real cert-manager controllers and the cert-manager
// CA injector in one process against the kube-apiserver named by a
// kubeconfig.
//
// It exists for end-to-end tests that run a bare API server (envtest: etcd
// and kube-apiserver, no nodes), where cert-manager's own images cannot run.
// It is built from cert-manager's library packages, because the
// cert-manager cmd modules are not published as Go modules. The
// cert-manager CRDs must already be installed. Only what a chart using
// SelfSigned and CA issuers needs is run: the Certificate controllers,
// Issuer and ClusterIssuer controllers, the CertificateRequest approver
// and the SelfSigned and CA signers, and CA injection into validating and
// mutating webhook configurations. cert-manager's webhook is not run, so
// resources are not defaulted or validated on admission.
//
// Usage:
//
//	certmanager --kubeconfig=PATH [--cluster-resource-namespace=NS] [-v=N]
//
// The kubeconfig may also be given by the KUBECONFIG environment variable
// (a single path). Once the controllers are running with their informers
// synced and the injector's manager has started all its controllers, the
// line "cert-manager test harness: running" is written to stderr. The
// process stops cleanly, with status 0, on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"golang.org/x/sync/errgroup"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	crconfig "sigs.k8s.io/controller-runtime/pkg/client/config"
)

// readyLine is written to stderr once the harness is fully running.
const readyLine = "cert-manager test harness: running"

func main() {
	clusterResourceNamespace := flag.String("cluster-resource-namespace", "cert-manager",
		"namespace holding the Secrets referenced by ClusterIssuers")
	klog.InitFlags(nil) // -v and the other klog flags
	// --kubeconfig is registered on flag.CommandLine by controller-runtime.
	flag.Parse()

	logf.InitLogs()
	defer logf.FlushLogs()
	ctrl.SetLogger(klog.NewKlogr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, kubeconfigPath(), *clusterResourceNamespace); err != nil {
		klog.ErrorS(err, "cert-manager test harness failed")
		logf.FlushLogs()
		os.Exit(1)
	}
}

// kubeconfigPath returns the --kubeconfig flag, or else $KUBECONFIG.
func kubeconfigPath() string {
	if f := flag.Lookup(crconfig.KubeconfigFlagName); f != nil && f.Value.String() != "" {
		return f.Value.String()
	}
	return os.Getenv("KUBECONFIG")
}

// run sets up the cert-manager controllers and the CA injector, starts
// them, reports readiness and blocks until ctx is done or one of them fails.
func run(ctx context.Context, kubeconfig, clusterResourceNamespace string) error {
	if kubeconfig == "" {
		return errors.New("no kubeconfig: set --kubeconfig or KUBECONFIG")
	}
	g, gctx := errgroup.WithContext(ctx)

	controllers, err := newControllers(gctx, kubeconfig, clusterResourceNamespace)
	if err != nil {
		return fmt.Errorf("setting up cert-manager controllers: %w", err)
	}
	injector, err := newInjector(gctx, kubeconfig)
	if err != nil {
		return fmt.Errorf("setting up cert-manager cainjector: %w", err)
	}

	controllers.start(gctx, g)
	g.Go(func() error { return injector.Start(gctx) })

	// Both waits end early only if gctx is done: on a signal or on a
	// failure, which g.Wait reports.
	if controllers.waitForCacheSync(gctx) {
		select {
		case <-injector.Elected(): // all the manager's runnables have started
			fmt.Fprintln(os.Stderr, readyLine)
		case <-gctx.Done():
		}
	}

	err = g.Wait()
	controllers.shutdown()
	return err
}
