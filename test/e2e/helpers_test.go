package e2e

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/test/harness"
)

// Secrets used by the tests; every test checks none of them leaks.
const (
	hostJWT    = "host-jwt-Q9w8E7r6T5y4U3i2"
	rotatedJWT = "rotated-jwt-Z1x2C3v4B5n6M7"
	driftJWT   = "drifted-jwt-A1s2D3f4G5h6J7"
)

var allSecrets = []string{hostJWT, rotatedJWT, driftJWT}

func hostSecret(value string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: guardedNS, Name: secretName},
		Data:       map[string][]byte{"jwtSecret": []byte(value)},
	}
}

// document is testdata/kubesphere.yaml with the given jwtSecret and
// accessTokenMaxAge.
func document(t *testing.T, secret, maxAge string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/kubesphere.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("JWT_SECRET", secret, "MAX_AGE", maxAge).Replace(string(b))
}

func configMap(ns, name, doc string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Data:       map[string]string{"kubesphere.yaml": doc},
	}
}

// warnings records the warnings the API server sends a client.
type warnings struct {
	mu      sync.Mutex
	pending []string // since the last take
	all     []string // every warning, searched for secrets when the test ends
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = append(w.pending, text)
	w.all = append(w.all, text)
}

// take returns the warnings since the last take.
func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.pending
	w.pending = nil
	return l
}

func (w *warnings) everything() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.all, "\n")
}

// newClient returns an admin client whose warnings are recorded; every
// warning it received is searched for secrets when the test ends.
func newClient(t *testing.T) (client.Client, *warnings) {
	t.Helper()
	w := &warnings{}
	cfg := rest.CopyConfig(cluster.Config)
	cfg.WarningHandler = w
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assertNoSecret(t, "the warnings the client received", w.everything()) })
	return c, w
}

// startKsguard runs ksguard with args at the debug log level and stops it
// when the test ends, checking that it exits cleanly on SIGTERM and logged
// no secret.
func startKsguard(t *testing.T, args ...string) *harness.Ksguard {
	t.Helper()
	return startKsguardFor(t, t, args...)
}

// logLevel is the level every ksguard of the end-to-end tests logs at:
// debug, the most the chart offers (logLevel), so that every line any
// level writes is searched for secrets.
const logLevel = "--zap-log-level=debug"

// startKsguardFor is startKsguard from a subtest t for a process that
// outlives it: it is stopped when owner ends.
func startKsguardFor(t, owner *testing.T, args ...string) *harness.Ksguard {
	t.Helper()
	k, err := cluster.StartKsguard(context.Background(), bin, nil, append([]string{logLevel}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	owner.Cleanup(func() {
		if err := k.Stop(); err != nil {
			owner.Errorf("ksguard did not stop cleanly on SIGTERM: %v", err)
		}
		logs := k.Logs()
		assertNoSecret(owner, "ksguard's log", logs)
		if !strings.Contains(logs, "ksguard stopped") {
			owner.Errorf("ksguard's log does not end with a clean stop:\n%s", tail(logs))
		}
		if owner.Failed() {
			owner.Logf("ksguard's log:\n%s", tail(logs))
		}
	})
	return k
}

func assertNoSecret(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range allSecrets {
		if strings.Contains(text, s) {
			t.Errorf("%s contains a jwtSecret value", where)
		}
	}
}

// eventually retries f until it returns nil, or fails the test after 30s
// with f's last error.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	harness.Eventually(t, what, f)
}

// metric reads one metric of k, failing the test on error.
func metric(t *testing.T, k *harness.Ksguard, name string, labels ...string) float64 {
	t.Helper()
	v, err := k.Metric(name, labels...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func tail(s string) string {
	if len(s) > 8000 {
		return "...\n" + s[len(s)-8000:]
	}
	return s
}

var ctx = context.Background()
