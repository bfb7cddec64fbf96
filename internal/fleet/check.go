package fleet

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/internal/kscluster"
)

// CheckOptions shape Check.
type CheckOptions struct {
	// HostConfig names the host's kubesphere-config.
	HostConfig types.NamespacedName
	// Secret is the members' ksguard host Secret unless a Cluster's
	// SecretAnnotation names another.
	Secret types.NamespacedName
	// Concurrency is how many members are checked at once.
	Concurrency int
	// MemberTimeout bounds every request to a member.
	MemberTimeout time.Duration
	// UserAgent is sent to members.
	UserAgent string
}

// Check computes the state of every member of the host behind cfg, as the
// controller would find it, without writing anything: a needed write is
// tried as a server-side dry run, so a member that would refuse it is
// Refused and one that would take it is Stale. Members are checked
// Concurrency at a time, each request within MemberTimeout; the result is
// in name order. No Status holds a secret.
func Check(ctx context.Context, cfg *rest.Config, o CheckOptions) ([]Status, error) {
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return nil, fmt.Errorf("creating a client for the host: %w", err)
	}
	cm := &corev1.ConfigMap{}
	if err := c.Get(ctx, o.HostConfig, cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, notFoundError(o.HostConfig)
		}
		return nil, fmt.Errorf("reading the host's ConfigMap %s: %w", o.HostConfig, err)
	}
	host, err := HostSecret(cm)
	if err != nil {
		return nil, err
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(kscluster.ListGVK)
	if err := c.List(ctx, list); err != nil {
		return nil, fmt.Errorf("listing the host's clusters.cluster.kubesphere.io: %w", err)
	}
	var members []*unstructured.Unstructured
	for i := range list.Items {
		if !kscluster.IsHost(&list.Items[i]) {
			members = append(members, &list.Items[i])
		}
	}
	out := make([]Status, len(members))
	sem := make(chan struct{}, max(o.Concurrency, 1))
	var wg sync.WaitGroup
	for i, cl := range members {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = checkMember(ctx, cl, host, o)
		})
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].Cluster < out[j].Cluster })
	return out, nil
}

// checkMember computes one member's state with a dry run.
func checkMember(ctx context.Context, cl *unstructured.Unstructured, host []byte, o CheckOptions) Status {
	st := func() Status {
		ref, err := secretOf(cl, o.Secret)
		if err != nil {
			return Status{State: Refused, Secret: o.Secret.String(), Reason: err.Error()}
		}
		c, err := connect(cl, o.MemberTimeout, o.UserAgent)
		if err != nil {
			return Status{State: Unreachable, Secret: ref.String(), Reason: err.Error()}
		}
		defer c.close()
		ctx, cancel := context.WithTimeout(ctx, o.MemberTimeout)
		defer cancel()
		return syncSecret(ctx, c.cs, ref, host, true)
	}()
	st.Cluster, st.Reason = cl.GetName(), redact(st.Reason, string(host))
	return st
}
