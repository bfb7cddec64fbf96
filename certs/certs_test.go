package certs

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestIssueVerifies(t *testing.T) {
	ca, err := NewCA("ksguard test CA", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ca.Issue([]string{"ksguard.kubesphere-system.svc", "127.0.0.1"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteDir(dir, ca.CertPEM, s); err != nil {
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
	ca, err := NewCA("x", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Issue(nil, time.Now(), time.Hour); err == nil {
		t.Fatal("issued a certificate for no host")
	}
}

func TestLoadCA(t *testing.T) {
	ca, err := NewCA("ksguard test CA", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other CA", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	serving, err := ca.Issue([]string{"a.example"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		cert, key []byte
		wantErr   string
	}{
		{name: "round trip", cert: ca.CertPEM, key: ca.KeyPEM},
		{name: "key of another CA", cert: ca.CertPEM, key: other.KeyPEM, wantErr: "does not match"},
		{name: "not a CA", cert: serving.CertPEM, key: serving.KeyPEM, wantErr: "not a CA"},
		{name: "garbage certificate", cert: []byte("garbage"), key: ca.KeyPEM, wantErr: "no PEM certificate"},
		{name: "garbage key", cert: ca.CertPEM, key: []byte("garbage"), wantErr: "no PEM block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadCA(tc.cert, tc.key)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadCA error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The loaded CA signs certificates the original verifies.
			s, err := got.Issue([]string{"b.example"}, time.Now(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := ParseCertificate(s.CertPEM)
			if err != nil {
				t.Fatal(err)
			}
			if err := leaf.CheckSignatureFrom(ca.Certificate()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRenewalDue(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &x509.Certificate{NotBefore: start, NotAfter: start.Add(90 * time.Hour)}
	tests := []struct {
		at   time.Duration
		want bool
	}{
		{at: -time.Minute, want: true}, // not yet valid
		{at: 0, want: false},
		{at: 59 * time.Hour, want: false},
		{at: 61 * time.Hour, want: true}, // less than 30h of 90h left
		{at: 91 * time.Hour, want: true}, // expired
	}
	for _, tc := range tests {
		t.Run(tc.at.String(), func(t *testing.T) {
			if got := RenewalDue(c, start.Add(tc.at)); got != tc.want {
				t.Errorf("RenewalDue at %v = %v, want %v", tc.at, got, tc.want)
			}
		})
	}
}
