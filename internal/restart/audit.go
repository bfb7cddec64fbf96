package restart

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/internal/metrics"
	"github.com/ksguard/ksguard/internal/validate"
)

// AuditUser is the user name the audit's decisions are made for.
const AuditUser = "ksguard (audit)"

// Auditor judges the persisted guarded ConfigMap with the same policies as
// the webhooks, as an UPDATE from itself: drift that no write caused (there
// before ksguard was installed, or written while the webhook was down) is
// reported with an Event, a log line and ksguard_drift. With Remediate, an
// edit the policy asks for (accessTokenMaxAge) is written back through the
// API server, so the webhooks judge that write like any other. A jwtSecret
// that differs from the host's is never "fixed" by guessing: it is
// reported with what to do.
type Auditor struct {
	// Evaluator holds the policies (shared with the webhooks, so reloads
	// apply to both).
	Evaluator *validate.Evaluator
	// Host returns the host's jwtSecret.
	Host func() validate.HostSecret
	// Client writes the remediation.
	Client client.Client
	// Remediate writes the policy's edits back.
	Remediate bool
	// Log is the audit's logger.
	Log logr.Logger

	mu       sync.Mutex
	reported string // the last drift reported, so a redelivery does not repeat it
}

// Audit judges cm and reports drift through rec. It returns true when it
// rewrote cm (--remediate), which comes back as a new change.
func (a *Auditor) Audit(ctx context.Context, cm *corev1.ConfigMap, rec events.EventRecorder) (bool, error) {
	d, err := a.Evaluator.Decide(ctx, validate.Request{
		UID:       "audit",
		Operation: validate.OperationUpdate,
		User:      validate.UserInfo{Username: AuditUser},
		Namespace: cm.Namespace, Name: cm.Name,
		Object: cm, OldObject: cm,
		Host: a.Host(),
	})
	if err != nil {
		return false, fmt.Errorf("judging the stored %s/%s: %w", cm.Namespace, cm.Name, err)
	}
	denials := append(append([]string{}, d.Denials...), d.Waived...)
	needsEdit := len(d.Patch) > 0
	setGauge(metrics.DriftPolicy, len(denials) > 0)
	setGauge(metrics.DriftAccessTokenMaxAge, needsEdit)
	if len(denials) == 0 && !needsEdit {
		a.report("")
		return false, nil
	}

	var problems []string
	for _, e := range d.Edits {
		problems = append(problems, fmt.Sprintf("%s must be %s", e.Path, e.Value))
	}
	problems = append(problems, denials...)
	summary := strings.Join(problems, "; ")
	key := cm.ResourceVersion + "\x00" + summary
	if a.report(key) {
		a.Log.Info("the stored config drifted from the policy", "configmap", cm.Namespace+"/"+cm.Name, "problems", problems, "remediate", a.Remediate)
		advice := "fix it with a write (kubectl edit), which the webhooks judge"
		if a.Remediate && needsEdit && len(denials) == 0 {
			advice = "ksguard writes the fix back now (--remediate)"
		} else if needsEdit {
			advice += ", or run ksguard with --remediate to apply the edit"
		}
		rec.Eventf(cm, nil, corev1.EventTypeWarning, "Drift", "Audit", "the stored config fails ksguard's policy: %s; %s", summary, advice)
	}
	if !a.Remediate || !needsEdit {
		return false, nil
	}
	if len(denials) > 0 {
		return false, nil // a write-back would be refused; the Event says what to fix
	}
	fixed := cm.DeepCopy()
	fixed.Data[validate.ConfigKey] = string(d.Document)
	if err := a.Client.Update(ctx, fixed, client.FieldOwner("ksguard")); err != nil {
		msg := err.Error()
		if d.HoldsSecret(msg) { // replaced whole: cutting a short secret out would mangle it
			msg = "the API server's message is withheld: it contains the text of a jwtSecret"
		}
		rec.Eventf(cm, nil, corev1.EventTypeWarning, "RemediationFailed", "Remediate", "ksguard could not write the fix back: %s", msg)
		return false, fmt.Errorf("writing the remediation: %s", msg)
	}
	a.Log.Info("remediated the stored config through the API server", "configmap", cm.Namespace+"/"+cm.Name, "edits", editPaths(d.Edits))
	rec.Eventf(cm, nil, corev1.EventTypeNormal, "Remediated", "Remediate", "ksguard wrote the policy's edits back: %s", strings.Join(editPaths(d.Edits), ", "))
	return true, nil
}

// report records key as the last drift reported; it returns true when key
// is new (and not empty).
func (a *Auditor) report(key string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.reported == key {
		return false
	}
	a.reported = key
	return key != ""
}

func editPaths(edits []validate.Edit) []string {
	out := make([]string, len(edits))
	for i, e := range edits {
		out[i] = fmt.Sprintf("%s=%s", e.Path, e.Value)
	}
	return out
}

func setGauge(check string, on bool) {
	v := 0.0
	if on {
		v = 1
	}
	metrics.Drift.WithLabelValues(check).Set(v)
}
