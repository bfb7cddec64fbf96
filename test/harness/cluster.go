package harness

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ksguard/ksguard/certs"
)

// Cluster is a local etcd and kube-apiserver with ksguard's webhook
// configurations pointing at WebhookAddr, and a serving certificate for
// that address in CertDir.
type Cluster struct {
	// Env is the envtest environment.
	Env *envtest.Environment
	// Config is an admin's REST config.
	Config *rest.Config
	// Client is an admin's client.
	Client client.Client
	// Kubeconfig is the path of an admin's kubeconfig file.
	Kubeconfig string
	// CertDir holds tls.crt, tls.key and ca.crt for WebhookAddr.
	CertDir string
	// CA is the PEM CA certificate the webhook configurations trust.
	CA []byte
	// WebhookAddr is the 127.0.0.1:PORT the API server calls the webhooks on.
	WebhookAddr string
	// Dir is a scratch directory removed by Stop.
	Dir string
	// ConfigHashKeyFile holds a random config-hash key, which StartKsguard
	// gives every ksguard (--config-hash-key-file), as the chart mounts
	// its Secret into every replica.
	ConfigHashKeyFile string

	ca *certs.CA
}

// Options shape a Cluster.
type Options struct {
	// Assets is the directory holding kube-apiserver and etcd. Default:
	// $KUBEBUILDER_ASSETS, else bin/k8s in the repository.
	Assets string
	// Mutating and Validating are the webhook configurations to install;
	// their service references are replaced by WebhookAddr. Default: the
	// chart's, rendered by helm with its default values
	// (ChartWebhookConfigurations).
	Mutating   *admissionregistrationv1.MutatingWebhookConfiguration
	Validating *admissionregistrationv1.ValidatingWebhookConfiguration
	// NoWebhooks installs no webhook configuration: the test installs its
	// own (the chart's). WebhookAddr is then a free 127.0.0.1 address.
	NoWebhooks bool
}

// Start starts etcd and kube-apiserver and installs the webhook
// configurations. Call Stop when done.
func Start(o Options) (*Cluster, error) {
	assets, err := assetsDir(o.Assets)
	if err != nil {
		return nil, err
	}
	if !o.NoWebhooks && (o.Mutating == nil || o.Validating == nil) {
		v, err := KubeVersion(assets)
		if err != nil {
			return nil, err
		}
		if o.Mutating, o.Validating, err = ChartWebhookConfigurations(v); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "ksguard-cluster-")
	if err != nil {
		return nil, fmt.Errorf("creating a scratch directory: %w", err)
	}
	c := &Cluster{Dir: dir, CertDir: filepath.Join(dir, "tls")}
	c.Env = &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		ControlPlaneStartTimeout: 2 * time.Minute,
	}
	if !o.NoWebhooks {
		c.Env.WebhookInstallOptions = envtest.WebhookInstallOptions{
			MutatingWebhooks:   []*admissionregistrationv1.MutatingWebhookConfiguration{o.Mutating},
			ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{o.Validating},
			LocalServingHost:   "127.0.0.1",
		}
	}
	if c.Config, err = c.Env.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("starting etcd and kube-apiserver from %s: %w", assets, err)
	}
	if wio := c.Env.WebhookInstallOptions; !o.NoWebhooks {
		c.WebhookAddr = fmt.Sprintf("%s:%d", wio.LocalServingHost, wio.LocalServingPort)
	} else if c.WebhookAddr, err = FreeAddr(); err != nil {
		c.Stop()
		return nil, err
	}
	c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, c.Env.KubeConfig, 0o600); err != nil {
		c.Stop()
		return nil, fmt.Errorf("writing the kubeconfig: %w", err)
	}
	c.ConfigHashKeyFile = filepath.Join(dir, "config-hash-key")
	if err := os.WriteFile(c.ConfigHashKeyFile, []byte(rand.Text()), 0o600); err != nil {
		c.Stop()
		return nil, fmt.Errorf("writing the config-hash key: %w", err)
	}
	if c.Client, err = client.New(c.Config, client.Options{}); err != nil {
		c.Stop()
		return nil, fmt.Errorf("creating a client: %w", err)
	}
	if err := c.useOwnCertificates(context.Background()); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// useOwnCertificates replaces envtest's throwaway serving certificate with
