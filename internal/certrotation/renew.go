package certrotation

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ksguard/ksguard/certs"
)

// renew returns the Secret data that should be stored, given what is
// stored (nil when nothing is), and why it differs ("" when it does not):
// a missing, unreadable or ageing CA is replaced, keeping the old CA in the
// bundle until it expires so certificates it signed stay trusted; a
// missing, unreadable, ageing or mismatched serving certificate is reissued.
func renew(stored map[string][]byte, o Options, now time.Time) (map[string][]byte, string, error) {
	var reasons []string
	bundle := validCAs(stored[certs.CAFile], now)
	ca, err := loadCurrentCA(stored)
	switch {
	case err != nil:
		reasons = append(reasons, "CA "+err.Error())
	case certs.RenewalDue(ca.Certificate(), now):
		reasons = append(reasons, "CA renewal due")
	}
	if len(reasons) > 0 {
		if ca, err = certs.NewCA("ksguard-ca", now, o.CAValidity); err != nil {
			return nil, "", err
		}
		bundle = append([][]byte{ca.CertPEM}, bundle...)
	}
	if why := servingProblem(stored, ca, o.DNSNames, now); why != "" {
		reasons = append(reasons, why)
	}
	if len(reasons) == 0 {
		return stored, "", nil
	}
	// A serving certificate never outlives the CA that signed it.
	serving, err := ca.Issue(o.DNSNames, now, min(o.Validity, ca.Certificate().NotAfter.Sub(now)))
	if err != nil {
		return nil, "", err
	}
	return map[string][]byte{
		certs.CAFile:            slices.Concat(bundle...),
		certs.CAKeyFile:         ca.KeyPEM,
		corev1.TLSCertKey:       serving.CertPEM,
		corev1.TLSPrivateKeyKey: serving.KeyPEM,
	}, strings.Join(reasons, "; "), nil
}

// loadCurrentCA reads the CA: the first certificate of ca.crt, with ca.key.
func loadCurrentCA(stored map[string][]byte) (*certs.CA, error) {
	if len(stored[certs.CAFile]) == 0 {
		return nil, errors.New("missing")
	}
	block, _ := pem.Decode(stored[certs.CAFile])
	if block == nil {
		return nil, fmt.Errorf("unreadable: %s holds no PEM block", certs.CAFile)
	}
	ca, err := certs.LoadCA(pem.EncodeToMemory(block), stored[certs.CAKeyFile])
	if err != nil {
		return nil, fmt.Errorf("unreadable: %w", err)
	}
	return ca, nil
}

// validCAs returns the PEM certificates of bundle that are still valid at
// now, each as its own PEM block.
func validCAs(bundle []byte, now time.Time) [][]byte {
	var out [][]byte
	for {
		var block *pem.Block
		block, bundle = pem.Decode(bundle)
		if block == nil {
			return out
		}
		b := pem.EncodeToMemory(block)
		if c, err := certs.ParseCertificate(b); err == nil && now.Before(c.NotAfter) {
			out = append(out, b)
		}
	}
}

// servingProblem says why the stored serving certificate must be
// reissued, or "" when it is fine.
func servingProblem(stored map[string][]byte, ca *certs.CA, dnsNames []string, now time.Time) string {
	if len(stored[corev1.TLSCertKey]) == 0 {
		return "serving certificate missing"
	}
	if _, err := tls.X509KeyPair(stored[corev1.TLSCertKey], stored[corev1.TLSPrivateKeyKey]); err != nil {
		return "serving certificate unreadable: " + err.Error()
	}
	leaf, err := certs.ParseCertificate(stored[corev1.TLSCertKey])
	switch {
	case err != nil:
		return "serving certificate unreadable: " + err.Error()
	case leaf.CheckSignatureFrom(ca.Certificate()) != nil:
		return "serving certificate not signed by the current CA"
	case !sameHosts(leaf, dnsNames):
		return fmt.Sprintf("serving certificate is for other names than %v", dnsNames)
	case certs.RenewalDue(leaf, now):
		return "serving certificate renewal due"
	}
	return ""
}

// sameHosts reports whether c is for exactly hosts (DNS names and IP
// addresses, in any order).
func sameHosts(c *x509.Certificate, hosts []string) bool {
	got := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		got = append(got, ip.String())
	}
	want := slices.Clone(hosts)
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}
