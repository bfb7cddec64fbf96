package chart

import (
	"errors"
	"io"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// objects decodes a rendered manifest.
func objects(t *testing.T, manifest string) []*unstructured.Unstructured {
	t.Helper()
	dec := yaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("decoding the rendered chart: %v", err)
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

// apply server-side applies objs as helm's field manager, with strict
// field validation (an unknown or misplaced field is an error).
func apply(t *testing.T, objs []*unstructured.Unstructured, opts ...client.ApplyOption) {
	t.Helper()
	c := client.WithFieldValidation(cluster.Client, metav1.FieldValidationStrict)
	for _, u := range objs {
		opts := append([]client.ApplyOption{client.FieldOwner("helm"), client.ForceOwnership}, opts...)
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), opts...); err != nil {
			t.Errorf("server-side apply of %s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
}

// TestApply: every object the chart renders, for every values file, is
// accepted by the API server's server-side apply (dry run: nothing is
// stored, every check runs), CRDs of cert-manager and prometheus-operator
// included.
func TestApply(t *testing.T) {
	for _, name := range cases(t) {
		t.Run(name, func(t *testing.T) {
			objs := objects(t, render(t, "ksguard-system", name))
			kinds := map[string]int{}
			for _, u := range objs {
				kinds[u.GetKind()]++
			}
			for _, k := range []string{"Deployment", "Service", "ServiceAccount", "Role", "RoleBinding", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
				if kinds[k] == 0 {
					t.Errorf("the chart rendered no %s", k)
				}
			}
			apply(t, objs, client.DryRunAll)
		})
	}
}
