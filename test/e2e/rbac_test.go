package e2e

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// TestLeastPrivilege runs ksguard as a user that has exactly the RBAC of
// docs/rbac.yaml (leader election, the restart signal, the audit with
// --remediate, the host Secret) and checks that it does its whole job
// without one request refused.
func TestLeastPrivilege(t *testing.T) {
	const user = "ksguard-rbac-e2e"
	applyRBAC(t, user)
	kubeconfig, err := cluster.KubeconfigFor(user)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newClient(t)
	doc := strings.Replace(document(t, hostJWT, "0s"), "timeout: 600", "timeout: 700", 1)
	createDeployment(t, "ks-apiserver")
	k := startKsguard(t, "--host-secret", guardedNS+"/"+secretName, "--kubeconfig", kubeconfig,
		"--restart-min-interval", "0s", "--remediate",
		"--leader-elect", "--leader-election-namespace", guardedNS, "--leader-election-id", "ksguard.io")
	if err := put(c, doc); err != nil {
		t.Fatal(err)
	}
	waitRolledFor(t, "ks-apiserver", storedHash(t)) // adopted
	drifted := strings.NewReplacer("accessTokenMaxAge: 0s", "accessTokenMaxAge: 2h", "timeout: 700", "timeout: 701").Replace(doc)
	writeWithoutWebhooks(t, c, drifted)
	eventually(t, "the stored config is remediated and ks-apiserver rolled for it", func() error {
		if !strings.Contains(getConfig(t, guardedKey()), "accessTokenMaxAge: 0s") {
			return fmt.Errorf("not remediated")
		}
		if s := deploymentState(t, "ks-apiserver"); s.hash != storedHash(t) || s.restartedAt == "" {
			return fmt.Errorf("not rolled: %+v", s)
		}
		return nil
	})
	if v := metric(t, k, "ksguard_host_secret_available"); v != 1 {
		t.Errorf("ksguard_host_secret_available = %v: the host Secret could not be read", v)
	}
	waitEvent(t, guardedName, "Remediated", "accessTokenMaxAge=0s")
	for _, refused := range []string{"forbidden", "Forbidden"} {
		if strings.Contains(k.Logs(), refused) {
			t.Errorf("ksguard's log shows a refused request:\n%s", tail(k.Logs()))
			break
		}
	}
}

// applyRBAC creates the Roles and RoleBindings of docs/rbac.yaml, bound to
// user instead of the ServiceAccount, with ksguard's namespace mapped to
// the guarded one (the test's leader election namespace).
func applyRBAC(t *testing.T, user string) {
	t.Helper()
	b, err := os.ReadFile("../../docs/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range bytes.Split(b, []byte("\n---\n")) {
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(part, &meta); err != nil {
			t.Fatal(err)
		}
		var obj client.Object
		switch meta.Kind {
		case "Role":
			obj = &rbacv1.Role{}
		case "RoleBinding":
			obj = &rbacv1.RoleBinding{}
		default:
			t.Fatalf("docs/rbac.yaml: unexpected kind %q", meta.Kind)
		}
		if err := yaml.UnmarshalStrict(part, obj); err != nil {
			t.Fatalf("docs/rbac.yaml: %v", err)
		}
		obj.SetNamespace(guardedNS)
		if rb, ok := obj.(*rbacv1.RoleBinding); ok {
			rb.Subjects = []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
		}
		if err := cluster.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cluster.Client.Delete(ctx, obj) })
	}
}
