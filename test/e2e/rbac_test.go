package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/test/harness"
)

// rbacLease is the leader-election Lease docs/rbac.yaml grants, by name.
const rbacLease = "ksguard.io"

// TestLeastPrivilege runs ksguard as a user that has exactly the RBAC of
// docs/rbac.yaml, its two Roles in their own namespaces as installed (the
// guarded one, and ksguard's, which holds the Lease), and checks that it
// does its whole job without one request refused: leader election, the
// host Secret, the audit and its Drift Events, --remediate, adopting and rolling the restart target.
func TestLeastPrivilege(t *testing.T) {
	objs := docsRBAC(t)
	k := runJob(t, "ksguard-rbac-e2e", objs, "")
	if v := metric(t, k, "ksguard_host_secret_available"); v != 1 {
		t.Errorf("ksguard_host_secret_available = %v: the host Secret could not be read", v)
	}
	if logs := unquote(k.Logs()); strings.Contains(strings.ToLower(logs), "forbidden") {
		t.Errorf("ksguard's log shows a refused request:\n%s", grepLines(logs, "orbidden"))
	}
}

// rbacNeed is what a verb of docs/rbac.yaml is needed for.
type rbacNeed struct{ behaviour, refusal string }

// What names the behaviour that fails without the verb.
func (n rbacNeed) What() string { return n.behaviour }

// rbacNeeds names, for every verb of every rule of docs/rbac.yaml, the
// behaviour that fails without it, and the refusal ksguard then logs.
var rbacNeeds = map[string]rbacNeed{
	"Role kubesphere-system/ksguard: core configmaps[kubesphere-config] list": {
		"watching the guarded ConfigMap (restart signal, audit)", `cannot list resource "configmaps" in API group "" in the namespace "kubesphere-system"`},
	"Role kubesphere-system/ksguard: core configmaps[kubesphere-config] watch": {
		"watching the guarded ConfigMap (restart signal, audit)", `cannot watch resource "configmaps" in API group "" in the namespace "kubesphere-system"`},
	"Role kubesphere-system/ksguard: core configmaps[kubesphere-config] update": {
		"--remediate writing the fix back", `cannot update resource "configmaps" in API group "" in the namespace "kubesphere-system"`},
	"Role kubesphere-system/ksguard: core secrets[ksguard-host-jwt] list": {
		"reading the host's jwtSecret", `cannot list resource "secrets" in API group "" in the namespace "kubesphere-system"`},
	"Role kubesphere-system/ksguard: core secrets[ksguard-host-jwt] watch": {
		"following changes of the host's jwtSecret", `cannot watch resource "secrets" in API group "" in the namespace "kubesphere-system"`},
	"Role kubesphere-system/ksguard: apps deployments[ks-apiserver,ks-agent] get": {
		"finding the restart target", `cannot get resource "deployments" in API group "apps" in the namespace "kubesphere-system"`},
	"Role kubesphere-system/ksguard: apps deployments[ks-apiserver,ks-agent] patch": {
		"adopting and rolling the restart target", `cannot patch resource "deployments" in API group "apps" in the namespace "kubesphere-system"`},
	"Role kubesphere-system/ksguard: events.k8s.io events create": {
		"Drift, Remediated and ConfigAdopted Events", `cannot create resource "events" in API group "events.k8s.io" in the namespace "kubesphere-system"`},
	"Role ksguard-system/ksguard-leader-election: coordination.k8s.io leases create": {
		"taking the Lease the first time", `cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "ksguard-system"`},
	"Role ksguard-system/ksguard-leader-election: coordination.k8s.io leases[ksguard.io] get": {
		"reading the Lease", `cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "ksguard-system"`},
	"Role ksguard-system/ksguard-leader-election: coordination.k8s.io leases[ksguard.io] update": {
		"renewing the Lease", `cannot update resource "leases" in API group "coordination.k8s.io" in the namespace "ksguard-system"`},
	"Role ksguard-system/ksguard-leader-election: core events create": {
		"the leader-election Event (became leader)", `cannot create resource "events" in API group "" in the namespace "ksguard-system"`},
}