// one from ksguard's certs package: a new CA, a serving certificate for
// 127.0.0.1 in CertDir, and the CA patched into the caBundle of every
// webhook envtest installed, as an operator without cert-manager does.
func (c *Cluster) useOwnCertificates(ctx context.Context) error {
	ca, err := certs.NewCA("ksguard local CA", time.Now(), 365*24*time.Hour)
	if err != nil {
		return err
	}
	c.ca, c.CA = ca, ca.CertPEM
	if _, err := c.RenewCertificate(); err != nil {
		return err
	}
	for _, m := range c.Env.WebhookInstallOptions.MutatingWebhooks {
		obj := &admissionregistrationv1.MutatingWebhookConfiguration{}
		if err := c.Client.Get(ctx, client.ObjectKeyFromObject(m), obj); err != nil {
			return fmt.Errorf("reading MutatingWebhookConfiguration %s: %w", m.Name, err)
		}
		for i := range obj.Webhooks {
			obj.Webhooks[i].ClientConfig.CABundle = ca.CertPEM
		}
		if err := c.Client.Update(ctx, obj); err != nil {
			return fmt.Errorf("setting the caBundle of MutatingWebhookConfiguration %s: %w", m.Name, err)
		}
	}
	for _, v := range c.Env.WebhookInstallOptions.ValidatingWebhooks {
		obj := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		if err := c.Client.Get(ctx, client.ObjectKeyFromObject(v), obj); err != nil {
			return fmt.Errorf("reading ValidatingWebhookConfiguration %s: %w", v.Name, err)
		}
		for i := range obj.Webhooks {
			obj.Webhooks[i].ClientConfig.CABundle = ca.CertPEM
		}
		if err := c.Client.Update(ctx, obj); err != nil {
			return fmt.Errorf("setting the caBundle of ValidatingWebhookConfiguration %s: %w", v.Name, err)
		}
	}
	return nil
}

// Stop stops the API server and etcd and removes the scratch directory.
func (c *Cluster) Stop() error {
	err := c.Env.Stop()
	return errors.Join(err, os.RemoveAll(c.Dir))
}

// KubeconfigFor provisions user (in groups) in the API server and writes a
// kubeconfig for it; it returns the file's path. The user may do nothing
// until RBAC allows it.
func (c *Cluster) KubeconfigFor(user string, groups ...string) (string, error) {
	u, err := c.Env.AddUser(envtest.User{Name: user, Groups: groups}, nil)
	if err != nil {
		return "", fmt.Errorf("adding user %s: %w", user, err)
	}
	b, err := u.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("writing a kubeconfig for %s: %w", user, err)
	}
	path := filepath.Join(c.Dir, "kubeconfig-"+user)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

// RenewCertificate writes a new serving certificate for 127.0.0.1 into
// CertDir, signed by the same CA, and returns it (PEM).
func (c *Cluster) RenewCertificate() ([]byte, error) {
	serving, err := c.ca.Issue([]string{"127.0.0.1", "localhost"}, time.Now(), 365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	if err := certs.WriteDir(c.CertDir, c.ca.CertPEM, serving); err != nil {
		return nil, err
	}
	return serving.CertPEM, nil
}

// assetsDir finds the directory of kube-apiserver and etcd.
func assetsDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("KUBEBUILDER_ASSETS")
	}
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "bin", "k8s")
	}
	var missing []string
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("%s not found in %s: run `make envtest` (it builds them from the Go module proxy), or set KUBEBUILDER_ASSETS", strings.Join(missing, " and "), dir)
	}
	return dir, nil
}

// RepoRoot returns the root of the ksguard repository the working
// directory is in.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module github.com/ksguard/ksguard\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the ksguard repository (no go.mod of github.com/ksguard/ksguard above the working directory)")
		}
		dir = parent
	}
}
