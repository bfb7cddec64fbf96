package restart

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in    string
		names []string
		err   bool
	}{
		{in: "auto", names: []string{"kubesphere-system/ks-apiserver", "kubesphere-system/ks-agent"}},
		{in: "none"},
		{in: "ns/my-apiserver", names: []string{"ns/my-apiserver"}},
		{in: "ks-apiserver", err: true},
		{in: "a/b/c", err: true},
		{in: "/x", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			tgt, err := ParseTarget(tc.in, "kubesphere-system")
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			var names []string
			for _, k := range tgt.Names() {
				names = append(names, k.String())
			}
			if len(names) != len(tc.names) {
				t.Fatalf("names = %v, want %v", names, tc.names)
			}
			for i := range names {
				if names[i] != tc.names[i] {
					t.Fatalf("names = %v, want %v", names, tc.names)
				}
			}
		})
	}
}

func TestHash(t *testing.T) {
	base := &corev1.ConfigMap{Data: map[string]string{"kubesphere.yaml": "a: 1\n", "other": "x"}}
	h := Hash(base)
	if len(h) != 16 || Hash(base.DeepCopy()) != h {
		t.Fatalf("hash %q is not stable", h)
	}
	for name, change := range map[string]func(*corev1.ConfigMap){
		"a value":           func(c *corev1.ConfigMap) { c.Data["kubesphere.yaml"] = "a: 2\n" },
		"another key":       func(c *corev1.ConfigMap) { c.Data["other"] = "y" },
		"a new key":         func(c *corev1.ConfigMap) { c.Data["kubesphere.json"] = "{}" },
		"binary data":       func(c *corev1.ConfigMap) { c.BinaryData = map[string][]byte{"b": {1}} },
		"key/value borders": func(c *corev1.ConfigMap) { c.Data = map[string]string{"kubesphere.yaml": "a: 1\n", "othe": "rx"} },
	} {
		t.Run(name, func(t *testing.T) {
			c := base.DeepCopy()
			change(c)
			if Hash(c) == h {
				t.Error("the hash did not change")
			}
		})
	}
	annotated := base.DeepCopy()
	annotated.Annotations = map[string]string{"a": "b"}
	if Hash(annotated) != h {
		t.Error("metadata changed the hash: only data is the config")
	}
}