// TestLeastPrivilegeEveryRuleNeeded removes each verb of each rule of
// docs/rbac.yaml in turn and runs the job of TestLeastPrivilege: each
// removal must make a named behaviour fail, seen as the API server's
// refusal in ksguard's log. A verb no behaviour needs has no entry in
// rbacNeeds and fails the test: remove it from docs/rbac.yaml.
func TestLeastPrivilegeEveryRuleNeeded(t *testing.T) {
	harness.EveryVerbNeeded(t, docsRBAC(t), "docs/rbac.yaml", rbacNeeds, func(t *testing.T, i int, rm harness.VerbRemoval, need rbacNeed) {
		runJob(t, fmt.Sprintf("ksguard-rbac-e2e-%d", i), rm.Objects, need.refusal)
	})
}

// docsRBAC reads the Roles and RoleBindings of docs/rbac.yaml.
func docsRBAC(t *testing.T) []client.Object {
	t.Helper()
	b, err := os.ReadFile("../../docs/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := harness.ReadRBAC(b)
	if err != nil {
		t.Fatalf("docs/rbac.yaml: %v", err)
	}
	return objs
}

// runJob grants user the RBAC objs (bindings' subjects swapped for user)
// and runs ksguard as user through its whole job: leader election, the
// audit of a drifted config reported twice, --remediate, adopting the restart target. With refused empty, every
// step must succeed; else the job ends as soon as ksguard's log shows
// the refusal refused, and fails if it never does.
func runJob(t *testing.T, user string, objs []client.Object, refused string) *harness.Ksguard {
	t.Helper()
	// The informers list, then watch, as against every API server before
	// streaming lists (WatchList): the RBAC must serve those too.
	t.Setenv("KUBE_FEATURE_WatchListClient", "false")
	grant(t, user, objs)
	kubeconfig, err := cluster.KubeconfigFor(user)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newClient(t)
	if err := cluster.Client.Delete(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: leaseNS, Name: rbacLease}}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	freshDeployment(t, "ks-apiserver")
	k, err := cluster.RunKsguard(bin, nil, logLevel, "--host-secret", guardedNS+"/"+secretName, "--kubeconfig", kubeconfig,
		"--restart-min-interval", "0s", "--remediate",
		"--leader-elect", "--leader-election-namespace", leaseNS, "--leader-election-id", rbacLease)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		err := k.Stop()
		assertNoSecret(t, "ksguard's log", k.Logs())
		if refused == "" && err != nil {
			t.Errorf("ksguard did not stop cleanly: %v", err)
		}
		if t.Failed() {
			t.Logf("ksguard's log:\n%s", tail(k.Logs()))
		}
	})
	done := func() bool { return refused != "" && strings.Contains(unquote(k.Logs()), refused) }
	step := func(what string, ok func() error) bool {
		t.Helper()
		eventually(t, what, func() error {
			if done() {
				return nil
			}
			return ok()
		})
		return done()
	}
	timeout := 5000
	doc := func(secret, maxAge string) string {
		timeout++
		return strings.Replace(document(t, secret, maxAge), "timeout: 600", fmt.Sprintf("timeout: %d", timeout), 1)
	}
	drifts := func() int32 { // Drift Events about the jwtSecret
		var n int32
		for _, e := range eventsFor(t, guardedName, "Drift") {
			if strings.Contains(e.Note, "does not match the host") && e.EventTime.After(k.Started) {
				n += seriesCount(e)
			}
		}
		return n
	}
	// The audit reports a drifted jwtSecret in two stored versions: two Events.
	for i := range int32(2) {
		writeWithoutWebhooksUnless(t, c, doc(driftJWT, "0s"), done)
		if step(fmt.Sprintf("Drift Event %d about the jwtSecret", i+1), func() error {
			if n := drifts(); n < i+1 {
				return fmt.Errorf("%d so far", n)
			}
			return nil
		}) {
			return k
		}
	}
	// --remediate fixes a 2h, through the webhooks.
	writeWithoutWebhooksUnless(t, c, doc(hostJWT, "2h"), done)
	if step("the stored config is remediated", func() error {
		if !strings.Contains(getConfig(t, guardedKey()), "accessTokenMaxAge: 0s") {
			return fmt.Errorf("not remediated")
		}
		return nil
	}) {
		return k
	}
	if step("ks-apiserver records the stored config's hash", func() error {
		if s := deploymentState(t, "ks-apiserver"); s.hash != storedHash(t) {
			return fmt.Errorf("records %q", s.hash)
		}
		return nil
	}) {
		return k
	}
	if step("the Remediated Event", func() error {
		if len(eventsFor(t, guardedName, "Remediated")) == 0 {
			return fmt.Errorf("none")
		}
		return nil
	}) {
		return k
	}
	if refused != "" {
		eventually(t, "the refusal "+refused, func() error {
			if done() {
				return nil
			}
			return fmt.Errorf("the whole job ran without it")
		})
	}
	return k
}

