// Package certs creates the certificates ksguard serves with when
// cert-manager does not: a CA and a serving certificate signed by it, as
// PEM, in the tls.crt/tls.key/ca.crt layout of a kubernetes.io/tls Secret.
// Keys are ECDSA P-256. The self-managed TLS mode of `ksguard serve`
// (internal/certrotation), `ksguard certs` (`make certs`), local runs
// (`make demo`) and the tests use it.
package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// File names in a certificate directory, as in a kubernetes.io/tls Secret.
const (
	CertFile = "tls.crt"
	KeyFile  = "tls.key"
	CAFile   = "ca.crt"
	// CAKeyFile is the CA's private key, kept only where new serving
	// certificates are signed (ksguard's own TLS Secret).
	CAKeyFile = "ca.key"
)

// backdate makes new certificates valid slightly in the past, so clock skew
// between machines does not reject them.
const backdate = 5 * time.Minute

// CA is a certificate authority that signs serving certificates.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// CertPEM is the CA certificate, PEM-encoded: the caBundle of a
	// webhook configuration.
	CertPEM []byte
	// KeyPEM is the CA's private key, PEM-encoded (PKCS #8).
	KeyPEM []byte
}

// NewCA creates a self-signed CA named commonName, valid from now for
// validity.
func NewCA(commonName string, now time.Time, validity time.Duration) (*CA, error) {
	key, tmpl, err := newTemplate(commonName, now, validity)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid, tmpl.IsCA, tmpl.MaxPathLenZero = true, true, true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("signing the CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding the CA key: %w", err)
	}
	return LoadCA(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

// LoadCA reads a CA made by NewCA back from its PEM certificate and key.
func LoadCA(certPEM, keyPEM []byte) (*CA, error) {
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return nil, fmt.Errorf("reading the CA certificate: %w", err)
	}
	if !cert.IsCA {
		return nil, errors.New("reading the CA certificate: it is not a CA")
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("reading the CA key: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("reading the CA key: %w", err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("reading the CA key: it does not match the CA certificate")
	}
	return &CA{cert: cert, key: key, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// Certificate returns the CA's certificate.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// ParseCertificate reads the first PEM certificate in b.
func ParseCertificate(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate found")
	}
	return x509.ParseCertificate(block.Bytes)
}

// RenewalDue reports whether less than a third of c's validity is left at
// now (or it is not yet valid): the point where ksguard renews it.
func RenewalDue(c *x509.Certificate, now time.Time) bool {
	life := c.NotAfter.Sub(c.NotBefore)
	return now.Before(c.NotBefore) || c.NotAfter.Sub(now) < life/3
}

// Serving is a serving certificate and its key, PEM-encoded.
type Serving struct {
	// CertPEM is the certificate (tls.crt).
	CertPEM []byte
	// KeyPEM is the private key (tls.key).
	KeyPEM []byte
}

// Issue signs a serving certificate for hosts (DNS names or IP addresses),
// valid from now for validity. The first host is also the common name.
func (ca *CA) Issue(hosts []string, now time.Time, validity time.Duration) (*Serving, error) {
	if len(hosts) == 0 {
		return nil, errors.New("a serving certificate needs at least one DNS name or IP address")
	}
	key, tmpl, err := newTemplate(hosts[0], now, validity)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("signing the serving certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding the serving key: %w", err)
	}
	return &Serving{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// WriteDir writes s and the CA bundle (one or more PEM CA certificates) to
// dir as tls.crt, tls.key and ca.crt, skipping files that already hold the
// same bytes. The key file is readable by its owner only. Each file is
// written to a temporary name and renamed, so a watcher never reads half a
// file; the key is written before the certificate.
func WriteDir(dir string, caBundle []byte, s *Serving) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{{CAFile, caBundle, 0o644}, {KeyFile, s.KeyPEM, 0o600}, {CertFile, s.CertPEM, 0o644}} {
		if old, err := os.ReadFile(filepath.Join(dir, f.name)); err == nil && bytes.Equal(old, f.data) {
			continue
		}
		tmp := filepath.Join(dir, "."+f.name+".tmp")
		if err := os.WriteFile(tmp, f.data, f.mode); err != nil {
			return fmt.Errorf("writing %s: %w", tmp, err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, f.name)); err != nil {
			return fmt.Errorf("writing %s: %w", filepath.Join(dir, f.name), err)
		}
	}
	return nil
}

// newTemplate generates a key and a certificate template for commonName
// with a random serial, valid from a little before now for validity.
func newTemplate(commonName string, now time.Time, validity time.Duration) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating a key for %s: %w", commonName, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generating a serial number: %w", err)
	}
	return key, &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(validity),
	}, nil
}
