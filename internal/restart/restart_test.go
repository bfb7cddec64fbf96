package restart

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

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
