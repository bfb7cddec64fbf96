package main

import (
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// install makes the API server call s: the chart's webhook configurations,
// identical for every contender but for the URL. A nil s removes them (no
// webhook).
func (r *runner) install(ctx context.Context, s *server) error {
	m, v := r.mutating.DeepCopy(), r.validating.DeepCopy()
	if s == nil {
		for _, o := range []client.Object{m, v} {
			if err := r.cluster.Client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting the webhook configuration %s: %w", o.GetName(), err)
			}
		}
		return nil
	}
	for i := range m.Webhooks {
		m.Webhooks[i].ClientConfig = r.clientConfig(s.addr, s.mutatePath)
	}
	for i := range v.Webhooks {
		v.Webhooks[i].ClientConfig = r.clientConfig(s.addr, s.validatePath)
	}
	for _, o := range []client.Object{m, v} {
		if err := r.apply(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) clientConfig(addr, path string) admissionregistrationv1.WebhookClientConfig {
	url := "https://" + addr + path
	return admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: r.cluster.CA}
}

// apply creates o, or replaces the one there.
func (r *runner) apply(ctx context.Context, o client.Object) error {
	err := r.cluster.Client.Create(ctx, o)
	if apierrors.IsAlreadyExists(err) {
		cur := o.DeepCopyObject().(client.Object)
		if err = r.cluster.Client.Get(ctx, client.ObjectKeyFromObject(o), cur); err == nil {
			o.SetResourceVersion(cur.GetResourceVersion())
			err = r.cluster.Client.Update(ctx, o)
		}
	}
	if err != nil {
		return fmt.Errorf("installing the webhook configuration %s: %w", o.GetName(), err)
	}
	return nil
}
