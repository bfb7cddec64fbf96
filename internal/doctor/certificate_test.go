package doctor

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"github.com/ksguard/ksguard/certs"
)

// tlsServer serves with a certificate for 127.0.0.1 valid for validity,
// signed by a new CA; it returns the server and the CA's PEM.
func tlsServer(t *testing.T, validity time.Duration) (*httptest.Server, []byte) {
	t.Helper()
	now := time.Now()
	ca, err := certs.NewCA("test CA", now, 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ca.Issue([]string{"127.0.0.1"}, now, validity)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(s.CertPEM, s.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes of the failing cases
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, ca.CertPEM
}

// TestCertificate: a serving certificate that verifies and lasts passes; one
// that expires within 30 days, one from another CA and an empty caBundle
// fail; a Service client config has only its caBundle checked.
func TestCertificate(t *testing.T) {
	good, goodCA := tlsServer(t, 365*24*time.Hour)
	soon, soonCA := tlsServer(t, 10*24*time.Hour)
	_, otherCA := tlsServer(t, 365*24*time.Hour)
	url := func(s *httptest.Server) *string { u := s.URL + "/validate"; return &u }
	svc := &admissionregistrationv1.ServiceReference{Namespace: "ksguard-system", Name: "ksguard"}
	for _, tc := range []struct {
		name   string
		cc     admissionregistrationv1.WebhookClientConfig
		status Status
		detail string
	}{
		{"verifies", admissionregistrationv1.WebhookClientConfig{URL: url(good), CABundle: goodCA}, StatusOK, "verifies, valid until"},
		{"expires soon", admissionregistrationv1.WebhookClientConfig{URL: url(soon), CABundle: soonCA}, StatusFailed, "the serving certificate at 127.0.0.1"},
		{"another CA", admissionregistrationv1.WebhookClientConfig{URL: url(good), CABundle: otherCA}, StatusFailed, "does not verify against the caBundle"},
		{"empty caBundle", admissionregistrationv1.WebhookClientConfig{URL: url(good)}, StatusFailed, "its caBundle is empty"},
		{"service", admissionregistrationv1.WebhookClientConfig{Service: svc, CABundle: goodCA}, StatusOK, "behind Service ksguard-system/ksguard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := inspectCert(context.Background(), "validate.ksguard.io", tc.cc, time.Now())
			o := checkCertificate(context.Background(), &Env{Probe: &ProbeResult{Certs: []servingCert{sc}}})
			if o.Status != tc.status || !strings.Contains(o.Detail, tc.detail) {
				t.Errorf("got %s %q, want %s containing %q", o.Status, o.Detail, tc.status, tc.detail)
			}
		})
	}
}
