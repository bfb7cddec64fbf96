// Package kscluster reads KubeSphere's Cluster objects, the host's record
// of each cluster it manages: which one is the host, and how to reach a
// member. doctor (--all-members) and fleet both reach members through it.
package kscluster

import (
	"encoding/base64"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// GVK is KubeSphere's Cluster (cluster-scoped; kubesphere/kubesphere v3.4.1
// and v4.1.3 pkg/apis/cluster/v1alpha1): the host keeps one per cluster,
// its own labelled HostLabel.
var GVK = schema.GroupVersionKind{Group: "cluster.kubesphere.io", Version: "v1alpha1", Kind: "Cluster"}

// ListGVK is the list kind of GVK.
var ListGVK = GVK.GroupVersion().WithKind("ClusterList")

// HostLabel marks the host's own Cluster object.
const HostLabel = "cluster-role.kubesphere.io/host"

// New returns an empty Cluster object to read into.
func New() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(GVK)
	return u
}

// IsHost reports whether cl is the host's own Cluster object.
func IsHost(cl *unstructured.Unstructured) bool {
	_, ok := cl.GetLabels()[HostLabel]
	return ok
}

// Kubeconfig returns the decoded spec.connection.kubeconfig of cl, how the
// host reaches the member for direct and proxy connections alike, or an
// error saying what is wrong with it.
func Kubeconfig(cl *unstructured.Unstructured) ([]byte, error) {
	encoded, _, _ := unstructured.NestedString(cl.Object, "spec", "connection", "kubeconfig")
	if encoded == "" {
		return nil, fmt.Errorf("Cluster %s has no spec.connection.kubeconfig: KubeSphere has not joined it (yet)", cl.GetName())
	}
	kubeconfig, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("Cluster %s: spec.connection.kubeconfig is not base64: %w", cl.GetName(), err)
	}
	return kubeconfig, nil
}

// RESTConfig returns the REST config of the member cl describes, through
// its spec.connection.kubeconfig.
func RESTConfig(cl *unstructured.Unstructured) (*rest.Config, error) {
	kubeconfig, err := Kubeconfig(cl)
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("Cluster %s: spec.connection.kubeconfig cannot be used: %w", cl.GetName(), err)
	}
	return cfg, nil
}
