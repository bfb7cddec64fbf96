package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/internal/validate"
)

// KubeSphere's objects doctor reads. Sources: kubesphere/kubesphere v3.4.1
// pkg/apiserver/config (ConfigMap kubesphere-config, key kubesphere.yaml),
// the ks-apiserver Deployment of ks-installer v3.4.1 and of the ks-core
// chart v4.1.3 (ks-agent on v4 members, containers ks-apiserver and
// ks-controller-manager), and ks-installer v3.4.1's ClusterConfiguration
// (installer.kubesphere.io/v1alpha1 ks-installer) and Secret
// kubesphere-secret.
var (
	configKey            = types.NamespacedName{Namespace: "kubesphere-system", Name: "kubesphere-config"}
	installerKey         = types.NamespacedName{Namespace: "kubesphere-system", Name: "ks-installer"}
	kubesphereSecretKey  = types.NamespacedName{Namespace: "kubesphere-system", Name: "kubesphere-secret"}
	apiserverDeployments = []string{"ks-apiserver", "ks-agent"}
	// ClusterConfigurationGVK is ks-installer's ClusterConfiguration.
	ClusterConfigurationGVK = schema.GroupVersionKind{Group: "installer.kubesphere.io", Version: "v1alpha1", Kind: "ClusterConfiguration"}
)

// apiserverContainer is the name of the container that runs ks-apiserver,
// in both Deployments.
const apiserverContainer = "ks-apiserver"

// Snapshot is what doctor reads from one cluster, once. It holds secrets
// (the jwtSecret read from the document, the installer's sources, override
// values): they are compared, never printed.
type Snapshot struct {
	// Name is the cluster's name (its context, or its Cluster object).
	Name string
	// Unreachable says why the API server could not be read; nil when it
	// answered.
	Unreachable error
	// ServerVersion is the Kubernetes version (git version).
	ServerVersion string
	// ServerTime is the API server's clock (its Date header), and RTT the
	// round trip of that request, the error bound of ServerTime.
	ServerTime time.Time
	RTT        time.Duration

	// Config is kubesphere-config; nil when it does not exist.
	Config *corev1.ConfigMap
	// Schema is the document's layout (validate.SchemaV3, V4, unknown).
	Schema string
	// Reading is what ks-apiserver reads from the document, and LoadErr why
	// it cannot (nil when it can).
	Reading validate.KubeSphereReading
	LoadErr error
	// LegacyJWTSecret is a v4 document's authentication.jwtSecret, which
	// ks-apiserver ignores but the ks-core chart prefers when it renders the
	// document again; nil when absent.
	LegacyJWTSecret *string
	// ConfigChanged is when kubesphere-config was last written (the latest
	// time in its managed fields).
	ConfigChanged time.Time

	// Deployment runs ks-apiserver (ks-apiserver, or ks-agent on a v4
	// member); nil when neither exists.
	Deployment *appsv1.Deployment
	// Version is the ks-apiserver image's tag ("v3.4.1"); "" when unknown.
	Version string
	// Overrides are the environment variables and flags on the
	// ks-apiserver container that beat the file.
	Overrides []Override
	// Pods are the Deployment's pods.
	Pods []corev1.Pod

	// Installer is ks-installer's ClusterConfiguration (v3); nil when the
	// cluster has none (or not the CRD).
	Installer *unstructured.Unstructured
	// KubeSphereSecret is Secret kubesphere-secret's "secret" key (v3
	// installer source); nil when absent or unreadable, with
	// KubeSphereSecretErr saying why when unreadable.
	KubeSphereSecret    []byte
	KubeSphereSecretErr error
	// KSCoreValues are the values of the member's ks-core Helm release (v4;
	// the host re-installs it), nil when there is none; KSCoreErr says why
	// they could not be read.
	KSCoreValues map[string]any
	KSCoreErr    error

	// fileOnly: a host known only by its jwtSecret (--host-secret-file).
	fileOnly bool

	c    client.Client
	rest *rest.Config
}

// holdsSecret reports whether text holds one of the cluster's jwtSecret
// values: the effective one, a v4 document's legacy one, the installer's.
func (s *Snapshot) holdsSecret(text string) bool {
	secrets := []string{s.Reading.JWTSecret, string(s.KubeSphereSecret)}
	if s.LegacyJWTSecret != nil {
		secrets = append(secrets, *s.LegacyJWTSecret)
	}
	for _, secret := range secrets {
		if secret != "" && strings.Contains(text, secret) {
			return true
		}
	}
	return false
}

