package doctor

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ClusterGVK is KubeSphere's Cluster (cluster-scoped; kubesphere/kubesphere
// v3.4.1 and v4.1.3 pkg/apis/cluster/v1alpha1): the host keeps one per
// cluster, its own labelled HostClusterLabel.
var ClusterGVK = schema.GroupVersionKind{Group: "cluster.kubesphere.io", Version: "v1alpha1", Kind: "ClusterList"}

// HostClusterLabel marks the host's own Cluster object.
const HostClusterLabel = "cluster-role.kubesphere.io/host"

// DiscoverMembers lists the members the host knows: every Cluster object
// without HostClusterLabel, reached through its spec.connection.kubeconfig
// (for direct and proxy connections alike), in name order. A member whose
// kubeconfig cannot be used comes back with Err set.
func DiscoverMembers(ctx context.Context, host *rest.Config) ([]Target, error) {
	c, err := client.New(host, client.Options{})
	if err != nil {
		return nil, fmt.Errorf("creating a client for the host: %w", err)
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(ClusterGVK)
	if err := c.List(ctx, list); err != nil {
		return nil, fmt.Errorf("listing the host's clusters.cluster.kubesphere.io: %w", err)
	}
	var out []Target
	for _, cl := range list.Items {
		if _, isHost := cl.GetLabels()[HostClusterLabel]; isHost {
			continue
		}
		t := Target{Name: cl.GetName()}
		encoded, _, _ := unstructured.NestedString(cl.Object, "spec", "connection", "kubeconfig")
		kubeconfig, err := base64.StdEncoding.DecodeString(encoded)
		switch {
		case encoded == "":
			t.Err = fmt.Errorf("Cluster %s has no spec.connection.kubeconfig", cl.GetName())
		case err != nil:
			t.Err = fmt.Errorf("Cluster %s: spec.connection.kubeconfig is not base64: %w", cl.GetName(), err)
		default:
			if t.Config, err = clientcmd.RESTConfigFromKubeConfig(kubeconfig); err != nil {
				t.Err = fmt.Errorf("Cluster %s: spec.connection.kubeconfig cannot be used: %w", cl.GetName(), err)
			}
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
