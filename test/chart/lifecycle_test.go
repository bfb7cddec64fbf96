package chart

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
)

// TestInstallUpgradeUninstall runs the README's commands with real helm
// against the API server: install, an upgrade with --reuse-values keeps
// the caBundle that ksguard (or the cainjector) set, the values not given
// again and the config-hash key, and uninstall leaves no webhook
// configuration behind.
func TestInstallUpgradeUninstall(t *testing.T) {
	const ns, release, name = "ksguard-lifecycle", "ksg", "ksg-ksguard"
	run := func(args ...string) {
		t.Helper()
		out, errOut, err := helm(append(args, "--kubeconfig", cluster.Kubeconfig)...)
		if err != nil {
			t.Fatalf("helm %v: %v\n%s%s", args, err, out, errOut)
		}
	}
	// Without cert-manager, so no wait on a Certificate; no --wait: no
	// kubelet runs pods here.
	run("install", release, chartPath, "-n", ns, "--create-namespace",
		"--set", "hostJwtSecret.value="+hostJWT, "--set", "certManager.enabled=false")
	key := types.NamespacedName{Name: name}

	// Set a caBundle as ksguard's self-managed TLS does.
	bundle := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := cluster.Client.Get(ctx, key, vwc); err != nil {
		t.Fatalf("helm install made no ValidatingWebhookConfiguration %s: %v", name, err)
	}
	vwc.Webhooks[0].ClientConfig.CABundle = bundle
	if err := cluster.Client.Update(ctx, vwc); err != nil {
		t.Fatal(err)
	}

	hashKey := func() string {
		t.Helper()
		sec := &corev1.Secret{}
		if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name + "-config-hash-key"}, sec); err != nil {
			t.Fatalf("the config-hash key Secret: %v", err)
		}
		return string(sec.Data["key"])
	}
	installedKey := hashKey()

	run("upgrade", release, chartPath, "-n", ns, "--reuse-values", "--set", "webhook.timeoutSeconds=5")
	if k := hashKey(); k != installedKey || len(k) != 32 {
		t.Errorf("helm upgrade changed the config-hash key (%d bytes): every recorded hash would be another key's", len(k))
	}
	if err := cluster.Client.Get(ctx, key, vwc); err != nil {
		t.Fatal(err)
	}
	if string(vwc.Webhooks[0].ClientConfig.CABundle) != string(bundle) {
		t.Error("helm upgrade dropped the caBundle ksguard set")
	}
	if got := *vwc.Webhooks[0].TimeoutSeconds; got != 5 {
		t.Errorf("timeoutSeconds after upgrade = %d, want 5", got)
	}
	sec := &corev1.Secret{}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name + "-host-jwt"}, sec); err != nil || string(sec.Data["jwtSecret"]) != hostJWT {
		t.Errorf("the host Secret after upgrade --reuse-values: %v", err)
	}

	run("uninstall", release, "-n", ns)
	if err := cluster.Client.Get(ctx, key, &admissionregistrationv1.MutatingWebhookConfiguration{}); !apierrors.IsNotFound(err) {
		t.Errorf("MutatingWebhookConfiguration %s after uninstall: %v, want NotFound", name, err)
	}
	if err := cluster.Client.Get(ctx, key, &admissionregistrationv1.ValidatingWebhookConfiguration{}); !apierrors.IsNotFound(err) {
		t.Errorf("ValidatingWebhookConfiguration %s after uninstall: %v, want NotFound", name, err)
	}
}
