package chart

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ksguard/ksguard/certs"
	"github.com/ksguard/ksguard/internal/certrotation"
)

// TestSelfManagedTLS installs the chart with certManager.enabled=false and
// runs ksguard with the chart's arguments as the chart's ServiceAccount:
// ksguard creates its CA and serving certificate in the chart's Secret,
// sets the caBundle of the chart's webhook configurations, and the API
// server, verifying TLS with that CA, gets ksguard's decisions.
func TestSelfManagedTLS(t *testing.T) {
	const ns = "ksguard-self"
	if err := cluster.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "my-host-jwt"},
		Data:       map[string][]byte{"jwtSecret": []byte(hostJWT)},
	}); err != nil {
		t.Fatal(err)
	}
	r := install(t, ns, "self-managed")
	certDir := t.TempDir()
	k := r.startKsguard(t, certDir)

	tls := &corev1.Secret{}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "ksguard-tls"}, tls); err != nil {
		t.Fatalf("ksguard is ready but its TLS Secret is not there: %v", err)
	}
	leaf, err := certs.ParseCertificate(tls.Data[corev1.TLSCertKey])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(tls.Data[certs.CAFile])
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "ksguard.ksguard-self.svc", Roots: pool}); err != nil {
		t.Errorf("the serving certificate does not verify for the Service's name: %v", err)
	}
	served, err := os.ReadFile(filepath.Join(certDir, certs.CertFile))
	if err != nil || !bytes.Equal(served, tls.Data[corev1.TLSCertKey]) {
		t.Errorf("--cert-dir does not hold the Secret's certificate: %v", err)
	}
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Name: "ksguard"}, mwc); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Name: "ksguard"}, vwc); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{mwc.Webhooks[0].ClientConfig.CABundle, vwc.Webhooks[0].ClientConfig.CABundle} {
		if !bytes.Equal(b, tls.Data[certs.CAFile]) {
			t.Errorf("a caBundle is not the Secret's ca.crt")
		}
	}

	assertGuards(t, k)
}

// TestRotatorsAgree: replicas starting together on a missing Secret end
// with one CA and one certificate, all serving the same files (the losers
// of the create or update race take the winner's).
func TestRotatorsAgree(t *testing.T) {
	key := types.NamespacedName{Namespace: "ksguard-self", Name: "race-tls"}
	dirs := make([]string, 4)
	var wg sync.WaitGroup
	errs := make([]error, len(dirs))
	for i := range dirs {
		dirs[i] = t.TempDir()
		r := certrotation.New(cluster.Client, certrotation.Options{
			Secret: key, DNSNames: []string{"ksguard.ksguard-self.svc"},
			CAValidity: 48 * time.Hour, Validity: 24 * time.Hour, CertDir: dirs[i],
		}, logr.Discard())
		wg.Go(func() { _, errs[i] = r.Sync(ctx) })
	}
	wg.Wait()
	sec := &corev1.Secret{}
	if err := cluster.Client.Get(ctx, key, sec); err != nil {
		t.Fatal(err)
	}
	for i, dir := range dirs {
		if errs[i] != nil {
			t.Errorf("replica %d: %v", i, errs[i])
			continue
		}
		for name, want := range map[string][]byte{certs.CertFile: sec.Data[corev1.TLSCertKey], certs.KeyFile: sec.Data[corev1.TLSPrivateKeyKey], certs.CAFile: sec.Data[certs.CAFile]} {
			if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(got, want) {
				t.Errorf("replica %d: %s differs from the Secret's (%v)", i, name, err)
			}
		}
	}
}
