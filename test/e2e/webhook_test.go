package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestEnforce runs one ksguard in enforce mode with the host's jwtSecret in
// a Secret, and writes through a real client. The subtests build on each
// other's state, in order.
func TestEnforce(t *testing.T) {
	k := startKsguard(t, "--host-secret", guardedNS+"/"+secretName)
	c, warned := newClient(t)
	key := guardedKey()

	t.Run("host secret is available", func(t *testing.T) {
		if v := metric(t, k, "ksguard_host_secret_available"); v != 1 {
			t.Fatalf("ksguard_host_secret_available = %v, want 1", v)
		}
	})

	t.Run("member config is stored with accessTokenMaxAge 0s, the rest unchanged", func(t *testing.T) {
		in := document(t, hostJWT, "2h")
		validated := func(source string) float64 {
			return metric(t, k, "ksguard_decision_sources_total", `webhook="validate"`, `source="`+source+`"`)
		}
		madeBefore, keptBefore := validated("made"), validated("hit")+validated("joined")
		if err := put(c, in); err != nil {
			t.Fatal(err)
		}
		// The validating webhook is sent the mutated object, whose decision
		// ksguard prepared when it answered the mutation.
		if made, kept := validated("made")-madeBefore, validated("hit")+validated("joined")-keptBefore; made != 0 || kept < 1 {
			t.Errorf("the validating decisions of the write: %v made, %v from the prepared decision; want 0 and at least 1", made, kept)
		}
		got := getConfig(t, key)
		want := strings.Replace(in, "accessTokenMaxAge: 2h   # keep", "accessTokenMaxAge: 0s   # keep", 1)
		if got != want {
			t.Fatalf("stored kubesphere.yaml differs from the input with the one value changed:\n%s", got)
		}
		ws := strings.Join(warned.take(), "\n")
		if !strings.Contains(ws, "ksguard set authentication.oauthOptions.accessTokenMaxAge to 0s") {
			t.Errorf("the client saw no warning about the edit: %q", ws)
		}
	})

	t.Run("drifted jwtSecret is refused without showing a secret", func(t *testing.T) {
		before := getConfig(t, key)
		err := c.Update(ctx, withDoc(t, key, document(t, driftJWT, "0s")))
		assertDenied(t, err, "does not match the host cluster's jwtSecret")
		if getConfig(t, key) != before {
			t.Error("the refused write changed the stored ConfigMap")
		}
	})

	t.Run("server-side dry-run is judged the same way", func(t *testing.T) {
		err := c.Update(ctx, withDoc(t, key, document(t, driftJWT, "0s")), client.DryRunAll)
		assertDenied(t, err, "does not match the host cluster's jwtSecret")

		before := storedConfig(t)
		// A write that would be stored: the webhook edits 24h to 0s, and
		// terminal.timeout changes, so only the dry-run keeps it out.
		cm := withDoc(t, key, strings.Replace(document(t, hostJWT, "24h"), "timeout: 600", "timeout: 624", 1))
		if err := c.Update(ctx, cm, client.DryRunAll); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(cm.Data["kubesphere.yaml"], "accessTokenMaxAge: 0s   # keep") {
			t.Errorf("the dry-run answer was not mutated:\n%s", cm.Data["kubesphere.yaml"])
		}
		after := storedConfig(t)
		if after.ResourceVersion != before.ResourceVersion || after.Data["kubesphere.yaml"] != before.Data["kubesphere.yaml"] {
			t.Errorf("a dry-run write was stored (resourceVersion %s, was %s)", after.ResourceVersion, before.ResourceVersion)
		}
	})

	t.Run("deleting the guarded ConfigMap is refused", func(t *testing.T) {
		err := c.Delete(ctx, configMap(guardedNS, guardedName, ""))
		assertDenied(t, err, "deleting kubesphere-system/kubesphere-config is refused")
		getConfig(t, key) // still there
	})

	t.Run("a changed host Secret is used without a restart", func(t *testing.T) {
		if err := c.Update(ctx, hostSecret(rotatedJWT)); err != nil {
			t.Fatal(err)
		}
		eventually(t, "a write with the rotated jwtSecret is allowed", func() error {
			return c.Update(ctx, withDoc(t, key, document(t, rotatedJWT, "0s")), client.DryRunAll)
		})
		err := c.Update(ctx, withDoc(t, key, document(t, hostJWT, "0s")), client.DryRunAll)
		assertDenied(t, err, "does not match the host cluster's jwtSecret")
		if err := c.Update(ctx, hostSecret(hostJWT)); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the original jwtSecret is allowed again", func() error {
			return c.Update(ctx, withDoc(t, key, document(t, hostJWT, "0s")), client.DryRunAll)
		})
	})

	t.Run("a missing host Secret denies writes and says how to provide it", func(t *testing.T) {
		if err := c.Delete(ctx, hostSecret("")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "ksguard_host_secret_available is 0", func() error {
			if v := metric(t, k, "ksguard_host_secret_available"); v != 0 {
				return fmt.Errorf("ksguard_host_secret_available = %v", v)
			}
			return nil
		})
		err := c.Update(ctx, withDoc(t, key, document(t, hostJWT, "0s")), client.DryRunAll)
		assertDenied(t, err, "kubectl -n kubesphere-system create secret generic ksguard-host-jwt --from-literal=jwtSecret=")
		if err := c.Create(ctx, hostSecret(hostJWT)); err != nil {
			t.Fatal(err)
		}
		eventually(t, "writes are allowed again", func() error {
			return c.Update(ctx, withDoc(t, key, document(t, hostJWT, "0s")), client.DryRunAll)
		})
	})

	t.Run("other ConfigMaps never reach the webhook", func(t *testing.T) {
		calls := func() float64 { return metric(t, k, "controller_runtime_webhook_requests_total") }
		before := calls()
		for _, cm := range []struct{ ns, name string }{
			{guardedNS, "other-config"}, {"default", guardedName}, {"other", guardedName}, {"other", "x"},
		} {
			obj := configMap(cm.ns, cm.name, document(t, driftJWT, "2h"))
			if err := c.Create(ctx, obj); err != nil {
				t.Fatalf("%s/%s: %v", cm.ns, cm.name, err)
			}
			obj.Data["kubesphere.yaml"] = "authentication: {}\n"
			if err := c.Update(ctx, obj); err != nil {
				t.Fatalf("%s/%s: %v", cm.ns, cm.name, err)
			}
			if err := c.Delete(ctx, obj); err != nil {
				t.Fatalf("%s/%s: %v", cm.ns, cm.name, err)
			}
		}
		if after := calls(); after != before {
			t.Fatalf("the webhook was called %v times for other ConfigMaps", after-before)
		}
		// The counter does move for the guarded one: mutate, then validate.
		if err := c.Update(ctx, withDoc(t, key, document(t, hostJWT, "0s")), client.DryRunAll); err != nil {
			t.Fatal(err)
		}
		if after := calls(); after != before+2 {
			t.Fatalf("a guarded write made %v webhook calls, want 2", after-before)
		}
	})

	t.Run("the webhook speaks TLS 1.2 or later with the configured certificate", func(t *testing.T) {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(cluster.CA)
		conn, err := tls.Dial("tcp", cluster.WebhookAddr, &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10})
		if err == nil {
			conn.Close()
			t.Fatal("a TLS 1.1 handshake succeeded")
		}
		conn, err = tls.Dial("tcp", cluster.WebhookAddr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("a TLS 1.2+ handshake verified with the CA failed: %v", err)
		}
		conn.Close()
	})

	t.Run("a renewed certificate is served without a restart", func(t *testing.T) {
		renewed, err := cluster.RenewCertificate()
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(renewed)
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(cluster.CA)
		eventually(t, "the webhook serves the renewed certificate", func() error {
			conn, err := tls.Dial("tcp", cluster.WebhookAddr, &tls.Config{RootCAs: pool})
			if err != nil {
				return err
			}
			defer conn.Close()
			if !bytes.Equal(conn.ConnectionState().PeerCertificates[0].Raw, block.Bytes) {
				return errors.New("still the old certificate")
			}
			return nil
		})
		if err := c.Update(ctx, withDoc(t, key, document(t, hostJWT, "0s")), client.DryRunAll); err != nil {
			t.Fatalf("the API server cannot call the webhook with the renewed certificate: %v", err)
		}
	})

	t.Run("an unreadable review is a 400 with a clear message", func(t *testing.T) {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(cluster.CA)
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		for _, tc := range []struct {
			body string
			code int
			says string
		}{
			{`{"apiVersion": "admission.k8s.io/v1", "kind": `, 400, "decoding the AdmissionReview"},
			{`{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}`, 400, "has no request"},
			{strings.Repeat(" ", 8<<20), 413, "larger than"},
		} {
			resp, err := hc.Post("https://"+cluster.WebhookAddr+"/validate", "application/json", bytes.NewBufferString(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.says) {
				t.Errorf("HTTP %d %q, want %d saying %q", resp.StatusCode, b, tc.code, tc.says)
			}
		}
		if v := metric(t, k, "ksguard_decisions_total", `result="error"`); v < 3 {
			t.Errorf("ksguard_decisions_total{result=\"error\"} = %v, want >= 3", v)
		}
	})

	t.Run("decisions are counted and timed", func(t *testing.T) {
		for _, l := range []string{`result="mutated"`, `result="denied"`} {
			if v := metric(t, k, "ksguard_decisions_total", l); v < 1 {
				t.Errorf("ksguard_decisions_total{%s} = %v", l, v)
			}
		}
		if v := metric(t, k, "ksguard_decision_duration_seconds_count", `webhook="validate"`); v < 1 {
			t.Errorf("ksguard_decision_duration_seconds_count = %v", v)
		}
	})
}

