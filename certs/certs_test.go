package certs

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestIssueVerifies(t *testing.T) {
	ca, err := NewCA("ksguard test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ca.Issue([]string{"ksguard.kubesphere-system.svc", "127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteDir(dir, ca, s); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil || !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("reading ca.crt: %v", err)
	}
	for _, host := range []string{"ksguard.kubesphere-system.svc", "127.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: pool}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.example", Roots: pool}); err == nil {
		t.Error("the certificate verified for a name it was not issued for")
	}
	if fi, err := os.Stat(filepath.Join(dir, KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("tls.key mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

func TestIssueNeedsAHost(t *testing.T) {
	ca, err := NewCA("x", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Issue(nil, time.Hour); err == nil {
		t.Fatal("issued a certificate for no host")
	}
}
