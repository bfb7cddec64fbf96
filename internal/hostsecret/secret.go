package hostsecret

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/ksguard/ksguard/internal/validate"
)

// Secret is a Source that reads key jwtSecret of a Secret on the member
// through a controller-runtime cache, and reads it again on every change.
// Give the cache only that Secret to watch (see the cache options in
// `ksguard serve`), so ksguard needs no cluster-wide read of Secrets.
type Secret struct {
	key    types.NamespacedName
	cache  cache.Cache
	cur    current
	synced atomic.Bool
}

// NewSecret returns a Secret source for the Secret key, read from c.
func NewSecret(key types.NamespacedName, c cache.Cache, log logr.Logger) *Secret {
	s := &Secret{key: key, cache: c}
	s.cur.log = log
	s.cur.set(validate.HostSecret{Source: s.source(), Problem: "Secret " + key.String() + " has not been read yet"})
	return s
}

// HostSecret returns the Secret's current value.
func (s *Secret) HostSecret() validate.HostSecret { return s.cur.get() }

// Start registers for the Secret's events, waits for the cache to sync and
// reads the Secret; it then runs until ctx is done.
func (s *Secret) Start(ctx context.Context) error {
	inf, err := s.cache.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		return fmt.Errorf("watching Secret %s: %w", s.key, err)
	}
	refresh := func(any) { s.refresh(ctx) }
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    refresh,
		UpdateFunc: func(_, obj any) { refresh(obj) },
		DeleteFunc: refresh,
	}); err != nil {
		return fmt.Errorf("watching Secret %s: %w", s.key, err)
	}
	if !s.cache.WaitForCacheSync(ctx) {
		return fmt.Errorf("watching Secret %s: the cache did not sync", s.key)
	}
	s.refresh(ctx)
	s.synced.Store(true)
	<-ctx.Done()
	return nil
}

// NeedLeaderElection is false: every replica judges writes.
func (s *Secret) NeedLeaderElection() bool { return false }

// Synced is a readiness check: it passes once the Secret has been read
// from a synced cache (present or not).
func (s *Secret) Synced(*http.Request) error {
	if !s.synced.Load() {
		return fmt.Errorf("Secret %s has not been read yet", s.key)
	}
	return nil
}

func (s *Secret) source() string { return "Secret " + s.key.String() }

// refresh reads the Secret from the cache.
func (s *Secret) refresh(ctx context.Context) {
	var sec corev1.Secret
	err := s.cache.Get(ctx, s.key, &sec)
	switch {
	case apierrors.IsNotFound(err):
		s.cur.set(validate.HostSecret{Source: s.source(), Problem: fmt.Sprintf(
			"Secret %s was not found: create it with `kubectl -n %s create secret generic %s --from-literal=%s=<the host's jwtSecret>`",
			s.key, s.key.Namespace, s.key.Name, Key)})
	case err != nil:
		s.cur.set(validate.HostSecret{Source: s.source(), Problem: fmt.Sprintf("reading Secret %s: %v", s.key, err)})
	default:
		s.cur.set(FromSecret(&sec))
	}
}

// FromSecret reads key jwtSecret of sec; one trailing newline is ignored.
func FromSecret(sec *corev1.Secret) validate.HostSecret {
	name := sec.Namespace + "/" + sec.Name
	h := validate.HostSecret{Source: "Secret " + name}
	v, ok := sec.Data[Key]
	switch {
	case !ok:
		h.Problem = fmt.Sprintf("Secret %s has no key %s: add the host's jwtSecret under that key", name, Key)
	case len(trimNewline(v)) == 0:
		h.Problem = fmt.Sprintf("key %s of Secret %s is empty: set it to the host's jwtSecret", Key, name)
	default:
		h.Value = trimNewline(v)
	}
	return h
}
