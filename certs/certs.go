// Package certs creates the certificates ksguard serves with when
// cert-manager does not: a CA and a serving certificate signed by it, as
// PEM, in the tls.crt/tls.key/ca.crt layout of a kubernetes.io/tls Secret.
// Keys are ECDSA P-256. Local runs (`make demo`) and the tests use it.
package certs

import (
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
}

// NewCA creates a self-signed CA named commonName, valid for validity.
func NewCA(commonName string, validity time.Duration) (*CA, error) {
	key, tmpl, err := newTemplate(commonName, validity)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid, tmpl.IsCA, tmpl.MaxPathLenZero = true, true, true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("signing the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("reading back the CA certificate: %w", err)
	}
	return &CA{cert: cert, key: key, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Serving is a serving certificate and its key, PEM-encoded.
type Serving struct {
	// CertPEM is the certificate (tls.crt).
	CertPEM []byte
	// KeyPEM is the private key (tls.key).
	KeyPEM []byte
}

// Issue signs a serving certificate for hosts (DNS names or IP addresses),
// valid for validity. The first host is also the common name.
func (ca *CA) Issue(hosts []string, validity time.Duration) (*Serving, error) {
	if len(hosts) == 0 {
		return nil, errors.New("a serving certificate needs at least one DNS name or IP address")
	}
	key, tmpl, err := newTemplate(hosts[0], validity)
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

// WriteDir writes s and the CA certificate to dir as tls.crt, tls.key and
// ca.crt. The key file is readable by its owner only. Each file is written
// to a temporary name and renamed, so a watcher never reads half a file.
func WriteDir(dir string, ca *CA, s *Serving) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{{CAFile, ca.CertPEM, 0o644}, {KeyFile, s.KeyPEM, 0o600}, {CertFile, s.CertPEM, 0o644}} {
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
func newTemplate(commonName string, validity time.Duration) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating a key for %s: %w", commonName, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generating a serial number: %w", err)
	}
	now := time.Now()
	return key, &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(validity),
	}, nil
}
