package chart

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/test/harness"
)

// rbacNS is the release namespace of the RBAC test.
const rbacNS = "ksguard-rbac"

// chartNeeds names, for every verb of every rule the chart renders with
// ksguard's own TLS, remediate and leader election on, the behaviour that
// fails without it and the refusal ksguard then logs (a regular
// expression), and whether ksguard must find no TLS Secret (to create one)
// rather than one to fill in.
var chartNeeds = map[string]chartNeed{
	"Role kubesphere-system/ksguard: core configmaps[kubesphere-config] list": {
		behaviour: "watching the guarded ConfigMap", refusal: `cannot list resource "configmaps" in API group "" in the namespace "kubesphere-system"`},
	"Role kubesphere-system/ksguard: core configmaps[kubesphere-config] watch": {
		behaviour: "watching the guarded ConfigMap", refusal: `cannot watch resource "configmaps" in API group "" in the namespace "kubesphere-system"`},
	"Role kubesphere-system/ksguard: core configmaps[kubesphere-config] update": {
		behaviour: "remediate writing the fix back", refusal: `cannot update resource "configmaps" in API group "" in the namespace "kubesphere-system"`},
	"Role kubesphere-system/ksguard: apps deployments[ks-apiserver,ks-agent] get": {
		behaviour: "finding the restart target", refusal: `cannot get resource "deployments" in API group "apps" in the namespace "kubesphere-system"`},
	"Role kubesphere-system/ksguard: apps deployments[ks-apiserver,ks-agent] patch": {
		behaviour: "adopting the restart target", refusal: `cannot patch resource "deployments" in API group "apps" in the namespace "kubesphere-system"`},
	"Role kubesphere-system/ksguard: events.k8s.io events create": {
		behaviour: "the Drift Event", refusal: `cannot create resource "events" in API group "events.k8s.io" in the namespace "kubesphere-system"`},
	"Role ksguard-rbac/ksguard: core secrets[ksguard-host-jwt] list": {
		behaviour: "reading the host's jwtSecret", refusal: `cannot list resource "secrets" in API group "" in the namespace "ksguard-rbac"`},
	"Role ksguard-rbac/ksguard: core secrets[ksguard-host-jwt] watch": {
		behaviour: "following the host's jwtSecret", refusal: `cannot watch resource "secrets" in API group "" in the namespace "ksguard-rbac"`},
	"Role ksguard-rbac/ksguard: coordination.k8s.io leases create": {
		behaviour: "taking the Lease the first time", refusal: `cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "ksguard-rbac"`},
	"Role ksguard-rbac/ksguard: coordination.k8s.io leases[ksguard] get": {
		behaviour: "reading the Lease", refusal: `cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "ksguard-rbac"`},
	"Role ksguard-rbac/ksguard: coordination.k8s.io leases[ksguard] update": {
		behaviour: "renewing the Lease", refusal: `cannot update resource "leases" in API group "coordination.k8s.io" in the namespace "ksguard-rbac"`},
	"Role ksguard-rbac/ksguard: core secrets create": {
		behaviour: "creating the TLS Secret at first start", noTLSSecret: true, refusal: `cannot create resource "secrets" in API group "" in the namespace "ksguard-rbac"`},
	"Role ksguard-rbac/ksguard: core secrets[ksguard-tls] get": {
		behaviour: "reading the TLS Secret", refusal: `cannot get resource "secrets" in API group "" in the namespace "ksguard-rbac"`},
	"Role ksguard-rbac/ksguard: core secrets[ksguard-tls] update": {
		behaviour: "filling in the TLS Secret", refusal: `cannot update resource "secrets" in API group "" in the namespace "ksguard-rbac"`},
	"Role ksguard-rbac/ksguard: core events create": {
		behaviour: "the leader-election Event", refusal: `cannot create resource "events" in API group "" in the namespace "ksguard-rbac"`},
	"ClusterRole ksguard-cabundle: admissionregistration.k8s.io mutatingwebhookconfigurations,validatingwebhookconfigurations[ksguard] get": {
		behaviour: "reading the caBundle of the webhook configurations", refusal: `cannot get resource "(mutating|validating)webhookconfigurations" in API group "admissionregistration.k8s.io" at the cluster scope`},
	"ClusterRole ksguard-cabundle: admissionregistration.k8s.io mutatingwebhookconfigurations,validatingwebhookconfigurations[ksguard] update": {
		behaviour: "setting the caBundle of the webhook configurations", refusal: `cannot update resource "(mutating|validating)webhookconfigurations" in API group "admissionregistration.k8s.io" at the cluster scope`},
}

