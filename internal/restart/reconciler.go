package restart

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/ksguard/ksguard/internal/metrics"
	"github.com/ksguard/ksguard/internal/validate"
)

// Annotations ksguard reads and writes on the target Deployment.
const (
	// HashAnnotation records, on the Deployment, the hash of the config it
	// was last rolled for (or adopted with).
	HashAnnotation = "ksguard.io/config-hash"
	// RestartedAtAnnotation is the pod-template annotation `kubectl rollout
	// restart` sets; changing it rolls the Deployment.
	RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"
)

// pausedRetry is how often a paused Deployment is looked at again.
const pausedRetry = 5 * time.Second

// Reconciler rolls the target Deployment when the guarded ConfigMap's
// persisted content changes, and audits that content.
type Reconciler struct {
	// Client reads the guarded ConfigMap (from the cache) and writes.
	Client client.Client
	// Reader reads the target Deployment directly from the API server, so
	// ksguard needs get on it, not a list or watch of Deployments.
	Reader client.Reader
	// Events records Kubernetes Events.
	Events events.EventRecorder
	// Auditor judges the persisted ConfigMap.
	Auditor *Auditor
	// Guarded names the guarded ConfigMap.
	Guarded types.NamespacedName
	// Target is the Deployment to roll.
	Target Target
	// MinInterval is how long the config must stay unchanged before the
	// Deployment is rolled: a burst of writes rolls once, for the last.
	MinInterval time.Duration
	// Hasher keys the config hash recorded on the Deployment and exported
	// as ksguard_config_info. It may be nil only when Target is TargetNone:
	// the hash is then not exported at all, as no key shared by the
	// replicas exists to make it safe to publish.
	Hasher *Hasher
	// Log is the controller's logger.
	Log logr.Logger

	hasher    *Hasher // Hasher, or a process-local one that is never published
	mu        sync.Mutex
	firstSeen map[string]time.Time         // hash -> when this process first saw it
	settings  map[string]validate.Settings // hash -> its guarded settings
	// templates: hash -> the target's pod template (a digest, never
	// published) when this process first saw the config with it.
	templates  map[string]string
	seen       []string // the hashes remembered, oldest first (at most maxRemembered)
	lastTarget string
	reported   map[string]bool // event keys already emitted (paused, missing target)
}

// SetupWithManager registers the controller: it watches the guarded
// ConfigMap only.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.firstSeen, r.settings, r.reported = map[string]time.Time{}, map[string]validate.Settings{}, map[string]bool{}
	r.templates = map[string]string{}
	r.hasher = r.Hasher
	if r.hasher == nil {
		if r.Target.Mode != TargetNone {
			return errors.New("the restart signal needs a config-hash key: the hash it records on the Deployment must be keyed")
		}
		h, err := NewProcessHasher()
		if err != nil {
			return err
		}
		r.hasher = h
	}
	guarded := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == r.Guarded.Namespace && o.GetName() == r.Guarded.Name
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("restart").
		For(&corev1.ConfigMap{}, builder.WithPredicates(guarded)).
		Complete(r)
}

// Reconcile audits the guarded ConfigMap and rolls the target if its
// content changed since the Deployment was last rolled. A reconcile cut
// short by ksguard stopping is no error (and gets no stack trace): the
// signal is level-triggered, so the next start or leader picks it up.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	res, err := r.reconcile(ctx, req)
	if err != nil && ctx.Err() != nil {
		r.Log.Info("ksguard is stopping; the restart signal was cut short and resumes at the next start", "error", err.Error())
		return ctrl.Result{}, nil
	}
	return res, err
}

