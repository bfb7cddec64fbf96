package chart

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ksguard/ksguard/certs"
	"github.com/ksguard/ksguard/test/harness"
)

// startCertManager runs the cert-manager test harness (test/certmanager:
// cert-manager's certificate, issuer and approver controllers, its
// SelfSigned and CA signers, and its cainjector) against the cluster until
// the test ends.
func startCertManager(t *testing.T) {
	t.Helper()
	p, err := harness.StartProcess(cmBin, nil, "--kubeconfig="+cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("the cert-manager harness exited with %v", err)
		}
		if t.Failed() {
			t.Logf("cert-manager harness log (tail):\n%s", tail(p.Logs(), 40))
		}
	})
	harness.Eventually(t, "the cert-manager harness is running", func() error {
		if strings.Contains(p.Logs(), "cert-manager test harness: running") {
			return nil
		}
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("it exited: %v", err)
		}
		return errors.New("not yet")
	})
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestCertManager installs the chart with its defaults (cert-manager on)
// next to real cert-manager controllers: the chart's Issuers and
// Certificates produce the serving Secret, the cainjector fills the
// caBundle of both webhook configurations from it, and ksguard, serving
// that Secret's certificate with the chart's arguments as the chart's
// ServiceAccount, guards the ConfigMap through the API server, which
// verifies TLS with the injected CA.
func TestCertManager(t *testing.T) {
	const ns = "ksguard-system"
	startCertManager(t)
	r := install(t, ns, "default")

	tls := &corev1.Secret{}
	harness.Eventually(t, "cert-manager issues Secret ksguard-tls", func() error {
		if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "ksguard-tls"}, tls); err != nil {
			return err
		}
		for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey, certs.CAFile} {
			if len(tls.Data[k]) == 0 {
				return fmt.Errorf("no %s yet", k)
			}
		}
		return nil
	})
	for _, name := range []string{"ksguard", "ksguard-ca"} {
		harness.Eventually(t, "Certificate "+name+" is Ready", func() error {
			u := &unstructured.Unstructured{}
			u.SetAPIVersion("cert-manager.io/v1")
			u.SetKind("Certificate")
			if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, u); err != nil {
				return err
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				if m, _ := c.(map[string]any); m["type"] == "Ready" && m["status"] == "True" {
					return nil
				}
			}
			return fmt.Errorf("conditions %v", conds)
		})
	}
	leaf, err := certs.ParseCertificate(tls.Data[corev1.TLSCertKey])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ksguard.ksguard-system.svc", "ksguard.ksguard-system.svc.cluster.local"}; strings.Join(leaf.DNSNames, ",") != strings.Join(want, ",") {
		t.Errorf("the serving certificate is for %v, want %v", leaf.DNSNames, want)
	}
	harness.Eventually(t, "the cainjector fills both caBundles with the serving Secret's CA", func() error {
		mwc := &admissionregistrationv1.MutatingWebhookConfiguration{}
		vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		if err := cluster.Client.Get(ctx, types.NamespacedName{Name: "ksguard"}, mwc); err != nil {
			return err
		}
		if err := cluster.Client.Get(ctx, types.NamespacedName{Name: "ksguard"}, vwc); err != nil {
			return err
		}
		if !bytes.Equal(mwc.Webhooks[0].ClientConfig.CABundle, tls.Data[certs.CAFile]) || !bytes.Equal(vwc.Webhooks[0].ClientConfig.CABundle, tls.Data[certs.CAFile]) {
			return errors.New("a caBundle differs from ca.crt")
		}
		return nil
	})

	// The pod would mount the Secret at --cert-dir; here it is written out.
	certDir := t.TempDir()
	if err := certs.WriteDir(certDir, tls.Data[certs.CAFile], &certs.Serving{CertPEM: tls.Data[corev1.TLSCertKey], KeyPEM: tls.Data[corev1.TLSPrivateKeyKey]}); err != nil {
		t.Fatal(err)
	}
	assertGuards(t, r.startKsguard(t, certDir))
}
