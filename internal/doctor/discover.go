package doctor

import (
	"context"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/internal/kscluster"
)

// ClusterGVK is the list kind of KubeSphere's Cluster (kscluster.GVK).
var ClusterGVK = kscluster.ListGVK

// HostClusterLabel marks the host's own Cluster object.
const HostClusterLabel = kscluster.HostLabel

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
	for i := range list.Items {
		cl := &list.Items[i]
		if kscluster.IsHost(cl) {
			continue
		}
		t := Target{Name: cl.GetName()}
		t.Config, t.Err = kscluster.RESTConfig(cl)
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
