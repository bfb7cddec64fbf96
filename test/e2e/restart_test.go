package e2e

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/internal/restart"
	"github.com/ksguard/ksguard/test/harness"
)

// rollState is what the restart signal changes on a Deployment. A roll is
// a new restartedAt in the pod template, and one more
// ksguard_restarts_total{result="restarted"}. (The generation is no
// measure: the API server bumps it for any annotation change too.)
type rollState struct {
	hash        string
	restartedAt string
}

func deploymentState(t *testing.T, name string) rollState {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: guardedNS, Name: name}, d); err != nil {
		t.Fatal(err)
	}
	return rollState{d.Annotations[restart.HashAnnotation], d.Spec.Template.Annotations[restart.RestartedAtAnnotation]}
}

// createDeployment creates a Deployment standing in for ks-apiserver (no
// kubelet runs; the pod template is what a restart changes), removed when
// the test ends.
func createDeployment(t *testing.T, name string) {
	t.Helper()
	d := harness.StandInDeployment(guardedNS, name)
	if err := cluster.Client.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Client.Delete(ctx, d); err != nil && !apierrors.IsNotFound(err) {
			t.Error(err)
		}
	})
}

// storedHash is the restart signal's hash of the stored guarded ConfigMap,
// under the cluster's config-hash key (the one every ksguard is given).
func storedHash(t *testing.T) string {
	t.Helper()
	return hasher(t, cluster.ConfigHashKeyFile).Hash(storedConfig(t))
}

func storedConfig(t *testing.T) *corev1.ConfigMap {
	t.Helper()
	cm := configMap(guardedNS, guardedName, "")
	if err := cluster.Client.Get(ctx, guardedKey(), cm); err != nil {
		t.Fatal(err)
	}
	return cm
}