func (r *Reconciler) reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := r.Log.WithValues("configmap", req.String())
	cm := &corev1.ConfigMap{}
	if err := r.Client.Get(ctx, req.NamespacedName, cm); err != nil {
		if apierrors.IsNotFound(err) {
			log.Info("the guarded ConfigMap does not exist; nothing to audit or roll")
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	hash := r.hasher.Hash(cm)
	if r.Hasher != nil {
		metrics.SetConfigHash(hash)
	}
	now := time.Now()
	seenAt := r.remember(hash, cm, now)

	if rewritten, err := r.Auditor.Audit(ctx, cm, r.Events); err != nil {
		if ctx.Err() != nil {
			return ctrl.Result{}, err // stopping: Reconcile says so, once
		}
		log.Error(err, "auditing the stored config")
	} else if rewritten {
		return ctrl.Result{}, nil // the fixed config comes back as a new change
	}

	if r.Target.Mode == TargetNone {
		return ctrl.Result{}, nil
	}
	d, err := r.Target.resolve(ctx, r.Reader)
	if err != nil {
		return ctrl.Result{}, err
	}
	if d == nil {
		if r.once("missing/" + hash) {
			log.Info("no target Deployment found; nothing to roll", "lookedFor", fmt.Sprint(r.Target.Names()))
		}
		return ctrl.Result{}, nil
	}
	target := d.Namespace + "/" + d.Name
	r.noteTarget(target)
	log = log.WithValues("deployment", target, "hash", hash)

	recorded := d.Annotations[HashAnnotation]
	switch r.hasher.Compare(recorded, cm) {
	case RecordedSame:
		return ctrl.Result{}, nil
	case RecordedLegacySame:
		// The config is the one the Deployment was rolled for; only the
		// unkeyed digest an older ksguard recorded must go.
		if err := r.patch(ctx, d, hash, false, now); err != nil {
			return ctrl.Result{}, err
		}
		log.Info("replaced the unkeyed config hash an older ksguard recorded with the keyed one; the config is unchanged, so no restart")
		return ctrl.Result{}, nil
	case RecordedNone, RecordedOtherKey:
		why := "first sight of the target"
		if recorded != "" {
			why = "the recorded hash was made with another config-hash key, so whether the config changed cannot be told"
		}
		if err := r.patch(ctx, d, hash, false, now); err != nil {
			return ctrl.Result{}, err
		}
		metrics.Restarts.WithLabelValues(target, metrics.RestartAdopted).Inc()
		log.Info(why+": recorded the config's hash without a restart", "keyID", r.hasher.KeyID())
		r.Events.Eventf(d, cm, corev1.EventTypeNormal, "ConfigAdopted", "Adopt",
			"ksguard recorded the hash %s of %s without restarting (%s); later changes roll this Deployment", hash, r.Guarded, why)
		return ctrl.Result{}, nil
	}
	firstTemplate := r.templateAtFirstSight(hash, d)
	if wait := seenAt.Add(r.MinInterval).Sub(now); wait > 0 {
		log.V(1).Info("waiting for the config to settle before rolling", "wait", wait.String())
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	changed := r.describeChange(recorded, hash)
	if d.Spec.Paused {
		if r.once("paused/" + target + "/" + hash) {
			metrics.Restarts.WithLabelValues(target, metrics.RestartPaused).Inc()
			log.Info("the target Deployment is paused; not rolling it")
			for _, obj := range []client.Object{d, cm} {
				r.Events.Eventf(obj, nil, corev1.EventTypeWarning, "RestartSkipped", "Restart",
					"%s changed (%s), but Deployment %s is paused, so ksguard did not restart it; it rolls once resumed", r.Guarded, changed, target)
			}
		}
		return ctrl.Result{RequeueAfter: pausedRetry}, nil
	}
	if templateDigest(d) != firstTemplate {
		// The pod template changed after the config did: whoever changed
		// it (a v4 host's Helm upgrade of ks-core changes the config and
		// ks-agent's checksum/config together) already rolls the pods, and
		// they start with the new config. A second roll would only restart
		// them again.
		if err := r.patch(ctx, d, hash, false, now); err != nil {
			return ctrl.Result{}, err
		}
		metrics.Restarts.WithLabelValues(target, metrics.RestartRolledElsewhere).Inc()
		log.Info("config changed, but the pod template changed after it, so the Deployment is already rolling: recorded the hash without a second restart", "changed", changed)
		r.Events.Eventf(d, cm, corev1.EventTypeNormal, "RestartNotNeeded", "Restart",
			"%s changed (%s) and the pod template of Deployment %s changed after it, so its pods already restart with the new config; ksguard recorded hash %s without a second restart", r.Guarded, changed, target, hash)
		return ctrl.Result{}, nil
	}
	if err := r.patch(ctx, d, hash, true, now); err != nil {
		metrics.Restarts.WithLabelValues(target, metrics.RestartFailed).Inc()
		return ctrl.Result{}, err
	}
	metrics.Restarts.WithLabelValues(target, metrics.RestartRolled).Inc()
	log.Info("config changed; rolling restart triggered", "changed", changed)
	r.Events.Eventf(cm, d, corev1.EventTypeNormal, "ConfigChanged", "Restart",
		"%s changed (%s); ksguard triggered a rolling restart of Deployment %s", r.Guarded, changed, target)
	r.Events.Eventf(d, cm, corev1.EventTypeNormal, "Restarted", "Restart",
		"rolling restart for %s (%s, config hash %s)", r.Guarded, changed, hash)
	return ctrl.Result{}, nil
}

// patch records hash on d and, with roll, sets the pod template's
// restartedAt as `kubectl rollout restart` does (with nanoseconds). The optimistic lock makes
// a second writer (another replica, a stale cache) fail instead of rolling
// twice.
func (r *Reconciler) patch(ctx context.Context, d *appsv1.Deployment, hash string, roll bool, now time.Time) error {
	base := d.DeepCopy()
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[HashAnnotation] = hash
	if roll {
		if d.Spec.Template.Annotations == nil {
			d.Spec.Template.Annotations = map[string]string{}
		}
		// kubectl writes RFC 3339 seconds; two restarts within one second
		// would then write the same value and the second would not roll.
		d.Spec.Template.Annotations[RestartedAtAnnotation] = now.Format(time.RFC3339Nano)
	}
	if err := r.Client.Patch(ctx, d, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("patching Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	r.prune(hash)
	return nil
}

// prune forgets every config but hash, the one the Deployment now records,
// and the Events already emitted for them.
func (r *Reconciler) prune(hash string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for h := range r.firstSeen {
		if h != hash {
			delete(r.firstSeen, h)
			delete(r.templates, h)
			delete(r.settings, h)
		}
	}
	clear(r.reported)
}

// templateAtFirstSight returns the digest of d's pod template as it was
// when this process first saw the config hash with d (recording it now if
// this is the first time).
func (r *Reconciler) templateAtFirstSight(hash string, d *appsv1.Deployment) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.templates[hash]; ok {
		return t
	}
	t := templateDigest(d)
	r.templates[hash] = t
	return t
}

// templateDigest identifies d's pod template within this process (it is
// never published: a template can carry a secret in an env value).
func templateDigest(d *appsv1.Deployment) string {
	b, _ := json.Marshal(d.Spec.Template)
	sum := sha256.Sum256(b)
	return string(sum[:])
}

// maxRemembered bounds how many config hashes the controller remembers
// (when it first saw each, its settings, the pod template then, the
// events already emitted for it), so that a config written many times
// costs no memory that grows with the writes. A hash forgotten and seen
// again is a first sight: it waits --restart-min-interval again, and a
// change from a forgotten hash is described as not known.
const maxRemembered = 32

// remember notes when this process first saw hash, and its settings; it
// returns the first time.
func (r *Reconciler) remember(hash string, cm *corev1.ConfigMap, now time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.firstSeen[hash]; ok {
		return t
	}
	r.firstSeen[hash] = now
	if s, ok := r.Auditor.Evaluator.ConfigSettings(cm); ok {
		r.settings[hash] = s
	}
	r.seen = append(r.seen, hash)
	if len(r.seen) > maxRemembered {
		r.forget(r.seen[0])
		r.seen = slices.Delete(r.seen, 0, 1)
	}
	return now
}

// forget drops what the controller remembers of hash.
func (r *Reconciler) forget(hash string) {
	delete(r.firstSeen, hash)
	delete(r.settings, hash)
	delete(r.templates, hash)
	for k := range r.reported {
		if strings.HasSuffix(k, "/"+hash) {
			delete(r.reported, k)
		}
	}
}

// describeChange names the guarded settings that differ between the config
// the Deployment was rolled for and the current one, when this process saw
// both.
func (r *Reconciler) describeChange(from, to string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, okA := r.settings[from]
	b, okB := r.settings[to]
	if !okA || !okB {
		return "guarded settings: not known, ksguard did not see the previous version"
	}
	changed := validate.ChangedSettings(a, b)
	if len(changed) == 0 {
		return "no guarded setting changed; other settings did"
	}
	return "guarded settings changed: " + strings.Join(changed, ", ")
}

// noteTarget logs which Deployment the target resolved to, when it changes.
func (r *Reconciler) noteTarget(target string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lastTarget != target {
		r.lastTarget = target
		r.Log.Info("restart target", "deployment", target, "mode", r.Target.Mode)
	}
}

// once reports whether key has not been seen before (and marks it seen).
func (r *Reconciler) once(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reported[key] {
		return false
	}
	r.reported[key] = true
	return true
}
