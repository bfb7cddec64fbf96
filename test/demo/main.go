// Command demo shows ksguard's main job on this one machine (`make demo`):
// it starts a local etcd and kube-apiserver, runs `ksguard serve` against
// them with certificates it creates, installs the webhook configurations,
// and applies member configs with kubectl: one whose jwtSecret drifted
// (refused), one with accessTokenMaxAge 2h (stored as 0s), and an upgrade
// of it, which rolls the ks-apiserver Deployment (the restart signal).
// Then it stops everything it started.
//
// It expects bin/ksguard and bin/k8s/{kube-apiserver,etcd,kubectl}, which
// `make demo` builds first. With --keep it leaves everything running until
// Ctrl-C and prints the KUBECONFIG to explore with.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ksguard/ksguard/internal/restart"
	"github.com/ksguard/ksguard/test/harness"
)

// waitDeployment polls the Deployment until cond holds, for up to 30s.
func waitDeployment(ctx context.Context, c *harness.Cluster, key types.NamespacedName, cond func(*appsv1.Deployment) bool) (*appsv1.Deployment, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		d := &appsv1.Deployment{}
		if err := c.Client.Get(ctx, key, d); err == nil && cond(d) {
			return d, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for Deployment %s: %w", key, ctx.Err())
		case <-tick.C:
		}
	}
}

func main() {
	keep := flag.Bool("keep", false, "leave the cluster and ksguard running until Ctrl-C")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := harness.RepoRoot()
	if err == nil {
		err = run(ctx, os.Stdout, filepath.Join(root, "bin", "ksguard"), filepath.Join(root, "bin", "k8s", "kubectl"), *keep)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo failed: %v\n", err)
		os.Exit(1)
	}
}

// steps is the number of numbered steps run prints.
const steps = 6