func hasher(t *testing.T, keyFile string) *restart.Hasher {
	t.Helper()
	h, err := restart.ReadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// waitRolledFor waits until the Deployment records hash.
func waitRolledFor(t *testing.T, name, hash string) rollState {
	t.Helper()
	var s rollState
	eventually(t, "Deployment "+name+" records hash "+hash, func() error {
		if s = deploymentState(t, name); s.hash != hash {
			return fmt.Errorf("records %q", s.hash)
		}
		return nil
	})
	return s
}

// configInfo waits until ksguard k has audited the stored config.
func waitAudited(t *testing.T, k *harness.Ksguard, hash string) {
	t.Helper()
	eventually(t, "ksguard reports the stored config's hash", func() error {
		if v := metric(t, k, "ksguard_config_info", `hash="`+hash+`"`); v != 1 {
			return fmt.Errorf("ksguard_config_info{hash=%q} = %v", hash, v)
		}
		return nil
	})
}

// eventsFor lists the Events with reason about the object named name.
func eventsFor(t *testing.T, name, reason string) []eventsv1.Event {
	t.Helper()
	var list eventsv1.EventList
	if err := cluster.Client.List(ctx, &list, client.InNamespace(guardedNS)); err != nil {
		t.Fatal(err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

func waitEvent(t *testing.T, name, reason, says string) {
	t.Helper()
	eventually(t, "an Event "+reason+" on "+name, func() error {
		for _, e := range eventsFor(t, name, reason) {
			if strings.Contains(e.Note, says) {
				return nil
			}
		}
		return fmt.Errorf("no Event %s on %s saying %q", reason, name, says)
	})
}

// TestRestartSignal: the ks-apiserver Deployment is rolled exactly once per
// persisted change, never for anything else. The subtests build on each
// other, in order.
func TestRestartSignal(t *testing.T) {
	owner := t // the ksguard processes outlive the subtests that start them
	c, _ := newClient(t)
	timeout := 600
	// nextDoc is a config with the host's jwtSecret that differs from the
	// last in a setting ks-apiserver reads (terminal.timeout).
	nextDoc := func() string {
		timeout++
		return strings.Replace(document(t, hostJWT, "0s"), "timeout: 600", fmt.Sprintf("timeout: %d", timeout), 1)
	}
	args := []string{"--host-secret", guardedNS + "/" + secretName, "--restart-min-interval", "0s"}
	k := startKsguard(t, args...)
	if err := put(c, nextDoc()); err != nil {
		t.Fatal(err)
	}
	// ksguard is installed while ks-apiserver runs: it finds both at start.
	if err := k.Stop(); err != nil {
		t.Fatal(err)
	}
	createDeployment(t, "ks-apiserver")
	k = startKsguard(t, args...)
	restarted := func(k *harness.Ksguard) float64 {
		return metric(t, k, "ksguard_restarts_total", `result="restarted"`)
	}

	t.Run("install-time adoption rolls nothing", func(t *testing.T) {
		s := waitRolledFor(t, "ks-apiserver", storedHash(t))
		if s.restartedAt != "" || restarted(k) != 0 {
			t.Fatalf("adoption rolled the Deployment: %+v", s)
		}
		waitEvent(t, "ks-apiserver", "ConfigAdopted", "without restarting")
	})

	t.Run("a guarded change rolls exactly once; nothing else rolls", func(t *testing.T) {
		before := deploymentState(t, "ks-apiserver")
		// Writes that must not roll: another ConfigMap, a dry-run, a denied write.
		other := configMap(guardedNS, "other-config", nextDoc())
		if err := c.Create(ctx, other); err != nil {
			t.Fatal(err)
		}
		defer c.Delete(ctx, other)
		if err := c.Update(ctx, withDoc(t, guardedKey(), nextDoc()), client.DryRunAll); err != nil {
			t.Fatal(err)
		}
		assertDenied(t, c.Update(ctx, withDoc(t, guardedKey(), document(t, driftJWT, "0s"))), "does not match")
		// The one that must: it is the only change the controller can see.
		if err := put(c, nextDoc()); err != nil {
			t.Fatal(err)
		}
		s := waitRolledFor(t, "ks-apiserver", storedHash(t))
		if s.restartedAt == "" || s.restartedAt == before.restartedAt {
			t.Fatalf("after one change: %+v, before %+v; want one roll", s, before)
		}
		harness.WaitCount(t, 1, "ksguard_restarts_total", []string{`result="restarted"`}, k)
		waitEvent(t, "ks-apiserver", "Restarted", "rolling restart for kubesphere-system/kubesphere-config")
		waitEvent(t, guardedName, "ConfigChanged", "no guarded setting changed; other settings did")
	})

	t.Run("restarting ksguard rolls nothing", func(t *testing.T) {
		before := deploymentState(t, "ks-apiserver")
		if err := k.Stop(); err != nil {
			t.Fatal(err)
		}
		k = startKsguardFor(t, owner, args...)
		waitAudited(t, k, storedHash(t))
		if s := deploymentState(t, "ks-apiserver"); s != before || restarted(k) != 0 {
			t.Fatalf("a restarted ksguard rolled: %+v, before %+v", s, before)
		}
	})

	t.Run("two replicas with leader election roll once", func(t *testing.T) {
		if err := k.Stop(); err != nil {
			t.Fatal(err)
		}
		le := append(args, "--leader-elect", "--leader-election-namespace", leaseNS, "--leader-election-id", "ksguard-e2e")
		k = startKsguardFor(t, owner, le...)
		addr, err := harness.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		k2 := startKsguardFor(t, owner, append(le, "--webhook-bind-address", addr)...)
		defer k2.Stop()                  // the next subtests run one replica
		waitAudited(t, k, storedHash(t)) // k started first and leads
		before := deploymentState(t, "ks-apiserver")
		if err := put(c, nextDoc()); err != nil {
			t.Fatal(err)
		}
		if s := waitRolledFor(t, "ks-apiserver", storedHash(t)); s.restartedAt == before.restartedAt {
			t.Fatalf("not rolled: %+v", s)
		}
		harness.WaitCount(t, 1, "ksguard_restarts_total", []string{`result="restarted"`}, k, k2)
	})

	t.Run("a burst of writes within the minimum interval rolls once, for the last", func(t *testing.T) {
		if err := k.Stop(); err != nil {
			t.Fatal(err)
		}
		k = startKsguardFor(t, owner, "--host-secret", guardedNS+"/"+secretName, "--restart-min-interval", "2s")
		waitAudited(t, k, storedHash(t))
		before := deploymentState(t, "ks-apiserver")
		for i := 0; i < 5; i++ {
			if err := put(c, nextDoc()); err != nil {
				t.Fatal(err)
			}
		}
		last := storedHash(t)
		s := waitRolledFor(t, "ks-apiserver", last)
		if s.restartedAt == before.restartedAt {
			t.Fatalf("a burst of 5 writes did not roll (%+v)", s)
		}
		harness.WaitCount(t, 1, "ksguard_restarts_total", []string{`result="restarted"`}, k)
	})

	t.Run("a config and pod template changed together (a Helm upgrade) roll once, not twice", func(t *testing.T) {
		// k waits 2s before rolling (the burst case above). A v4 host's Helm
		// upgrade of ks-core writes the config, then ks-agent's
		// checksum/config: Kubernetes rolls the pods for the template.
		before := deploymentState(t, "ks-apiserver")
		rolledBefore := restarted(k)
		if err := put(c, nextDoc()); err != nil {
			t.Fatal(err)
		}
		hash := storedHash(t)
		harness.Eventually(t, "ksguard waits for the new config to settle", func() error {
			if !strings.Contains(k.Logs(), "waiting for the config to settle") || !strings.Contains(k.Logs(), hash) {
				return errors.New("not yet")
			}
			return nil
		})
		d := &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: guardedNS, Name: "ks-apiserver"}, d); err != nil {
			t.Fatal(err)
		}
		if d.Spec.Template.Annotations == nil {
			d.Spec.Template.Annotations = map[string]string{}
		}
		d.Spec.Template.Annotations["checksum/config"] = hash[len(hash)-8:]
		if err := c.Update(ctx, d); err != nil {
			t.Fatal(err)
		}
		s := waitRolledFor(t, "ks-apiserver", hash)
		if s.restartedAt != before.restartedAt || restarted(k) != rolledBefore {
			t.Fatalf("ksguard rolled a Deployment whose template changed after the config (%+v, %v restarts before, %v after)", s, rolledBefore, restarted(k))
		}
		waitEvent(t, "ks-apiserver", "RestartNotNeeded", "already restart with the new config")
		if got := metric(t, k, "ksguard_restarts_total", `result="rolled-elsewhere"`); got != 1 {
			t.Errorf("ksguard_restarts_total{result=\"rolled-elsewhere\"} = %v, want 1", got)
		}
	})

	t.Run("a paused Deployment is not rolled, and an Event says why", func(t *testing.T) {
		d := &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: guardedNS, Name: "ks-apiserver"}, d); err != nil {
			t.Fatal(err)
		}
		d.Spec.Paused = true
		if err := c.Update(ctx, d); err != nil {
			t.Fatal(err)
		}
		before := deploymentState(t, "ks-apiserver")
		if err := put(c, nextDoc()); err != nil {
			t.Fatal(err)
		}
		waitEvent(t, "ks-apiserver", "RestartSkipped", "is paused, so ksguard did not restart it")
		if s := deploymentState(t, "ks-apiserver"); s != before {
			t.Fatalf("a paused Deployment was changed: %+v, before %+v", s, before)
		}
		d = &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: guardedNS, Name: "ks-apiserver"}, d); err != nil {
			t.Fatal(err)
		}
		d.Spec.Paused = false
		if err := c.Update(ctx, d); err != nil {
			t.Fatal(err)
		}
		waitRolledFor(t, "ks-apiserver", storedHash(t)) // resumed: it rolls
	})

	t.Run("--remediate fixes a pre-existing 2h through the webhook and rolls once", func(t *testing.T) {
		if err := k.Stop(); err != nil {
			t.Fatal(err)
		}
		writeWithoutWebhooks(t, c, strings.Replace(nextDoc(), "accessTokenMaxAge: 0s", "accessTokenMaxAge: 2h", 1))
		before := deploymentState(t, "ks-apiserver")
		k = startKsguardFor(t, owner, append(args, "--remediate")...)
		eventually(t, "the stored config is remediated", func() error {
			if got := getConfig(t, guardedKey()); !strings.Contains(got, "accessTokenMaxAge: 0s   # keep") {
				return fmt.Errorf("still %q", got)
			}
			return nil
		})
		s := waitRolledFor(t, "ks-apiserver", storedHash(t))
		if s.restartedAt == before.restartedAt {
			t.Fatalf("remediation did not roll (%+v)", s)
		}
		harness.WaitCount(t, 1, "ksguard_restarts_total", []string{`result="restarted"`}, k)
		if v := metric(t, k, "ksguard_decisions_total", `webhook="validate"`, `result="allowed"`); v < 1 {
			t.Errorf("the remediation did not go through the validating webhook")
		}
		waitEvent(t, guardedName, "Drift", "authentication.oauthOptions.accessTokenMaxAge must be 0s")
		waitEvent(t, guardedName, "Remediated", "authentication.oauthOptions.accessTokenMaxAge=0s")
		waitGauge(t, k, "ksguard_drift", 0, `check="accessTokenMaxAge"`)
	})

	t.Run("auto picks ks-agent when only that exists", func(t *testing.T) {
		if err := k.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: guardedNS, Name: "ks-apiserver"}}); err != nil {
			t.Fatal(err)
		}
		createDeployment(t, "ks-agent")
		k = startKsguardFor(t, owner, args...)
		waitRolledFor(t, "ks-agent", storedHash(t))
		if !strings.Contains(k.Logs(), `"deployment":"kubesphere-system/ks-agent","mode":"auto"`) {
			t.Errorf("the log does not say auto picked ks-agent")
		}
	})

	t.Run("Events hold no secret", func(t *testing.T) {
		var list eventsv1.EventList
		if err := cluster.Client.List(ctx, &list, client.InNamespace(guardedNS)); err != nil {
			t.Fatal(err)
		}
		var notes []string
		for _, e := range list.Items {
			notes = append(notes, e.Note)
		}
		assertNoSecret(t, "the Events", strings.Join(notes, "\n"))
	})
}

// writeWithoutWebhooks stores doc in the guarded ConfigMap as if ksguard
// were not installed: its webhook configurations are removed for the write
// and put back.
func writeWithoutWebhooks(t *testing.T, c client.Client, doc string) {
	t.Helper()
	m := &admissionregistrationv1.MutatingWebhookConfiguration{}
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	for _, obj := range []client.Object{m, v} {
		if err := c.Get(ctx, client.ObjectKey{Name: "ksguard"}, obj); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the write gets through without the webhooks", func() error { return put(c, doc) })
	for _, obj := range []client.Object{m, v} {
		obj.SetResourceVersion("")
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the webhooks are back", func() error {
		err := c.Update(ctx, withDoc(t, guardedKey(), document(t, driftJWT, "0s")), client.DryRunAll)
		if err == nil || !strings.Contains(err.Error(), "ksguard") {
			return fmt.Errorf("a drifted dry-run got %v", err)
		}
		return nil
	})
}
