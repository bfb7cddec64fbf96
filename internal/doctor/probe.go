package doctor

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/internal/validate"
)

// ksguard's webhooks, by the names the chart gives them (found whatever the
// release is called).
const (
	mutateWebhook   = "mutate.ksguard.io"
	validateWebhook = "validate.ksguard.io"
)

// ProbeResult is what doctor learned of ksguard on a member through the API
// server: its webhook registrations, and how it answered two server-side
// dry-run updates of kubesphere-config (which store nothing).
type ProbeResult struct {
	// Webhooks lists the ksguard webhooks found ("mutate.ksguard.io in
	// MutatingWebhookConfiguration ksguard"); WebhooksErr says why they
	// could not be listed.
	Webhooks    []string
	WebhooksErr error
	// Certs is what was learned of each webhook's TLS.
	Certs []servingCert
	// Skipped says why the dry runs were not made ("" when they were).
	Skipped string
	// DriftDenied is true when a dry run with a random jwtSecret was
	// refused by a ksguard webhook; DriftAnswer is what the API server
	// said (the webhook's message, which holds no secret).
	DriftDenied bool
	DriftAnswer string
	// ZeroedAge is true when a dry run with the host's jwtSecret and
	// accessTokenMaxAge 2h came back allowed with 0s; AgeAnswer says what
	// happened otherwise.
	ZeroedAge bool
	AgeAnswer string
}

// Probe finds ksguard's webhooks on the member and, when kubesphere-config
// can be read, makes the two dry runs. hostSecret is the host's jwtSecret
// ("" when unknown: the second dry run is skipped).
func Probe(ctx context.Context, m *Snapshot, hostSecret string) *ProbeResult {
	p := &ProbeResult{}
	if m.Unreachable != nil {
		p.Skipped = "the cluster is unreachable"
		return p
	}
	p.Webhooks, p.Certs, p.WebhooksErr = findWebhooks(ctx, m.c)
	if why := unusable(m); why != "" {
		p.Skipped = why
		return p
	}
	text := []byte(m.Config.Data[validate.ConfigKey])
	doc := validate.ParseDocument(text)
	drifted, err := doc.Set(secretKeys(m.Schema), "ksguard-doctor-probe-"+rand.Text())
	if err != nil {
		p.Skipped = "the probe cannot edit this kubesphere.yaml: " + err.Error()
		return p
	}
	err = dryRunUpdate(ctx, m, drifted, nil)
	p.DriftAnswer = answer(err)
	p.DriftDenied = err != nil && (strings.Contains(err.Error(), `"`+mutateWebhook+`"`) || strings.Contains(err.Error(), `"`+validateWebhook+`"`))
	if hostSecret == "" {
		p.AgeAnswer = "not tried: the host's jwtSecret is unknown"
		return p
	}
	withHost, err := doc.Set(secretKeys(m.Schema), hostSecret)
	if err == nil {
		withHost, err = validate.ParseDocument(withHost).Set(maxAgeKeys(m.Schema), "2h")
	}
	if err != nil {
		p.AgeAnswer = "not tried: the probe cannot edit this kubesphere.yaml: " + err.Error()
		return p
	}
	var stored *corev1.ConfigMap
	if err := dryRunUpdate(ctx, m, withHost, &stored); err != nil {
		p.AgeAnswer = answer(err)
		return p
	}
	r, err := validate.ReadAsKubeSphere(m.Schema, []byte(stored.Data[validate.ConfigKey]))
	switch {
	case err != nil:
		p.AgeAnswer = "the answer cannot be loaded: " + err.Error()
	case r.AccessTokenMaxAge != 0:
		p.AgeAnswer = fmt.Sprintf("allowed, but accessTokenMaxAge came back %s", r.AccessTokenMaxAge)
	default:
		p.ZeroedAge = true
	}
	return p
}

// answer is what the API server said, with its long prefix cut.
func answer(err error) string {
	if err == nil {
		return "allowed"
	}
	return err.Error()
}

