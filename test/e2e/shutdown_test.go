package e2e

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ksguard/ksguard/test/harness"
)

// TestGracefulShutdown: a review in flight when SIGTERM arrives is still
// answered, and ksguard then exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	k := startKsguard(t, "--host-secret", guardedNS+"/"+secretName)
	conn, rest := holdReview(t, k)
	defer conn.Close()
	if err := k.Terminate(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the webhook server is shutting down", func() error {
		if !strings.Contains(k.Logs(), "Shutting down webhook server") {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	if _, err := conn.Write(rest); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight review got no answer: %v", err)
	}
	defer resp.Body.Close()
	var review admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&review); err != nil || resp.StatusCode != 200 || review.Response == nil || !review.Response.Allowed {
		t.Fatalf("HTTP %d, %+v, %v; want an allowed review", resp.StatusCode, review.Response, err)
	}
	if err := k.Stop(); err != nil {
		t.Fatalf("ksguard did not exit cleanly: %v", err)
	}
}

// holdReview sends the first half of a review to k's webhook and waits
// until k counts it in flight; it returns the connection and the rest of
// the review.
func holdReview(t *testing.T, k *harness.Ksguard) (*tls.Conn, []byte) {
	t.Helper()
	body := validReview(t)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cluster.CA)
	conn, err := tls.Dial("tcp", cluster.WebhookAddr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	half := len(body) / 2
	fmt.Fprintf(conn, "POST /validate HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", cluster.WebhookAddr, len(body), body[:half])
	eventually(t, "the review is in flight", func() error {
		if v := metric(t, k, "controller_runtime_webhook_requests_in_flight", `webhook="/validate"`); v != 1 {
			return fmt.Errorf("%v requests in flight", v)
		}
		return nil
	})
	return conn, body[half:]
}

// validReview is a CREATE review of the guarded ConfigMap with the host's
// jwtSecret and accessTokenMaxAge 0s.
func validReview(t *testing.T) []byte {
	t.Helper()
	raw, err := json.Marshal(configMap(guardedNS, guardedName, document(t, hostJWT, "0s")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: "graceful-1", Kind: metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
			Operation: admissionv1.Create, Namespace: guardedNS, Name: guardedName,
			Object: runtime.RawExtension{Raw: raw},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestShutdownQuiet: ksguard stopped while it sends Events (a burst of
// changes, each rolling the Deployment with two Events) ends without a
// stack trace, and with at most one line about the Events it could not
// send.
func TestShutdownQuiet(t *testing.T) {
	c, _ := newClient(t)
	createDeployment(t, "ks-apiserver")
	k := startKsguard(t, "--host-secret", guardedNS+"/"+secretName, "--restart-min-interval", "0s")
	doc := document(t, hostJWT, "0s")
	for i := range 20 {
		if err := put(c, strings.Replace(doc, "timeout: 600", fmt.Sprintf("timeout: %d", 2000+i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.Stop(); err != nil {
		t.Fatal(err)
	}
	logs := k.Logs()
	if strings.Contains(logs, `"stacktrace"`) || strings.Contains(logs, "goroutine ") {
		t.Errorf("ksguard's log holds a stack trace:\n%s", grepLines(logs, "stacktrace"))
	}
	if n := strings.Count(logs, "Unable to write event"); n > 0 {
		t.Errorf("%d lines about Events not written; want one summary at most", n)
	}
	if n := strings.Count(logs, "could not be sent"); n > 1 {
		t.Errorf("%d summary lines about unsent Events, want at most one", n)
	}
}