// run runs the demo with the ksguard binary bin and kubectl, writing what
// happens to out.
func run(ctx context.Context, out io.Writer, bin, kubectl string, keep bool) error {
	ctrllog.SetLogger(logr.Discard())
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	for _, f := range []string{bin, kubectl} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%s is missing: run `make demo`, which builds it", f)
		}
	}
	step := 0
	say := func(format string, a ...any) {
		step++
		fmt.Fprintf(out, "\n[%d/%d] %s\n", step, steps, fmt.Sprintf(format, a...))
	}
	fmt.Fprintln(out, "ksguard demo: the admission webhook behind a real kube-apiserver, on this machine.")

	say("Starting etcd and kube-apiserver (envtest, binaries from bin/k8s)...")
	start := time.Now()
	cluster, err := harness.Start(harness.Options{})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "\nStopping kube-apiserver and etcd.")
		if err := cluster.Stop(); err != nil {
			fmt.Fprintf(out, "  stopping the cluster: %v\n", err)
		}
	}()
	fmt.Fprintf(out, "  up in %.1fs; ksguard's webhook configurations are installed: the mutating one for\n", time.Since(start).Seconds())
	fmt.Fprintln(out, "  CREATE/UPDATE and the validating one for CREATE/UPDATE/DELETE of kubesphere-system/kubesphere-config only.")

	hostJWT, err := os.ReadFile(filepath.Join(root, "examples", "host-jwt-secret"))
	if err != nil {
		return err
	}
	if err := cluster.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kubesphere-system"}}); err != nil {
		return fmt.Errorf("creating namespace kubesphere-system: %w", err)
	}
	// ks-apiserver's Deployment, for the restart signal. No kubelet runs
	// here: the pod template changing is the restart.
	if err := cluster.Client.Create(ctx, harness.StandInDeployment("kubesphere-system", "ks-apiserver")); err != nil {
		return fmt.Errorf("creating Deployment ks-apiserver: %w", err)
	}
	if err := cluster.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kubesphere-system", Name: "ksguard-host-jwt"},
		Data:       map[string][]byte{"jwtSecret": bytes.TrimSpace(hostJWT)},
	}); err != nil {
		return fmt.Errorf("creating the host secret: %w", err)
	}

	logPath := filepath.Join(cluster.Dir, "ksguard.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	say("Starting ksguard serve with a CA and serving certificate it made (certs package), the host's")
	fmt.Fprintln(out, "  jwtSecret in Secret kubesphere-system/ksguard-host-jwt (from examples/host-jwt-secret)...")
	k, err := cluster.StartKsguard(ctx, bin, logFile, "--host-secret", "kubesphere-system/ksguard-host-jwt", "--restart-min-interval", "1s")
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "\nStopping ksguard (SIGTERM).")
		if err := k.Stop(); err != nil {
			fmt.Fprintf(out, "  ksguard: %v\n", err)
		}
	}()
	fmt.Fprintf(out, "  ready on https://%s (log: %s)\n", cluster.WebhookAddr, logPath)

	kc := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", cluster.Kubeconfig, "--cache-dir", filepath.Join(cluster.Dir, "kubectl-cache")}, args...)...)
		cmd.Dir = root
		b, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(b)), err
	}
	indent := func(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

	say("A member config whose jwtSecret drifted from the host's:\n  $ kubectl apply -f examples/drifted-member.yaml")
	res, err := kc("apply", "-f", "examples/drifted-member.yaml")
	fmt.Fprintln(out, indent(res))
	if err == nil {
		return fmt.Errorf("the drifted config was accepted")
	}
	fmt.Fprintln(out, "  => refused: users browsing this member from the host would have been sent back to the login page.")

	say("A member config with the host's jwtSecret and accessTokenMaxAge: 2h:\n  $ kubectl apply -f examples/member-2h.yaml")
	res, err = kc("apply", "-f", "examples/member-2h.yaml")
	fmt.Fprintln(out, indent(res))
	if err != nil {
		return fmt.Errorf("the member config was refused: %w", err)
	}
	var cm corev1.ConfigMap
	if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: "kubesphere-system", Name: "kubesphere-config"}, &cm); err != nil {
		return err
	}
	stored := ""
	for _, line := range strings.Split(cm.Data["kubesphere.yaml"], "\n") {
		if strings.Contains(line, "accessTokenMaxAge") {
			stored = strings.TrimSpace(line)
		}
	}
	fmt.Fprintf(out, "  $ kubectl -n kubesphere-system get configmap kubesphere-config   # what was stored:\n    %s\n", stored)
	if stored != "accessTokenMaxAge: 0s" {
		return fmt.Errorf("stored %q, want accessTokenMaxAge: 0s", stored)
	}
	fmt.Fprintln(out, "  => stored with accessTokenMaxAge 0s; every other line, comment and key order is as applied.")
	fmt.Fprintln(out, "     ksguard recorded this config's hash on Deployment ks-apiserver (first sight: no restart).")
	deploy := types.NamespacedName{Namespace: "kubesphere-system", Name: "ks-apiserver"}
	if _, err := waitDeployment(ctx, cluster, deploy, func(d *appsv1.Deployment) bool { return d.Annotations[restart.HashAnnotation] != "" }); err != nil {
		return err
	}

	say("An upgrade re-renders the config (new terminal image, accessTokenMaxAge: 2h again):\n  $ kubectl apply -f examples/member-upgraded.yaml")
	res, err = kc("apply", "-f", "examples/member-upgraded.yaml")
	fmt.Fprintln(out, indent(res))
	if err != nil {
		return fmt.Errorf("the upgraded config was refused: %w", err)
	}
	d, err := waitDeployment(ctx, cluster, deploy, func(d *appsv1.Deployment) bool {
		return d.Spec.Template.Annotations[restart.RestartedAtAnnotation] != ""
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  => ksguard rolled Deployment ks-apiserver, as `kubectl rollout restart` does:\n    %s=%s\n",
		restart.RestartedAtAnnotation, d.Spec.Template.Annotations[restart.RestartedAtAnnotation])
	res, err = kc("-n", "kubesphere-system", "get", "events", "--field-selector", "reason=Restarted", "-o", "custom-columns=OBJECT:.involvedObject.name,EVENT:.reason,MESSAGE:.message")
	if err != nil {
		return fmt.Errorf("listing the Events: %w: %s", err, res)
	}
	fmt.Fprintf(out, "  $ kubectl -n kubesphere-system get events --field-selector reason=Restarted\n%s\n", indent(res))

	say("What ksguard counted (its /metrics):")
	for _, m := range []struct{ name, label string }{
		{"ksguard_decisions_total", `result="denied"`},
		{"ksguard_decisions_total", `result="mutated"`},
		{"ksguard_decisions_total", `result="allowed"`},
		{"ksguard_restarts_total", `result="restarted"`},
	} {
		v, err := k.Metric(m.name, m.label)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "    %s{%s} %v\n", m.name, m.label, v)
	}

	say("Why would users be sent back to the login page? ksguard doctor checks this cluster as a member\n" +
		"  (the FAQ's checks; the host's jwtSecret from the same file):\n" +
		"  $ ksguard doctor --host-secret-file examples/host-jwt-secret -o short")
	doc := exec.CommandContext(ctx, bin, "doctor", "--kubeconfig", cluster.Kubeconfig, "--host-secret-file", "examples/host-jwt-secret", "-o", "short")
	doc.Dir = root
	res2, err := doc.CombinedOutput()
	fmt.Fprintln(out, indent(strings.TrimSpace(string(res2))))
	if err != nil {
		return fmt.Errorf("ksguard doctor: %w", err)
	}
	fmt.Fprintln(out, "  => no check failed (the examples were rendered from a host's template, hence the warning).")

	if keep {
		fmt.Fprintf(out, "\nStill running. Try:\n  export KUBECONFIG=%s\n  %s -n kubesphere-system edit configmap kubesphere-config\n  %s doctor --host-secret-file examples/host-jwt-secret\nPress Ctrl-C to stop.\n", cluster.Kubeconfig, kubectl, bin)
		<-ctx.Done()
	}
	fmt.Fprintln(out, "\nDone: drift refused, accessTokenMaxAge mutated to 0s, ks-apiserver restarted for the accepted change.")
	return nil
}
