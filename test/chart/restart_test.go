package chart

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/internal/restart"
	"github.com/ksguard/ksguard/test/harness"
)

// TestRestartSignalAsChart installs the chart (ksguard's own TLS,
// remediate=true, no quiet period) over a member whose stored config has
// accessTokenMaxAge 2h, next to a stand-in ks-apiserver, and runs ksguard
// with the chart's arguments as the chart's ServiceAccount, so only the
// chart's RBAC lets it work: it wins the chart's Lease, writes the fix
// back through the chart's webhooks, adopts the Deployment, rolls it for
// the next change, and records Events for each step.
func TestRestartSignalAsChart(t *testing.T) {
	const ns = "ksguard-restart"
	if err := cluster.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	drifted := strings.Replace(document(t, hostJWT, "2h"), "timeout: 600", "timeout: 610", 1)
	if err := put(drifted); err != nil { // before the install: no webhook yet
		t.Fatal(err)
	}
	d := harness.StandInDeployment(guardedNS, "ks-apiserver")
	if err := cluster.Client.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Client.Delete(ctx, d); err != nil && !apierrors.IsNotFound(err) {
			t.Error(err)
		}
	})
	r := install(t, ns, "default", "certManager.enabled=false", "remediate=true", "restart.minInterval=0s")
	r.startKsguard(t, t.TempDir())
	hasher, err := restart.ReadKeyFile(r.mountConfigHashKey(t))
	if err != nil {
		t.Fatal(err)
	}

	harness.Eventually(t, "the stored 2h is remediated to 0s", func() error {
		if got := storedDocument(t); !strings.Contains(got, "accessTokenMaxAge: 0s   # keep") {
			return fmt.Errorf("stored:\n%s", got)
		}
		return nil
	})
	adopted := waitRecorded(t, hasher)
	if adopted.Spec.Template.Annotations[restart.RestartedAtAnnotation] != "" {
		t.Fatalf("adopting the Deployment rolled it")
	}
	if err := put(strings.Replace(document(t, hostJWT, "0s"), "timeout: 600", "timeout: 611", 1)); err != nil {
		t.Fatal(err)
	}
	rolled := waitRecorded(t, hasher)
	if rolled.Spec.Template.Annotations[restart.RestartedAtAnnotation] == "" {
		t.Fatalf("the change did not roll the Deployment")
	}
	for _, e := range []struct{ regarding, reason string }{
		{guardedName, "Drift"}, {guardedName, "Remediated"}, {"ks-apiserver", "ConfigAdopted"},
		{guardedName, "ConfigChanged"}, {"ks-apiserver", "Restarted"},
	} {
		harness.Eventually(t, "an Event "+e.reason+" on "+e.regarding, func() error {
			var list eventsv1.EventList
			if err := cluster.Client.List(ctx, &list, client.InNamespace(guardedNS)); err != nil {
				return err
			}
			for _, ev := range list.Items {
				if ev.Regarding.Name == e.regarding && ev.Reason == e.reason && ev.ReportingController == "ksguard" {
					assertNoSecret(t, "an Event", ev.Note)
					return nil
				}
			}
			return fmt.Errorf("none among %d Events", len(list.Items))
		})
	}
	lease := &coordinationv1.Lease{}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "ksguard"}, lease); err != nil {
		t.Errorf("the chart's Lease %s/ksguard: %v", ns, err)
	}
}

// waitRecorded waits until the ks-apiserver Deployment records the config
// hash of the stored config under the chart's key, and returns it.
func waitRecorded(t *testing.T, hasher *restart.Hasher) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	harness.Eventually(t, "ks-apiserver records the stored config's hash", func() error {
		if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: guardedNS, Name: "ks-apiserver"}, d); err != nil {
			return err
		}
		cm := &corev1.ConfigMap{}
		if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: guardedNS, Name: guardedName}, cm); err != nil {
			return err
		}
		want := hasher.Hash(cm)
		if got := d.Annotations[restart.HashAnnotation]; got != want {
			return fmt.Errorf("records %q, want %q", got, want)
		}
		return nil
	})
	return d
}

// storedDocument returns the stored kubesphere.yaml of the guarded ConfigMap.
func storedDocument(t *testing.T) string {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: guardedNS, Name: guardedName}, cm); err != nil {
		t.Fatal(err)
	}
	return cm.Data["kubesphere.yaml"]
}
