package fleet

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ksguard/ksguard/internal/kscluster"
)

// Reconciler keeps every member's ksguard host Secret equal to the host's
// jwtSecret. It reconciles Cluster objects, one member each; a change of
// the host's kubesphere-config enqueues them all. A member is synced again
// after Resync when in sync, else after a backoff that doubles from
// BackoffBase to BackoffMax with each failure in a row; no watch is kept
// on any member. At most Concurrency members are synced at once, each
// request within MemberTimeout, so an unreachable member holds one worker
// for at most that long and never blocks the others.
type Reconciler struct {
	// Client reads the host's Cluster objects and kubesphere-config (from
	// the manager's cache).
	Client client.Client
	// Events records Events on Cluster objects.
	Events events.EventRecorder
	// HostConfig names the host's kubesphere-config.
	HostConfig types.NamespacedName
	// Secret is the members' ksguard host Secret, unless a Cluster's
	// SecretAnnotation names another.
	Secret types.NamespacedName
	// SyncMemberConfig also writes the host's jwtSecret into each member's
	// kubesphere-config (and, on v3, ks-installer's sources), after its
	// ksguard host Secret.
	SyncMemberConfig bool
	// Concurrency is how many members are synced at once.
	Concurrency int
	// MemberTimeout bounds every request to a member.
	MemberTimeout time.Duration
	// Resync is how often an in-sync member is checked again.
	Resync time.Duration
	// BackoffBase and BackoffMax bound the wait before a member that is not
	// in sync is tried again.
	BackoffBase, BackoffMax time.Duration
	// UserAgent is sent to members.
	UserAgent string
	// Log is the controller's logger.
	Log logr.Logger

	host    hostValue
	members *registry
}

// SetupWithManager registers the controller. The manager's cache must
// serve unstructured objects and hold the host's kubesphere-config.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.members = newRegistry(r.Events, r.Log)
	isHostConfig := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == r.HostConfig.Namespace && o.GetName() == r.HostConfig.Name
	})
	// KubeSphere updates a Cluster's status often; only spec, labels and
	// annotations matter here.
	clusterChanged := predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{})
	return ctrl.NewControllerManagedBy(mgr).
		Named("fleet").
		For(kscluster.New(), builder.WithPredicates(clusterChanged)).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.allMembers), builder.WithPredicates(isHostConfig)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Concurrency}).
		Complete(r)
}

// allMembers enqueues every Cluster object (the host's own is skipped by
// Reconcile).
func (r *Reconciler) allMembers(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(kscluster.ListGVK)
	if err := r.Client.List(ctx, list); err != nil {
		r.Log.Error(err, "listing the Cluster objects after a change of the host's config; each member is still synced at its next resync")
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for _, cl := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: cl.GetName()}})
	}
	return out
}

// Reconcile syncs one member.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	cl := kscluster.New()
	if err := r.Client.Get(ctx, req.NamespacedName, cl); err != nil {
		if apierrors.IsNotFound(err) {
			r.members.forget(req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if kscluster.IsHost(cl) {
		r.members.forget(req.Name) // never written: the host is the source
		return ctrl.Result{}, nil
	}
	host, err := r.hostSecret(ctx)
	if err != nil {
		return ctrl.Result{RequeueAfter: r.Resync}, nil // logged by hostSecret; a change of the config enqueues every member
	}
	st := r.sync(ctx, cl, host)
	st.Cluster, st.Reason = cl.GetName(), redact(st.Reason, string(host))
	failures := r.members.record(cl, st)
	if st.State == InSync {
		return ctrl.Result{RequeueAfter: r.Resync}, nil
	}
	return ctrl.Result{RequeueAfter: r.backoff(failures)}, nil
}

// sync brings one member in line: its ksguard host Secret first, so its
// ksguard accepts the host's value before anything writes it, then (with
// SyncMemberConfig) its config.
func (r *Reconciler) sync(ctx context.Context, cl *unstructured.Unstructured, host []byte) Status {
	ref, err := secretOf(cl, r.Secret)
	if err != nil {
		return Status{State: Refused, Secret: r.Secret.String(), Reason: err.Error()}
	}
	c, err := r.members.conn(cl, func() (*conn, error) { return connect(cl, r.MemberTimeout, r.UserAgent) })
	if err != nil {
		return Status{State: Unreachable, Secret: ref.String(), Reason: err.Error()}
	}
	sctx, cancel := context.WithTimeout(ctx, r.MemberTimeout)
	st := syncSecret(sctx, c.cs, ref, host, false)
	cancel()
	if st.State != InSync || !r.SyncMemberConfig {
		return st
	}
	cctx, cancel := context.WithTimeout(ctx, 4*r.MemberTimeout) // a snapshot takes a few requests
	defer cancel()
	return syncConfig(cctx, cl.GetName(), c.cfg, host, st)
}

// backoff is the wait before the next try of a member that failed
// failures times in a row: BackoffBase doubled each time up to BackoffMax,
// with up to a fifth more at random so that members that failed together
// are not all tried again together.
func (r *Reconciler) backoff(failures int) time.Duration {
	d := r.BackoffBase
	for i := 1; i < failures && d < r.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, r.BackoffMax)
	return d + rand.N(d/5+1)
}

// hostValue is the host's jwtSecret, read again only when the host's
// kubesphere-config changes (its resourceVersion).
type hostValue struct {
	mu      sync.Mutex
	version string
	value   []byte
	err     error
	known   bool
}

// hostSecret returns the host's current jwtSecret. Its changes are logged
// (never the value) and counted in ksguard_fleet_host_secret_available;
// when the value changes, every member in sync becomes stale until synced
// again.
func (r *Reconciler) hostSecret(ctx context.Context) ([]byte, error) {
	cm := &corev1.ConfigMap{}
	err := r.Client.Get(ctx, r.HostConfig, cm)
	version := cm.ResourceVersion
	if err != nil {
		version = "error: " + err.Error()
	}
	h := &r.host
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.known && h.version == version {
		return h.value, h.err
	}
	var value []byte
	switch {
	case apierrors.IsNotFound(err):
		err = notFoundError(r.HostConfig)
	case err == nil:
		value, err = HostSecret(cm)
	}
	changed := h.known && h.value != nil && value != nil && !bytes.Equal(h.value, value)
	wasAvailable := h.value != nil
	prevErr := h.err
	h.version, h.value, h.err, h.known = version, value, err, true
	setHostAvailable(value != nil)
	switch {
	case changed:
		r.Log.Info("the host's jwtSecret changed; pushing it to every member's ksguard host Secret", "config", r.HostConfig.String())
		r.members.markStale()
	case value != nil && !wasAvailable:
		r.Log.Info("the host's jwtSecret is available", "config", r.HostConfig.String())
	case err != nil && (prevErr == nil || prevErr.Error() != err.Error()):
		r.Log.Info("the host's jwtSecret cannot be read; nothing is pushed meanwhile", "config", r.HostConfig.String(), "problem", err.Error())
	}
	return value, err
}