// grant creates objs for user (each binding's subjects become user),
// removed when the test ends, and waits until the authorizer applies them.
func grant(t *testing.T, user string, objs []client.Object) {
	t.Helper()
	for _, o := range objs {
		obj := o.DeepCopyObject().(client.Object)
		switch b := obj.(type) {
		case *rbacv1.RoleBinding:
			b.Subjects = []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
		case *rbacv1.ClusterRoleBinding:
			b.Subjects = []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
		}
		if err := cluster.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := cluster.Client.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
				t.Error(err)
			}
		})
	}
	for _, o := range objs {
		role, ok := o.(*rbacv1.Role)
		if !ok {
			continue
		}
		for _, r := range role.Rules {
			attrs := &authorizationv1.ResourceAttributes{Namespace: role.Namespace, Verb: r.Verbs[0], Group: r.APIGroups[0], Resource: r.Resources[0]}
			if len(r.ResourceNames) > 0 {
				attrs.Name = r.ResourceNames[0]
			}
			eventually(t, fmt.Sprintf("the authorizer lets %s %s %s", user, attrs.Verb, attrs.Resource), func() error {
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: user, ResourceAttributes: attrs}}
				if err := cluster.Client.Create(ctx, sar); err != nil {
					return err
				}
				if !sar.Status.Allowed {
					return fmt.Errorf("not yet: %s", sar.Status.Reason)
				}
				return nil
			})
		}
	}
}

// freshDeployment (re)creates the stand-in Deployment name, with no hash
// recorded, removed when the test ends.
func freshDeployment(t *testing.T, name string) {
	t.Helper()
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: guardedNS, Name: name}}
	if err := cluster.Client.Delete(ctx, d); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	eventually(t, "Deployment "+name+" is gone", func() error {
		if err := cluster.Client.Get(ctx, client.ObjectKeyFromObject(d), d); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there (%v)", err)
		}
		return nil
	})
	createDeployment(t, name)
}

// writeWithoutWebhooksUnless is writeWithoutWebhooks, skipped once done.
func writeWithoutWebhooksUnless(t *testing.T, c client.Client, doc string, done func() bool) {
	t.Helper()
	if !done() {
		writeWithoutWebhooks(t, c, doc)
	}
}

// seriesCount is how many times an Event was observed.
func seriesCount(e eventsv1.Event) int32 {
	if e.Series != nil {
		return e.Series.Count
	}
	return 1
}

// unquote undoes the JSON escaping of quotes in a log, so refusals read
// as the API server wrote them.
func unquote(logs string) string {
	return strings.ReplaceAll(logs, `\"`, `"`)
}