func guardedKey() types.NamespacedName {
	return types.NamespacedName{Namespace: guardedNS, Name: guardedName}
}

// put creates or updates the guarded ConfigMap with doc.
func put(c client.Client, doc string) error {
	cm := configMap(guardedNS, guardedName, doc)
	err := c.Create(ctx, cm)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(cm), cm); err != nil {
		return err
	}
	cm.Data = map[string]string{"kubesphere.yaml": doc}
	return c.Update(ctx, cm)
}

// getConfig returns the stored kubesphere.yaml of key.
func getConfig(t *testing.T, key types.NamespacedName) string {
	t.Helper()
	cm := configMap(key.Namespace, key.Name, "")
	if err := cluster.Client.Get(ctx, key, cm); err != nil {
		t.Fatal(err)
	}
	return cm.Data["kubesphere.yaml"]
}

// withDoc returns the stored ConfigMap key with doc as its kubesphere.yaml.
func withDoc(t *testing.T, key types.NamespacedName, doc string) *corev1.ConfigMap {
	t.Helper()
	cm := configMap(key.Namespace, key.Name, "")
	if err := cluster.Client.Get(ctx, key, cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["kubesphere.yaml"] = doc
	return cm
}

// assertDenied checks that err is ksguard's denial saying says, and shows
// no secret.
func assertDenied(t *testing.T, err error, says string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the write was allowed; want a denial saying %q", says)
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) || !apierrors.IsForbidden(err) {
		t.Fatalf("error %v is not a Forbidden API status", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "ksguard: ") || !strings.Contains(msg, says) {
		t.Fatalf("denial %q does not say %q", msg, says)
	}
	assertNoSecret(t, "the denial", msg)
}
