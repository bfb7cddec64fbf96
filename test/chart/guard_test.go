package chart

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/test/harness"
)

// Secrets used by the tests; none may appear in a log or a denial.
const (
	hostJWT  = "chart-test-host-jwt-Z3bq" // testdata/values/default.yaml
	driftJWT = "chart-test-drifted-jwt-P0o9"
)

// release is the chart installed in a namespace for a guard test.
type release struct {
	namespace string
	objs      []*unstructured.Unstructured
}

// install renders values case name into namespace with the Service port
// set to the port ksguard will listen on, and applies every object for
// real, except that the Service becomes an ExternalName Service for
// localhost: the API server then calls the chart's webhook configurations,
// unchanged, at ksguard's local port, and verifies TLS for the Service's
// DNS name as in a cluster. The webhook configurations are deleted when
// the test ends, so they hold no later write up.
func install(t *testing.T, namespace, name string, set ...string) *release {
	t.Helper()
	_, port, _ := strings.Cut(cluster.WebhookAddr, ":")
	portNum, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("webhook address %s: %v", cluster.WebhookAddr, err)
	}
	r := &release{namespace: namespace, objs: objects(t, render(t, namespace, name, append(set, "service.port="+port)...))}
	var objs []*unstructured.Unstructured
	for _, u := range r.objs {
		if u.GetKind() == "Service" {
			u = u.DeepCopy()
			if err := unstructured.SetNestedMap(u.Object, map[string]any{
				"type":         "ExternalName",
				"externalName": "localhost",
				"ports":        []any{map[string]any{"name": "webhook", "port": int64(portNum)}},
			}, "spec"); err != nil {
				t.Fatal(err)
			}
		}
		objs = append(objs, u)
	}
	t.Cleanup(func() {
		for _, obj := range []client.Object{
			&admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "ksguard"}},
			&admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "ksguard"}},
		} {
			if err := cluster.Client.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("deleting %T: %v", obj, err)
			}
		}
	})
	apply(t, objs)
	if t.Failed() {
		t.FailNow()
	}
	return r
}

// args returns the arguments the chart's Deployment gives ksguard, without
// "serve" and without the flags the test sets to local values (the
// addresses, --cert-dir and --config-hash-key-file).
func (r *release) args(t *testing.T) []string {
	t.Helper()
	for _, u := range r.objs {
		if u.GetKind() != "Deployment" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
		if len(args) == 0 || args[0] != "serve" {
			t.Fatalf("the chart's container args %q do not start with serve", args)
		}
		var out []string
		for _, a := range args[1:] {
			flag, _, _ := strings.Cut(a, "=")
			switch flag {
			case "--cert-dir", "--webhook-bind-address", "--metrics-bind-address", "--health-probe-bind-address", "--config-hash-key-file":
			default:
				out = append(out, a)
			}
		}
		return out
	}
	t.Fatal("the chart rendered no Deployment")
	return nil
}

// serviceAccountKubeconfig writes a kubeconfig for the chart's
// ServiceAccount (a token from the TokenRequest API), so ksguard runs with
// exactly the RBAC the chart grants.
func (r *release) serviceAccountKubeconfig(t *testing.T) string {
	t.Helper()
	return tokenKubeconfig(t, r.namespace, "ksguard")
}

// startKsguard runs ksguard with the chart's arguments and environment (as
// the kubelet resolves it), as the chart's ServiceAccount, serving the
// certificate in certDir, until the test ends; it checks the soft memory
// limit ksguard chose from that environment.
func (r *release) startKsguard(t *testing.T, certDir string) *harness.Ksguard {
	t.Helper()
	env := podEnv(t, container(t, r.objs))
	for k, v := range env {
		t.Setenv(k, v) // the child inherits the test's environment
	}
	k, err := cluster.StartKsguard(ctx, bin, nil, r.ksguardArgs(t, certDir)...)
	if err != nil {
		t.Fatal(err)
	}
	assertMemoryLimit(t, k.Logs(), env)
	t.Cleanup(func() {
		if err := k.Stop(); err != nil {
			t.Errorf("ksguard exited with %v", err)
		}
		logs := k.Logs()
		assertNoSecret(t, "ksguard's log", logs)
		if strings.Contains(strings.ToLower(logs), "forbidden") {
			t.Errorf("the chart's RBAC refused a request of ksguard's:\n%s", grep(logs, "orbidden"))
		}
	})
	return k
}

// assertNoSecret fails t if text holds a jwtSecret value the tests use.
func assertNoSecret(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range []string{hostJWT, driftJWT} {
		if strings.Contains(text, s) {
			t.Errorf("%s contains a jwtSecret value", where)
		}
	}
}