// Read takes a Snapshot of the cluster behind cfg.
func Read(ctx context.Context, name string, cfg *rest.Config) *Snapshot {
	s := &Snapshot{Name: name, rest: cfg}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		s.Unreachable = fmt.Errorf("creating a client: %w", err)
		return s
	}
	s.c = c
	if err := s.readServer(ctx); err != nil {
		s.Unreachable = err
		return s
	}
	s.readConfig(ctx)
	s.readDeployment(ctx)
	s.readInstaller(ctx)
	s.KSCoreValues, s.KSCoreErr = helmValues(ctx, s.c, configKey.Namespace, ksCoreRelease)
	return s
}

// readServer asks the API server for its version, and takes its clock
// from the response's Date header.
func (s *Snapshot) readServer(ctx context.Context) error {
	hc, err := rest.HTTPClientFor(s.rest)
	if err != nil {
		return fmt.Errorf("building an HTTP client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(s.rest.Host, "/")+"/version", nil)
	if err != nil {
		return fmt.Errorf("building the request: %w", err)
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("reaching the API server at %s: %w", s.rest.Host, err)
	}
	defer resp.Body.Close()
	s.RTT = time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the API server at %s answered %s to GET /version", s.rest.Host, resp.Status)
	}
	if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		s.ServerTime = t
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&v); err == nil {
		s.ServerVersion = v.GitVersion
	}
	return nil
}

func (s *Snapshot) readConfig(ctx context.Context) {
	cm := &corev1.ConfigMap{}
	if err := s.c.Get(ctx, configKey, cm); err != nil {
		if !apierrors.IsNotFound(err) {
			s.LoadErr = fmt.Errorf("reading ConfigMap %s: %w", configKey, err)
		}
		return
	}
	s.Config = cm
	for _, mf := range cm.ManagedFields {
		if mf.Time != nil && mf.Time.After(s.ConfigChanged) {
			s.ConfigChanged = mf.Time.Time
		}
	}
	if s.ConfigChanged.IsZero() {
		s.ConfigChanged = cm.CreationTimestamp.Time
	}
	text, ok := cm.Data[validate.ConfigKey]
	if !ok {
		s.LoadErr = fmt.Errorf("ConfigMap %s has no %s key", configKey, validate.ConfigKey)
		return
	}
	s.readDocument([]byte(text))
}

// readDocument reads kubesphere.yaml as ks-apiserver of its version does.
func (s *Snapshot) readDocument(text []byte) {
	s.Schema = validate.ParseDocument(text).Schema
	s.Reading, s.LoadErr = validate.ReadAsKubeSphere(s.Schema, text)
	if s.Schema == validate.SchemaV4 {
		// The v3 reading of a v4 document is its authentication.jwtSecret.
		if legacy, err := validate.ReadAsKubeSphere(validate.SchemaV3, text); err == nil && slices.Contains(legacy.Keys, "authentication.jwtsecret") {
			s.LegacyJWTSecret = &legacy.JWTSecret
		}
	}
}

func (s *Snapshot) readDeployment(ctx context.Context) {
	for _, name := range apiserverDeployments {
		d := &appsv1.Deployment{}
		err := s.c.Get(ctx, types.NamespacedName{Namespace: configKey.Namespace, Name: name}, d)
		if err != nil {
			continue
		}
		s.Deployment = d
		break
	}
	if s.Deployment == nil {
		return
	}
	for _, ct := range s.Deployment.Spec.Template.Spec.Containers {
		if ct.Name == apiserverContainer {
			s.Version = imageTag(ct.Image)
			s.Overrides = s.overrides(ctx, ct)
		}
	}
	pods := &corev1.PodList{}
	if sel := s.Deployment.Spec.Selector; sel != nil && len(sel.MatchLabels) > 0 {
		if err := s.c.List(ctx, pods, client.InNamespace(s.Deployment.Namespace), client.MatchingLabels(sel.MatchLabels)); err == nil {
			s.Pods = pods.Items
		}
	}
}

func (s *Snapshot) readInstaller(ctx context.Context) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(ClusterConfigurationGVK)
	if err := s.c.Get(ctx, installerKey, u); err == nil {
		s.Installer = u
	}
	sec := &corev1.Secret{}
	switch err := s.c.Get(ctx, kubesphereSecretKey, sec); {
	case err == nil:
		if v, ok := sec.Data["secret"]; ok {
			s.KubeSphereSecret = v
		}
	case !apierrors.IsNotFound(err):
		s.KubeSphereSecretErr = err
	}
}

// imageTag returns the tag of an image reference ("" when it has none).
func imageTag(image string) string {
	image = strings.SplitN(image, "@", 2)[0]
	if i := strings.LastIndexByte(image, ':'); i > strings.LastIndexByte(image, '/') {
		return image[i+1:]
	}
	return ""
}
