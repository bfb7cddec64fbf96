// Package chart tests the Helm chart with real components: helm (built
// from the Go module proxy by `make helm`) lints and renders it, a real
// kube-apiserver and etcd (envtest) accept every rendered object, real
// cert-manager controllers (test/certmanager) issue its certificate and
// inject its CA, and `ksguard serve`, run with the chart's own arguments
// as the chart's ServiceAccount, guards the ConfigMap behind the chart's
// own webhook configurations; helm install, upgrade and uninstall run
// against the API server. Run alone with `make chart-test`.
package chart

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ksguard/ksguard/test/harness"
)

// Names used throughout.
const (
	guardedNS   = "kubesphere-system"
	guardedName = "kubesphere-config"
	// kubeVersion is what helm renders for (the envtest API server's).
	kubeVersion = "1.37.1"
	// promOperator is the prometheus-operator module whose ServiceMonitor
	// CRD the apply test installs.
	promOperator = "github.com/prometheus-operator/prometheus-operator@v0.85.0"
)

var (
	ctx       = context.Background()
	cluster   *harness.Cluster
	bin       string // ksguard
	cmBin     string // the cert-manager test harness (test/certmanager)
	helmBin   string
	repoRoot  string
	chartPath string
	// tmp holds the binaries and the hermetic HOME; run removes it.
	tmp string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// Before anything starts: a bad flag exits here, not from m.Run with
	// the API server left running.
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	defer func() {
		if tmp == "" {
			return
		}
		if err := os.RemoveAll(tmp); err != nil {
			fmt.Fprintln(os.Stderr, "removing the temporary directory:", err)
		}
	}()
	if err := setup(m); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the cluster:", err)
		}
	}()
	return m.Run()
}

// setup builds the binaries, finds helm and the CRDs, starts the cluster
// and installs the CRDs and the namespaces.
func setup(m *testing.M) error {
	var err error
	if repoRoot, err = harness.RepoRoot(); err != nil {
		return err
	}
	chartPath = filepath.Join(repoRoot, "charts", "ksguard")
	if helmBin = os.Getenv("HELM"); helmBin == "" {
		helmBin = filepath.Join(repoRoot, "bin", "tools", "helm")
	}
	if _, err := os.Stat(helmBin); err != nil {
		return fmt.Errorf("helm not found at %s: run `make helm` (it builds helm from the Go module proxy), or set HELM", helmBin)
	}
	if tmp, err = os.MkdirTemp("", "ksguard-chart-"); err != nil {
		return err
	}
	// With the caller's Go build cache and module cache: built once, then cached.
	if bin, err = harness.Build(tmp); err != nil {
		return err
	}
	cmDir := filepath.Join(repoRoot, "test", "certmanager")
	cmBin = filepath.Join(tmp, "cert-manager-harness")
	if err := goCmd(cmDir, "build", "-o", cmBin, "."); err != nil {
		return fmt.Errorf("building the cert-manager test harness: %w", err)
	}
	cmCRDs, err := moduleDir(cmDir, "github.com/cert-manager/cert-manager")
	if err != nil {
		return err
	}
	promDir, err := moduleDir(tmp, promOperator) // outside any module: go.mod and go.sum stay as they are
	if err != nil {
		return err
	}
	os.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache"))
	os.Setenv("HOME", filepath.Join(tmp, "home"))

	if cluster, err = harness.Start(harness.Options{NoWebhooks: true}); err != nil {
		return err
	}
	if _, err := envtest.InstallCRDs(cluster.Config, envtest.CRDInstallOptions{
		Paths: []string{
			filepath.Join(cmCRDs, "deploy", "crds"),
			filepath.Join(promDir, "example", "prometheus-operator-crd", "monitoring.coreos.com_servicemonitors.yaml"),
		},
		ErrorIfPathMissing: true,
	}); err != nil {
		cluster.Stop()
		return fmt.Errorf("installing the cert-manager and ServiceMonitor CRDs: %w", err)
	}
	for _, ns := range []string{guardedNS, "ksguard-system", "ksguard-self", "ops"} {
		if err := cluster.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			cluster.Stop()
			return err
		}
	}
	return nil
}

// goCmd runs the go command in dir.
func goCmd(dir string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %v in %s: %w\n%s", args, dir, err, out)
	}
	return nil
}

// moduleDir returns where the module cache holds module (PATH, as required
// by dir's go.mod, or PATH@VERSION), downloading it if needed.
func moduleDir(dir, module string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = dir
	out, err := cmd.Output()
	var m struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &m); jerr != nil || m.Error != "" || m.Dir == "" {
		return "", fmt.Errorf("finding module %s: %v %s", module, err, m.Error)
	}
	return m.Dir, nil
}