// grep returns the lines of text holding sub.
func grep(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// ksguardArgs are the arguments of a ksguard run with the chart's
// arguments, as the chart's ServiceAccount, serving the certificate in
// certDir.
func (r *release) ksguardArgs(t *testing.T, certDir string) []string {
	t.Helper()
	return append(r.args(t), "--kubeconfig="+r.serviceAccountKubeconfig(t), "--cert-dir="+certDir,
		"--config-hash-key-file="+r.mountConfigHashKey(t))
}

// mountConfigHashKey writes the key of the chart's config-hash key Secret,
// as applied to the API server, to a file, as the kubelet mounts it, and
// returns the file's path.
func (r *release) mountConfigHashKey(t *testing.T) string {
	t.Helper()
	sec := &corev1.Secret{}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: r.namespace, Name: "ksguard-config-hash-key"}, sec); err != nil {
		t.Fatalf("the chart's config-hash key Secret: %v", err)
	}
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, sec.Data["key"], 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// document is test/e2e's KubeSphere v3.4 member config with the given
// jwtSecret and accessTokenMaxAge.
func document(t *testing.T, secret, maxAge string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "test", "e2e", "testdata", "kubesphere.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("JWT_SECRET", secret, "MAX_AGE", maxAge).Replace(string(b))
}

// put creates or updates the guarded ConfigMap with doc.
func put(doc string) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: guardedNS, Name: guardedName}}
	err := cluster.Client.Get(ctx, client.ObjectKeyFromObject(cm), cm)
	cm.Data = map[string]string{"kubesphere.yaml": doc}
	if apierrors.IsNotFound(err) {
		return cluster.Client.Create(ctx, cm)
	}
	if err != nil {
		return err
	}
	return cluster.Client.Update(ctx, cm)
}

// assertGuards writes through the API server: a drifted jwtSecret is
// refused with ksguard's message (not a TLS or connection error: the
// webhook configurations fail closed, so those would deny too), and a
// 2h accessTokenMaxAge is stored as 0s.
func assertGuards(t *testing.T, k *harness.Ksguard) {
	t.Helper()
	err := put(document(t, driftJWT, "0s"))
	var status apierrors.APIStatus
	if err == nil || !errors.As(err, &status) || !apierrors.IsForbidden(err) ||
		!strings.Contains(err.Error(), "ksguard: jwtSecret at authentication.jwtSecret") || !strings.Contains(err.Error(), "does not match the host cluster's jwtSecret") {
		t.Fatalf("a drifted jwtSecret got %v; want ksguard's denial", err)
	}
	in := document(t, hostJWT, "2h")
	if err := put(in); err != nil {
		t.Fatalf("writing a 2h accessTokenMaxAge: %v\nksguard's log:\n%s", err, k.Logs())
	}
	cm := &corev1.ConfigMap{}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: guardedNS, Name: guardedName}, cm); err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(in, "accessTokenMaxAge: 2h   # keep", "accessTokenMaxAge: 0s   # keep", 1); cm.Data["kubesphere.yaml"] != want {
		t.Fatalf("stored:\n%s\nwant accessTokenMaxAge 0s and nothing else changed", cm.Data["kubesphere.yaml"])
	}
	assertNoSecret(t, "the denial", err.Error())
	assertScope(t, k)
}

// assertScope checks the scope of the chart's webhook configurations:
// writes to other ConfigMaps (another name in the guarded namespace, the
// guarded name elsewhere) never reach ksguard, and deleting the guarded
// one does, and is refused.
func assertScope(t *testing.T, k *harness.Ksguard) {
	t.Helper()
	calls := func() float64 {
		t.Helper()
		v, err := k.Metric("controller_runtime_webhook_requests_total")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := calls()
	for _, key := range []types.NamespacedName{{Namespace: guardedNS, Name: "other-config"}, {Namespace: "ops", Name: guardedName}} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}, Data: map[string]string{"kubesphere.yaml": document(t, driftJWT, "2h")}}
		if err := cluster.Client.Create(ctx, cm); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		cm.Data["kubesphere.yaml"] = "authentication: {}\n"
		if err := cluster.Client.Update(ctx, cm); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if err := cluster.Client.Delete(ctx, cm); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}
	if after := calls(); after != before {
		t.Errorf("writes to other ConfigMaps made %v webhook calls", after-before)
	}
	err := cluster.Client.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: guardedNS, Name: guardedName}})
	if err == nil || !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "deleting kubesphere-system/kubesphere-config is refused") {
		t.Errorf("deleting the guarded ConfigMap got %v; want ksguard's denial", err)
	}
	if after := calls(); after != before+1 {
		t.Errorf("deleting the guarded ConfigMap made %v webhook calls, want 1 (validate)", after-before)
	}
}