// chartNeed is what the member chart's rule verb is needed for.
type chartNeed struct {
	behaviour, refusal string
	noTLSSecret        bool
}

// What names the behaviour that fails without the verb.
func (n chartNeed) What() string { return n.behaviour }

// TestChartRBACEveryRuleNeeded installs the chart with every rule it can
// render (ksguard's own TLS, remediate, leader election), then removes
// each verb of each rule in turn and runs ksguard as the chart's
// ServiceAccount over a drifted config, a fresh restart target, no Lease
// and a TLS Secret to create or fill in: each removal must make a named
// behaviour fail, seen as the API server's refusal in ksguard's log. A
// verb no behaviour needs fails the test: remove it from the chart.
// (TestRestartSignalAsChart runs the same job with the whole RBAC and
// fails on any refusal.)
func TestChartRBACEveryRuleNeeded(t *testing.T) {
	if err := cluster.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: rbacNS}}); err != nil {
		t.Fatal(err)
	}
	// As against an API server without streaming lists: list, then watch.
	t.Setenv("KUBE_FEATURE_WatchListClient", "false")
	r := install(t, rbacNS, "default", "certManager.enabled=false", "remediate=true", "restart.minInterval=0s")
	rbac := rbacObjects(t, r.objs)
	webhooks := pristine(webhookObjects(r))
	t.Cleanup(func() { setRules(t, rbac) })
	harness.EveryVerbNeeded(t, rbac, "the chart", chartNeeds, func(t *testing.T, _ int, rm harness.VerbRemoval, need chartNeed) {
		setRules(t, rm.Objects)
		waitDenied(t, rm)
		driftedMember(t, webhooks, need.noTLSSecret)
		k, err := cluster.RunKsguard(bin, nil, r.ksguardArgs(t, t.TempDir())...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = k.Stop()
			assertNoSecret(t, "ksguard's log", k.Logs())
			if t.Failed() {
				t.Logf("ksguard's log:\n%s", tail(k.Logs(), 40))
			}
		})
		waitRefusal(t, k.Logs, need.refusal)
	})
}

// webhookObjects returns the chart's webhook configurations of r.
func webhookObjects(r *release) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, u := range r.objs {
		if strings.HasSuffix(u.GetKind(), "WebhookConfiguration") {
			out = append(out, u)
		}
	}
	return out
}

// pristine returns copies of us as rendered: without what the API server
// wrote back into them when they were applied (apply fills them in).
func pristine(us []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(us))
	for i, u := range us {
		u = u.DeepCopy()
		for _, f := range []string{"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"} {
			unstructured.RemoveNestedField(u.Object, "metadata", f)
		}
		unstructured.RemoveNestedField(u.Object, "status")
		out[i] = u
	}
	return out
}

// setRules sets the rules of the Roles and ClusterRoles in objs to theirs.
func setRules(t *testing.T, objs []client.Object) {
	t.Helper()
	for _, o := range objs {
		cur := o.DeepCopyObject().(client.Object)
		if err := cluster.Client.Get(ctx, client.ObjectKeyFromObject(o), cur); err != nil {
			t.Fatal(err)
		}
		switch c := cur.(type) {
		case *rbacv1.Role:
			c.Rules = o.(*rbacv1.Role).Rules
		case *rbacv1.ClusterRole:
			c.Rules = o.(*rbacv1.ClusterRole).Rules
		}
		if err := cluster.Client.Update(ctx, cur); err != nil {
			t.Fatal(err)
		}
	}
}

