package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"
)

// Helm returns the helm binary the tests use: $HELM, else bin/tools/helm
// in the repository, which it builds with `make helm` (from the Go module
// proxy, at the version the Makefile pins) when it is missing.
func Helm() (string, error) {
	if h := os.Getenv("HELM"); h != "" {
		return h, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	h := filepath.Join(root, "bin", "tools", "helm")
	if _, err := os.Stat(h); err == nil {
		return h, nil
	}
	cmd := exec.Command("make", "-s", "helm")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("helm is not in %s and `make helm` failed: %w\n%s", h, err, out)
	}
	return h, nil
}

// ChartWebhookConfigurations renders the chart's webhook configurations
// (templates/webhooks.yaml of charts/ksguard) with real helm, as release
// ksguard in namespace ksguard-system for Kubernetes kubeVersion (as
// kube-apiserver --version prints it) with --set values set, and returns
// them as the chart makes them. Only the service reference's path loses
// its leading slash: envtest joins it to the test's address, so the API
// server calls the local ksguard through the chart's own scope, rules
// and settings.
func ChartWebhookConfigurations(kubeVersion string, set ...string) (*admissionregistrationv1.MutatingWebhookConfiguration, *admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	helm, err := Helm()
	if err != nil {
		return nil, nil, err
	}
	root, err := RepoRoot()
	if err != nil {
		return nil, nil, err
	}
	args := []string{"template", "ksguard", filepath.Join(root, "charts", "ksguard"), "--namespace", "ksguard-system",
		"--kube-version", kubeVersion, "--show-only", "templates/webhooks.yaml", "--set", "hostJwtSecret.existingSecret=ksguard-host-jwt"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command(helm, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("helm template of the chart's webhook configurations: %w\n%s", err, errOut.String())
	}
	m := &admissionregistrationv1.MutatingWebhookConfiguration{}
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	for _, doc := range strings.Split(out.String(), "\n---\n") {
		var meta struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			return nil, nil, fmt.Errorf("reading the rendered webhook configurations: %w", err)
		}
		var obj any
		switch meta.Kind {
		case "MutatingWebhookConfiguration":
			obj = m
		case "ValidatingWebhookConfiguration":
			obj = v
		case "":
			continue
		default:
			return nil, nil, fmt.Errorf("templates/webhooks.yaml rendered a %s", meta.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			return nil, nil, fmt.Errorf("reading the rendered %s: %w", meta.Kind, err)
		}
	}
	if len(m.Webhooks) == 0 || len(v.Webhooks) == 0 {
		return nil, nil, errors.New("the chart rendered no mutating or no validating webhook")
	}
	for i := range m.Webhooks {
		localPath(&m.Webhooks[i].ClientConfig)
	}
	for i := range v.Webhooks {
		localPath(&v.Webhooks[i].ClientConfig)
	}
	return m, v, nil
}

// KubeVersion returns the version of the kube-apiserver in assets
// ("v1.37.1"), which helm renders the chart for.
func KubeVersion(assets string) (string, error) {
	out, err := exec.Command(filepath.Join(assets, "kube-apiserver"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("asking kube-apiserver for its version: %w", err)
	}
	v, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "Kubernetes ")
	if !ok {
		return "", fmt.Errorf("kube-apiserver --version printed %q", out)
	}
	return v, nil
}

// localPath trims the leading slash of the service reference's path: envtest
// replaces the service reference by https://ADDR/PATH.
func localPath(cc *admissionregistrationv1.WebhookClientConfig) {
	if cc.Service != nil && cc.Service.Path != nil {
		p := strings.TrimPrefix(*cc.Service.Path, "/")
		cc.Service.Path = &p
	}
}