// dryRunUpdate sends kubesphere-config with text as its document as a
// server-side dry-run update (nothing is stored); out, when not nil, gets
// what the API server would have stored.
func dryRunUpdate(ctx context.Context, m *Snapshot, text []byte, out **corev1.ConfigMap) error {
	cm := m.Config.DeepCopy()
	cm.Data[validate.ConfigKey] = string(text)
	// No annotations: a break-glass annotation on the stored object would
	// turn ksguard's denial into a warning (nothing is stored either way).
	cm.ManagedFields, cm.Annotations = nil, nil
	if err := m.c.Update(ctx, cm, client.DryRunAll); err != nil {
		return err
	}
	if out != nil {
		*out = cm
	}
	return nil
}

// findWebhooks lists ksguard's webhooks in the member's webhook
// configurations, and inspects their certificates.
func findWebhooks(ctx context.Context, c client.Client) ([]string, []servingCert, error) {
	var found []string
	var certs []servingCert
	add := func(kind, cfg string, w string, cc admissionregistrationv1.WebhookClientConfig) {
		if cc.Service == nil && cc.URL == nil {
			return
		}
		name := w + " in " + kind + " " + cfg
		found = append(found, name)
		certs = append(certs, inspectCert(ctx, name, cc, time.Now()))
	}
	mut := &admissionregistrationv1.MutatingWebhookConfigurationList{}
	if err := c.List(ctx, mut); err != nil {
		return nil, nil, fmt.Errorf("listing mutating webhook configurations: %w", err)
	}
	for _, cfg := range mut.Items {
		for _, w := range cfg.Webhooks {
			if w.Name == mutateWebhook {
				add("MutatingWebhookConfiguration", cfg.Name, w.Name, w.ClientConfig)
			}
		}
	}
	val := &admissionregistrationv1.ValidatingWebhookConfigurationList{}
	if err := c.List(ctx, val); err != nil {
		return nil, nil, fmt.Errorf("listing validating webhook configurations: %w", err)
	}
	for _, cfg := range val.Items {
		for _, w := range cfg.Webhooks {
			if w.Name == validateWebhook {
				add("ValidatingWebhookConfiguration", cfg.Name, w.Name, w.ClientConfig)
			}
		}
	}
	return found, certs, nil
}

func checkWebhooks(_ context.Context, env *Env) Outcome {
	p := env.Probe
	switch {
	case p == nil:
		return notChecked("the probe was not run")
	case p.WebhooksErr != nil:
		return notChecked(p.WebhooksErr.Error())
	case p.Skipped == "the cluster is unreachable":
		return notChecked(p.Skipped)
	}
	var mut, val bool
	for _, w := range p.Webhooks {
		mut = mut || strings.HasPrefix(w, mutateWebhook+" ")
		val = val || strings.HasPrefix(w, validateWebhook+" ")
	}
	if !mut || !val {
		return failed("ksguard's webhooks ("+mutateWebhook+", "+validateWebhook+") are not both registered: nothing stops the drift from coming back",
			"install ksguard on "+env.Member.Name+": helm install ksguard charts/ksguard -n ksguard-system --create-namespace --set hostJwtSecret.existingSecret=... (see the README)")
	}
	return ok(strings.Join(p.Webhooks, ", "))
}

func checkProbe(_ context.Context, env *Env) Outcome {
	p := env.Probe
	switch {
	case p == nil:
		return notChecked("the probe was not run")
	case p.Skipped != "":
		return notChecked(p.Skipped)
	case !p.DriftDenied:
		return failed("a dry-run update with a random jwtSecret was not refused by ksguard ("+p.DriftAnswer+")",
			"check ksguard on "+env.Member.Name+": its pods, its logs, and that its host Secret holds the host's jwtSecret")
	case !p.ZeroedAge:
		return failed("a dry-run update with the host's jwtSecret and accessTokenMaxAge 2h did not come back with 0s: "+p.AgeAnswer,
			"check that ksguard's host Secret on "+env.Member.Name+" holds the host's current jwtSecret (ksguard fleet keeps it so)")
	}
	return ok("drift refused; 2h came back 0s")
}
