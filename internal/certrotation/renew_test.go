package certrotation

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"maps"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ksguard/ksguard/certs"
)

var (
	start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	opts  = Options{DNSNames: []string{"ksguard.ksguard-system.svc", "127.0.0.1"}, CAValidity: 900 * time.Hour, Validity: 90 * time.Hour}
)

// fresh returns the data renew makes from nothing at start.
func fresh(t *testing.T) map[string][]byte {
	t.Helper()
	data, reason, err := renew(nil, opts, start)
	if err != nil || reason == "" {
		t.Fatalf("renew(nil) = %q, %v", reason, err)
	}
	return data
}

// chain returns the CAs of data's bundle and its serving certificate.
func chain(t *testing.T, data map[string][]byte) ([]*x509.Certificate, *x509.Certificate) {
	t.Helper()
	var cas []*x509.Certificate
	for _, b := range validCAs(data[certs.CAFile], time.Time{}) {
		c, err := certs.ParseCertificate(b)
		if err != nil {
			t.Fatal(err)
		}
		cas = append(cas, c)
	}
	leaf, err := certs.ParseCertificate(data[corev1.TLSCertKey])
	if err != nil {
		t.Fatal(err)
	}
	return cas, leaf
}

// verifies checks that leaf verifies for every host against the bundle at now.
func verifies(t *testing.T, data map[string][]byte, now time.Time) {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data[certs.CAFile]) {
		t.Fatal("ca.crt holds no certificate")
	}
	_, leaf := chain(t, data)
	for _, h := range opts.DNSNames {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: pool, CurrentTime: now}); err != nil {
			t.Errorf("serving certificate for %s at %v: %v", h, now, err)
		}
	}
}

func TestRenewFromNothing(t *testing.T) {
	data := fresh(t)
	for _, k := range []string{certs.CAFile, certs.CAKeyFile, corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
		if len(data[k]) == 0 {
			t.Errorf("no %s", k)
		}
	}
	verifies(t, data, start)
	cas, leaf := chain(t, data)
	if len(cas) != 1 || leaf.NotAfter.Sub(start) != opts.Validity {
		t.Errorf("got %d CAs and a serving certificate valid for %v; want 1 and %v", len(cas), leaf.NotAfter.Sub(start), opts.Validity)
	}
}

func TestRenewKeepsWhatIsValid(t *testing.T) {
	data := fresh(t)
	for _, at := range []time.Duration{0, time.Hour, 59 * time.Hour} {
		got, reason, err := renew(data, opts, start.Add(at))
		if err != nil || reason != "" || !maps.EqualFunc(got, data, bytes.Equal) {
			t.Errorf("at %v: renew changed valid certificates (reason %q, err %v)", at, reason, err)
		}
	}
}

func TestRenewServing(t *testing.T) {
	data := fresh(t)
	now := start.Add(61 * time.Hour) // less than a third of 90h left
	got, reason, err := renew(data, opts, now)
	if err != nil || reason != "serving certificate renewal due" {
		t.Fatalf("renew = %q, %v", reason, err)
	}
	if !bytes.Equal(got[certs.CAFile], data[certs.CAFile]) || !bytes.Equal(got[certs.CAKeyFile], data[certs.CAKeyFile]) {
		t.Error("the CA changed with the serving certificate")
	}
	if bytes.Equal(got[corev1.TLSPrivateKeyKey], data[corev1.TLSPrivateKeyKey]) {
		t.Error("the serving key was not rotated")
	}
	verifies(t, got, now)
}

func TestRenewCA(t *testing.T) {
	data := fresh(t)
	now := start.Add(601 * time.Hour) // less than a third of 900h left
	got, reason, err := renew(data, opts, now)
	if err != nil || !strings.Contains(reason, "CA renewal due") {
		t.Fatalf("renew = %q, %v", reason, err)
	}
	cas, leaf := chain(t, got)
	_, oldLeaf := chain(t, data)
	if len(cas) != 2 {
		t.Fatalf("bundle holds %d CAs, want the new and the old one", len(cas))
	}
	if leaf.CheckSignatureFrom(cas[0]) != nil || oldLeaf.CheckSignatureFrom(cas[1]) != nil {
		t.Error("want the new CA first (it signs the new certificate), then the old one (it signed the old)")
	}
	verifies(t, got, now)

	// Once the old CA has expired it leaves the bundle.
	later := start.Add(901 * time.Hour)
	got2, _, err := renew(got, opts, later)
	if err != nil {
		t.Fatal(err)
	}
	if cas, _ := chain(t, got2); len(cas) != 1 {
		t.Errorf("bundle holds %d CAs after the old one expired, want 1", len(cas))
	}
}

func TestRenewRepairs(t *testing.T) {
	other := fresh(t)
	tests := []struct {
		name   string
		damage func(map[string][]byte)
		opts   Options
		reason string
	}{
		{name: "garbage certificate", damage: func(d map[string][]byte) { d[corev1.TLSCertKey] = []byte("garbage") }, reason: "serving certificate unreadable"},
		{name: "key of another certificate", damage: func(d map[string][]byte) { d[corev1.TLSPrivateKeyKey] = other[corev1.TLSPrivateKeyKey] }, reason: "serving certificate unreadable"},
		{name: "signed by another CA", damage: func(d map[string][]byte) {
			d[corev1.TLSCertKey], d[corev1.TLSPrivateKeyKey] = other[corev1.TLSCertKey], other[corev1.TLSPrivateKeyKey]
		}, reason: "not signed by the current CA"},
		{name: "other DNS names", damage: func(map[string][]byte) {}, opts: Options{DNSNames: []string{"renamed.ksguard-system.svc"}, CAValidity: opts.CAValidity, Validity: opts.Validity}, reason: "other names"},
		{name: "garbage CA key", damage: func(d map[string][]byte) { d[certs.CAKeyFile] = []byte("garbage") }, reason: "CA unreadable"},
		{name: "no CA", damage: func(d map[string][]byte) { delete(d, certs.CAFile) }, reason: "CA missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := maps.Clone(fresh(t))
			tc.damage(data)
			o := opts
			if tc.opts.DNSNames != nil {
				o = tc.opts
			}
			got, reason, err := renew(data, o, start)
			if err != nil || !strings.Contains(reason, tc.reason) {
				t.Fatalf("renew = %q, %v; want a reason containing %q", reason, err, tc.reason)
			}
			if again, reason, _ := renew(got, o, start); reason != "" || !maps.EqualFunc(again, got, bytes.Equal) {
				t.Errorf("the repaired data is not stable: %q", reason)
			}
			block, _ := pem.Decode(got[corev1.TLSCertKey])
			leaf, _ := x509.ParseCertificate(block.Bytes)
			if !sameHosts(leaf, o.DNSNames) {
				t.Errorf("reissued for %v %v, want %v", leaf.DNSNames, leaf.IPAddresses, o.DNSNames)
			}
		})
	}
}
