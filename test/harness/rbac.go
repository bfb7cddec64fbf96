package harness

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// ReadRBAC decodes the Roles, ClusterRoles and their bindings of a YAML
// manifest (documents separated by ---); anything else is an error.
func ReadRBAC(manifest []byte) ([]client.Object, error) {
	var objs []client.Object
	for _, part := range bytes.Split(manifest, []byte("\n---\n")) {
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(part, &meta); err != nil {
			return nil, fmt.Errorf("reading the RBAC manifest: %w", err)
		}
		var obj client.Object
		switch meta.Kind {
		case "Role":
			obj = &rbacv1.Role{}
		case "RoleBinding":
			obj = &rbacv1.RoleBinding{}
		case "ClusterRole":
			obj = &rbacv1.ClusterRole{}
		case "ClusterRoleBinding":
			obj = &rbacv1.ClusterRoleBinding{}
		case "":
			continue
		default:
			return nil, fmt.Errorf("the RBAC manifest holds a %s", meta.Kind)
		}
		if err := yaml.UnmarshalStrict(part, obj); err != nil {
			return nil, fmt.Errorf("reading a %s of the RBAC manifest: %w", meta.Kind, err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// VerbRemoval is a set of RBAC objects with one verb of one rule removed
// (the rule goes with its last verb).
type VerbRemoval struct {
	// Name says what was removed: "Role NS/NAME: GROUP RESOURCES[NAMES] VERB",
	// the group "core" for "".
	Name string
	// Objects are the RBAC objects without that verb.
	Objects []client.Object
	// Namespace is the Role's ("" for a ClusterRole), Rule the rule the
	// verb was removed from, as it was, and Verb the verb.
	Namespace string
	Rule      rbacv1.PolicyRule
	Verb      string
}

// Need is what a test says one verb of an RBAC rule is needed for; What
// names the behaviour that fails without it.
type Need interface{ What() string }

// EveryVerbNeeded runs check once for each VerbRemoval of objs (i counts
// them), as a subtest named after it, given the behaviour needs names for
// it. A verb needs does not name fails its subtest (no behaviour is known to
// need it: prove one, or take it out of source), and so does a name in needs
// that objs do not grant.
func EveryVerbNeeded[N Need](t *testing.T, objs []client.Object, source string, needs map[string]N, check func(t *testing.T, i int, rm VerbRemoval, need N)) {
	t.Helper()
	seen := map[string]bool{}
	for i, rm := range VerbRemovals(objs) {
		seen[rm.Name] = true
		t.Run(rm.Name, func(t *testing.T) {
			need, ok := needs[rm.Name]
			if !ok {
				t.Fatalf("no behaviour is known to need %s: prove one fails without it, or remove it from %s", rm.Name, source)
			}
			t.Logf("without it: %s fails", need.What())
			check(t, i, rm, need)
		})
	}
	for name := range needs {
		if !seen[name] {
			t.Errorf("the test names %q, which %s does not grant", name, source)
		}
	}
}

// VerbRemovals returns every way of removing one verb of one rule from
// the Roles and ClusterRoles in objs, in order.
func VerbRemovals(objs []client.Object) []VerbRemoval {
	var out []VerbRemoval
	for i, obj := range objs {
		rules := rulesOf(obj)
		if rules == nil {
			continue
		}
		for r, rule := range *rules {
			for v, verb := range rule.Verbs {
				cp := make([]client.Object, len(objs))
				for j, o := range objs {
					cp[j] = o.DeepCopyObject().(client.Object)
				}
				cr := rulesOf(cp[i])
				if len(rule.Verbs) == 1 {
					*cr = slices.Delete(*cr, r, r+1)
				} else {
					(*cr)[r].Verbs = slices.Delete((*cr)[r].Verbs, v, v+1)
				}
				out = append(out, VerbRemoval{Name: fmt.Sprintf("%s: %s %s", objectName(obj), ruleName(rule), verb), Objects: cp,
					Namespace: obj.GetNamespace(), Rule: *rule.DeepCopy(), Verb: verb})
			}
		}
	}
	return out
}

// rulesOf returns the rules of a Role or ClusterRole, else nil.
func rulesOf(obj client.Object) *[]rbacv1.PolicyRule {
	switch o := obj.(type) {
	case *rbacv1.Role:
		return &o.Rules
	case *rbacv1.ClusterRole:
		return &o.Rules
	}
	return nil
}

func objectName(obj client.Object) string {
	kind := "ClusterRole"
	if _, ok := obj.(*rbacv1.Role); ok {
		kind = "Role"
	}
	if obj.GetNamespace() == "" {
		return kind + " " + obj.GetName()
	}
	return kind + " " + obj.GetNamespace() + "/" + obj.GetName()
}

// ruleName is "GROUPS RESOURCES[NAMES]", the core group named "core".
func ruleName(r rbacv1.PolicyRule) string {
	groups := make([]string, len(r.APIGroups))
	for i, g := range r.APIGroups {
		groups[i] = cmp.Or(g, "core")
	}
	s := strings.Join(groups, ",") + " " + strings.Join(r.Resources, ",")
	if len(r.ResourceNames) > 0 {
		s += "[" + strings.Join(r.ResourceNames, ",") + "]"
	}
	return s
}
