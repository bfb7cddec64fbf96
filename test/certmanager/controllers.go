package main

import (
	"context"
	"fmt"
	"time"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	crapprover "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"
	"golang.org/x/sync/errgroup"
	"k8s.io/klog/v2"

	// Issuer implementations used by the Issuer and ClusterIssuer
	// controllers; they register themselves with pkg/issuer.
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// controllerNames are the cert-manager controllers that are run. Importing
// their packages registers them in controllerpkg.Known.
var controllerNames = []string{
	issuers.ControllerName,
	clusterissuers.ControllerName,
	crapprover.ControllerName,
	crca.CRControllerName,
	crselfsigned.CRControllerName,
	trigger.ControllerName,
	keymanager.ControllerName,
	requestmanager.ControllerName,
	issuing.ControllerName,
	readiness.ControllerName,
	revisionmanager.ControllerName,
}

// Settings as in cert-manager's controller defaults.
const (
	workers        = 5
	apiQPS         = 20
	apiBurst       = 50
	minimumBackoff = time.Hour
	maximumBackoff = 32 * time.Hour
)

// controllers is the set of cert-manager controllers and the shared
// informers they read from.
type controllers struct {
	ctx   *controllerpkg.Context
	loops map[string]controllerpkg.Interface
}

// newControllers builds the cert-manager controllers named in
// controllerNames, talking to the API server of the given kubeconfig. ctx
// is their root context: it carries cancellation to the helpers the
// controllers start while being built.
func newControllers(ctx context.Context, kubeconfig, clusterResourceNamespace string) (*controllers, error) {
	factory, err := controllerpkg.NewContextFactory(ctx, controllerpkg.ContextOptions{
		Kubeconfig:         kubeconfig,
		KubernetesAPIQPS:   apiQPS,
		KubernetesAPIBurst: apiBurst,
		IssuerOptions: controllerpkg.IssuerOptions{
			ClusterResourceNamespace: clusterResourceNamespace,
		},
		CertificateOptions: controllerpkg.CertificateOptions{
			CertificateRequestMinimumBackoffDuration: minimumBackoff,
			CertificateRequestMaximumBackoffDuration: maximumBackoff,
		},
	})
	if err != nil {
		return nil, err
	}
	// Every Context built by the factory shares its informer factories.
	base, err := factory.Build()
	if err != nil {
		return nil, err
	}

	c := &controllers{ctx: base, loops: make(map[string]controllerpkg.Interface)}
	known := controllerpkg.Known()
	for _, name := range controllerNames {
		construct, ok := known[name]
		if !ok {
			return nil, fmt.Errorf("controller %q is not registered", name)
		}
		loop, err := construct(factory)
		if err != nil {
			return nil, fmt.Errorf("building controller %q: %w", name, err)
		}
		c.loops[name] = loop
	}
	return c, nil
}

// start runs each controller in g and then starts the shared informers,
// which the controllers asked for while being built. (The ACME and Gateway
// informer factories of the Context are used by none of them.) Once ctx is done, the
// controllers stop and their errors are no longer reported.
func (c *controllers) start(ctx context.Context, g *errgroup.Group) {
	for name, loop := range c.loops {
		g.Go(func() error {
			klog.V(2).InfoS("starting cert-manager controller", "controller", name)
			if err := loop.Run(workers, ctx); err != nil && ctx.Err() == nil {
				return fmt.Errorf("controller %q: %w", name, err)
			}
			return nil
		})
	}
	c.ctx.SharedInformerFactory.Start(ctx.Done())
	c.ctx.KubeSharedInformerFactory.Start(ctx.Done())
}

// waitForCacheSync waits until the shared informers have synced. It
// returns false if ctx is done first.
func (c *controllers) waitForCacheSync(ctx context.Context) bool {
	kube := c.ctx.KubeSharedInformerFactory.WaitForCacheSync(ctx.Done())
	cm := c.ctx.SharedInformerFactory.WaitForCacheSync(ctx.Done())
	return allTrue(kube) && allTrue(cm)
}

// shutdown waits for the shared informers to stop; call it after the
// context given to start is done.
func (c *controllers) shutdown() {
	c.ctx.KubeSharedInformerFactory.Shutdown()
	c.ctx.SharedInformerFactory.Shutdown()
}

// allTrue reports whether every value in m is true.
func allTrue[K comparable](m map[K]bool) bool {
	for _, ok := range m {
		if !ok {
			return false
		}
	}
	return true
}
