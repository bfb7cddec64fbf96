package harness

import (
	"encoding/base64"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// KubeSphere's objects as the tests write them. Their shapes follow
// kubesphere/kubesphere v3.4.1 and v4.1.3 (Cluster) and
// kubesphere/ks-installer v3.4.1 (ClusterConfiguration ks-installer,
// Secret kubesphere-secret); the CRDs are in
// test/doctor/testdata/crds.

// KubeSphereNamespace is where KubeSphere keeps its config and installer.
const KubeSphereNamespace = "kubesphere-system"

// KubeSphereConfig is ConfigMap kubesphere-system/kubesphere-config holding
// doc as kubesphere.yaml, with annotations.
func KubeSphereConfig(doc string, annotations map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: KubeSphereNamespace, Name: "kubesphere-config", Annotations: annotations},
		Data:       map[string]string{"kubesphere.yaml": doc},
	}
}

// ClusterObject is a KubeSphere Cluster reached through kubeconfig (none
// when nil); the host's own carries the label
// cluster-role.kubesphere.io/host.
func ClusterObject(name string, kubeconfig []byte, isHost bool) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cluster.kubesphere.io/v1alpha1",
		"kind":       "Cluster",
		"metadata":   map[string]any{"name": name},
		"spec":       map[string]any{"connection": map[string]any{"type": "direct"}},
	}}
	if kubeconfig != nil {
		_ = unstructured.SetNestedField(u.Object, base64.StdEncoding.EncodeToString(kubeconfig), "spec", "connection", "kubeconfig")
	}
	if isHost {
		u.SetLabels(map[string]string{"cluster-role.kubesphere.io/host": ""})
	}
	return u
}

// InstallerSources are ks-installer's ClusterConfiguration ks-installer (a
// member's) and Secret kubesphere-secret, both holding secret: what the
// installer renders kubesphere-config from on its next run.
func InstallerSources(secret string) []client.Object {
	cc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "installer.kubesphere.io/v1alpha1", "kind": "ClusterConfiguration",
		"metadata": map[string]any{"namespace": KubeSphereNamespace, "name": "ks-installer"},
		"spec": map[string]any{
			"authentication": map[string]any{"jwtSecret": secret},
			"multicluster":   map[string]any{"clusterRole": "member"},
		},
	}}
	return []client.Object{cc, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: KubeSphereNamespace, Name: "kubesphere-secret"},
		Data:       map[string][]byte{"secret": []byte(secret)},
	}}
}
