// Package certrotation gives `ksguard serve` its own TLS when cert-manager
// is not used: a CA and a serving certificate kept in one Secret, created
// on first start and renewed before they expire, written to the webhook
// server's certificate directory (which reloads them), and the CA bundle
// kept in ksguard's two webhook configurations. Every replica runs it; the
// Secret's resourceVersion decides which replica's renewal wins.
package certrotation

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/certs"
)

const (
	// CheckInterval is how often the Secret and the webhook configurations
	// are looked at again: renewals happen when a third of the validity is
	// left, so a minute is plenty.
	CheckInterval = time.Minute
	// RetryInterval is how soon a failed or incomplete check is retried
	// (a webhook configuration not created yet, a conflict, an API error).
	RetryInterval = 5 * time.Second
)

// Options say what the Rotator keeps.
type Options struct {
	// Secret holds ca.crt (the CA bundle, current CA first), ca.key,
	// tls.crt and tls.key.
	Secret types.NamespacedName
	// DNSNames are the names the serving certificate is for (the Service's).
	DNSNames []string
	// WebhookConfiguration is the name of the mutating and the validating
	// webhook configurations whose caBundle is kept; empty: none.
	WebhookConfiguration string
	// CAValidity and Validity are the lifetimes of a new CA and a new
	// serving certificate.
	CAValidity, Validity time.Duration
	// CertDir is the webhook server's certificate directory.
	CertDir string
}

// Rotator keeps the certificates of Options. Build it with New.
type Rotator struct {
	client client.Client
	opts   Options
	log    logr.Logger
}

// New returns a Rotator that reads and writes through c, which should not
// be a cached client: the RBAC grants the one Secret by name.
func New(c client.Client, opts Options, log logr.Logger) *Rotator {
	return &Rotator{client: c, opts: opts, log: log}
}

// NeedLeaderElection is false: every replica needs the certificate files.
func (r *Rotator) NeedLeaderElection() bool { return false }

// Start checks every CheckInterval (RetryInterval after a failed or
// incomplete check) until ctx is done. Failures are logged; the
// certificates already written keep serving.
func (r *Rotator) Start(ctx context.Context) error {
	t := time.NewTimer(RetryInterval) // soon: the first Sync may have found no webhook configuration yet
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		done, err := r.Sync(ctx)
		switch {
		case err != nil:
			r.log.Error(err, "TLS check failed; the current certificate keeps serving", "retryIn", RetryInterval.String())
			t.Reset(RetryInterval)
		case !done:
			t.Reset(RetryInterval)
		default:
			t.Reset(CheckInterval)
		}
	}
}

// Sync makes the Secret hold a valid CA and serving certificate (creating
// or renewing them as needed), writes them to the certificate directory,
// and sets the CA bundle in the webhook configurations. done is false when
// a webhook configuration does not exist yet.
func (r *Rotator) Sync(ctx context.Context) (done bool, err error) {
	for range 3 {
		var data map[string][]byte
		if data, err = r.syncSecret(ctx); apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			continue // another replica renewed first: use what it wrote
		}
		if err != nil {
			return false, err
		}
		serving := &certs.Serving{CertPEM: data[corev1.TLSCertKey], KeyPEM: data[corev1.TLSPrivateKeyKey]}
		if err := certs.WriteDir(r.opts.CertDir, data[certs.CAFile], serving); err != nil {
			return false, err
		}
		return r.injectCABundle(ctx, data[certs.CAFile])
	}
	return false, fmt.Errorf("updating Secret %s: %w", r.opts.Secret, err)
}

// syncSecret reads the Secret, renews what needs it, writes it back if it
// changed, and returns its data.
func (r *Rotator) syncSecret(ctx context.Context) (map[string][]byte, error) {
	var sec corev1.Secret
	err := r.client.Get(ctx, r.opts.Secret, &sec)
	exists := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("reading Secret %s: %w", r.opts.Secret, err)
	}
	data, reason, err := renew(sec.Data, r.opts, time.Now())
	if err != nil {
		return nil, err
	}
	if reason == "" {
		return data, nil
	}
	sec.Data = data
	if exists {
		err = r.client.Update(ctx, &sec)
	} else {
		sec.Name, sec.Namespace, sec.Type = r.opts.Secret.Name, r.opts.Secret.Namespace, corev1.SecretTypeTLS
		sec.Labels = map[string]string{"app.kubernetes.io/managed-by": "ksguard"}
		err = r.client.Create(ctx, &sec)
	}
	if err != nil {
		return nil, err
	}
	leaf, _ := certs.ParseCertificate(data[corev1.TLSCertKey])
	r.log.Info("TLS certificate issued", "secret", r.opts.Secret.String(), "reason", reason,
		"dnsNames", leaf.DNSNames, "notAfter", leaf.NotAfter.UTC().Format(time.RFC3339))
	return data, nil
}

// injectCABundle sets bundle as the caBundle of every webhook of the
// mutating and the validating configuration; done is false when one does
// not exist (yet). Both kinds are handled as unstructured objects, as
// their webhooks differ in type but not in clientConfig.
func (r *Rotator) injectCABundle(ctx context.Context, bundle []byte) (done bool, err error) {
	if r.opts.WebhookConfiguration == "" {
		return true, nil
	}
	want := base64.StdEncoding.EncodeToString(bundle)
	done = true
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(admissionregistrationv1.SchemeGroupVersion.WithKind(kind))
		if err := r.client.Get(ctx, types.NamespacedName{Name: r.opts.WebhookConfiguration}, u); err != nil {
			if apierrors.IsNotFound(err) {
				done = false
				continue
			}
			return false, fmt.Errorf("reading %s %s: %w", kind, r.opts.WebhookConfiguration, err)
		}
		hooks, _, err := unstructured.NestedSlice(u.Object, "webhooks")
		if err != nil {
			return false, fmt.Errorf("reading %s %s: %w", kind, r.opts.WebhookConfiguration, err)
		}
		changed := false
		for _, h := range hooks {
			hook, ok := h.(map[string]any)
			if !ok {
				continue
			}
			if got, _, _ := unstructured.NestedString(hook, "clientConfig", "caBundle"); got != want {
				if err := unstructured.SetNestedField(hook, want, "clientConfig", "caBundle"); err != nil {
					return false, fmt.Errorf("setting the caBundle of %s %s: %w", kind, r.opts.WebhookConfiguration, err)
				}
				changed = true
			}
		}
		if !changed {
			continue
		}
		if err := unstructured.SetNestedSlice(u.Object, hooks, "webhooks"); err != nil {
			return false, fmt.Errorf("setting the caBundle of %s %s: %w", kind, r.opts.WebhookConfiguration, err)
		}
		// The update carries the resourceVersion read: after a concurrent
		// change it fails with a conflict, and the check is retried soon.
		if err := r.client.Update(ctx, u); apierrors.IsConflict(err) {
			done = false
			continue
		} else if err != nil {
			return false, fmt.Errorf("setting the caBundle of %s %s: %w", kind, r.opts.WebhookConfiguration, err)
		}
		r.log.Info("caBundle set", "kind", kind, "name", r.opts.WebhookConfiguration)
	}
	return done, nil
}
