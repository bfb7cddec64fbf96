package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ksguard/ksguard/test/harness"
)

// runner holds one run's cluster and state.
type runner struct {
	cfg           config
	cluster       *harness.Cluster
	bin           string // ksguard
	noop          string // the no-op webhook
	floor         string // the stack alone (test/load/floor)
	mutating      *admissionregistrationv1.MutatingWebhookConfiguration
	validating    *admissionregistrationv1.ValidatingWebhookConfiguration
	cm            *corev1.ConfigMap // the guarded ConfigMap as last stored
	n             int               // writes so far
	opaPolicyFile string
	opaDataFile   string
	out           io.Writer
}

// run starts a cluster, runs the rounds and the direct mode, and prints
// the tables to out.
func run(ctx context.Context, cfg config, out io.Writer) (err error) {
	if cfg.hostSecret == "" {
		return errors.New("no host secret")
	}
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	if !filepath.IsAbs(cfg.opa) {
		cfg.opa = filepath.Join(root, cfg.opa)
	}
	tmp, err := os.MkdirTemp("", "ksguard-load-")
	if err != nil {
		return fmt.Errorf("creating a scratch directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	r := &runner{cfg: cfg, out: out}
	if r.bin, err = harness.Build(tmp); err != nil {
		return err
	}
	if r.noop, err = buildCommand(root, tmp, "noop"); err != nil {
		return err
	}
	if r.floor, err = buildCommand(root, tmp, "floor"); err != nil {
		return err
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(root, "bin", "k8s")
	}
	version, err := harness.KubeVersion(assets)
	if err != nil {
		return err
	}
	if r.mutating, r.validating, err = harness.ChartWebhookConfigurations(version); err != nil {
		return err
	}
	if r.cluster, err = harness.Start(harness.Options{Assets: assets, NoWebhooks: true}); err != nil {
		return err
	}
	defer func() {
		if stopErr := r.cluster.Stop(); stopErr != nil {
			err = errors.Join(err, fmt.Errorf("stopping the cluster: %w", stopErr))
		}
	}()
	if err := r.setup(ctx, tmp); err != nil {
		return err
	}
	contenders := r.contenders()
	results, err := r.rounds(ctx, contenders)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Through the API server: %d rounds × %d writes per contender (+%d warm-up), interleaved\n\n", cfg.rounds, cfg.writes, cfg.warmup)
	printRounds(out, contenders, results)
	if cfg.direct > 0 {
		direct, err := r.directAll(ctx, contenders)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "\nDirect: %d AdmissionReviews per contender (mutate and validate alternating), %d at a time, over TLS\n\n", cfg.direct, cfg.concurrency)
		printDirect(out, contenders, direct)
	}
	st, err := r.startup(ctx)
	if err != nil {
		return fmt.Errorf("timing the startup: %w", err)
	}
	fmt.Fprintf(out, "\nksguard serve, start to ready (/readyz, polled every 2 ms), %d starts: median %s, slowest %s; RSS idle %s after ready: median %s, largest %s\n",
		len(st.ready), st.ready[len(st.ready)/2].Round(time.Millisecond), st.ready[len(st.ready)-1].Round(time.Millisecond),
		r.cfg.idle, mib(st.idle[len(st.idle)/2]), mib(st.idle[len(st.idle)-1]))
	fmt.Fprintf(out, "the stack's floor (test/load/floor: controller-runtime's manager, client and webhook server and OPA's rego, initialised, nothing else), RSS idle %s after start: %s\n",
		r.cfg.idle, mib(st.floor))
	if cfg.profileDir != "" {
		return r.profile(ctx)
	}
	return nil
}

// setup creates the guarded namespace, the host Secret, the guarded
// ConfigMap and OPA's files.
func (r *runner) setup(ctx context.Context, dir string) error {
	c := r.cluster.Client
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: guardedNS}}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", guardedNS, err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: guardedNS, Name: hostSecretName},
		Data:       map[string][]byte{"jwtSecret": []byte(r.cfg.hostSecret)},
	}
	if err := c.Create(ctx, secret); err != nil {
		return fmt.Errorf("creating the host Secret: %w", err)
	}
	r.cm = guardedConfigMap(r.cfg.hostSecret)
	if err := c.Create(ctx, r.cm); err != nil {
		return fmt.Errorf("creating the guarded ConfigMap: %w", err)
	}
	r.opaPolicyFile = filepath.Join(dir, "ksguard.rego")
	r.opaDataFile = filepath.Join(dir, "data.json")
	if err := os.WriteFile(r.opaPolicyFile, []byte(opaPolicy), 0o600); err != nil {
		return fmt.Errorf("writing OPA's policy: %w", err)
	}
	data, err := json.Marshal(map[string]any{"host": map[string]string{"jwtSecret": r.cfg.hostSecret}})
	if err != nil {
		return fmt.Errorf("encoding OPA's data: %w", err)
	}
	if err := os.WriteFile(r.opaDataFile, data, 0o600); err != nil {
		return fmt.Errorf("writing OPA's data: %w", err)
	}
	return nil
}