// rbacObjects returns the Roles and ClusterRoles among rendered objects.
func rbacObjects(t *testing.T, objs []*unstructured.Unstructured) []client.Object {
	t.Helper()
	var rbac []client.Object
	for _, u := range objs {
		switch u.GetKind() {
		case "Role", "ClusterRole":
			obj := map[string]client.Object{"Role": &rbacv1.Role{}, "ClusterRole": &rbacv1.ClusterRole{}}[u.GetKind()]
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
				t.Fatal(err)
			}
			rbac = append(rbac, obj)
		}
	}
	return rbac
}

// waitRefusal waits until the API server's refusal (a regular expression)
// shows in a process's log.
func waitRefusal(t *testing.T, logs func() string, refusal string) {
	t.Helper()
	re := regexp.MustCompile(refusal)
	harness.Eventually(t, "the refusal "+refusal, func() error {
		if re.MatchString(strings.ReplaceAll(logs(), `\"`, `"`)) {
			return nil
		}
		return fmt.Errorf("not in the log")
	})
}

// waitDenied waits until the authorizer refuses the chart's ServiceAccount
// the verb rm removed.
func waitDenied(t *testing.T, rm harness.VerbRemoval) {
	t.Helper()
	waitDeniedTo(t, rm, rbacNS, "ksguard")
}

// waitDeniedTo waits until the authorizer refuses ServiceAccount
// namespace/name the verb rm removed.
func waitDeniedTo(t *testing.T, rm harness.VerbRemoval, namespace, name string) {
	t.Helper()
	attrs := &authorizationv1.ResourceAttributes{Namespace: rm.Namespace, Verb: rm.Verb, Group: rm.Rule.APIGroups[0], Resource: rm.Rule.Resources[0]}
	if len(rm.Rule.ResourceNames) > 0 {
		attrs.Name = rm.Rule.ResourceNames[0]
	}
	harness.Eventually(t, "the authorizer applies the removal", func() error {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:               "system:serviceaccount:" + namespace + ":" + name,
			Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
			ResourceAttributes: attrs,
		}}
		if err := cluster.Client.Create(ctx, sar); err != nil {
			return err
		}
		if sar.Status.Allowed {
			return fmt.Errorf("still allowed")
		}
		return nil
	})
}

// driftedMember sets the scene of a first start: the stored config with
// accessTokenMaxAge 2h (written with the webhook configurations away, then
// put back without a caBundle), a ks-apiserver with no hash recorded, no
// Lease, and a TLS Secret to fill in (or, with noTLSSecret, none).
func driftedMember(t *testing.T, webhooks []*unstructured.Unstructured, noTLSSecret bool) {
	t.Helper()
	for _, obj := range []client.Object{
		&admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "ksguard"}},
		&admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "ksguard"}},
		&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: rbacNS, Name: "ksguard"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: rbacNS, Name: "ksguard-tls"}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: guardedNS, Name: "ks-apiserver"}},
	} {
		if err := cluster.Client.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		harness.Eventually(t, "the old "+fmt.Sprintf("%T", obj)+" is gone", func() error {
			if err := cluster.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
				return fmt.Errorf("still there (%v)", err)
			}
			return nil
		})
	}
	harness.Eventually(t, "the drifted config is stored", func() error {
		return put(strings.Replace(document(t, hostJWT, "2h"), "timeout: 600", "timeout: 620", 1))
	})
	apply(t, pristine(webhooks))
	d := harness.StandInDeployment(guardedNS, "ks-apiserver")
	if err := cluster.Client.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Client.Delete(ctx, d) })
	if !noTLSSecret {
		if err := cluster.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: rbacNS, Name: "ksguard-tls"}}); err != nil {
			t.Fatal(err)
		}
	}
}
