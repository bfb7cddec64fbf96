package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/internal/validate"
)

// Shown in place of secrets when --fix lists its changes.
const (
	hostValue  = "(the host's jwtSecret)"
	otherValue = "(another value)"
)

// restartedAtAnnotation is what `kubectl rollout restart` sets on the pod
// template.
const restartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// Change is one write --fix makes on a member, through its API server (so
// ksguard's webhook judges it).
type Change struct {
	// Cluster is the member's name.
	Cluster string `json:"cluster"`
	// Object names what is written ("ConfigMap kubesphere-system/kubesphere-config").
	Object string `json:"object"`
	// What says what changes, old and new, secrets shown as "(the host's
	// jwtSecret)" or "(another value)".
	What string `json:"what"`

	apply func(ctx context.Context) error
}

// Apply makes the change.
func (c Change) Apply(ctx context.Context) error {
	if err := c.apply(ctx); err != nil {
		return fmt.Errorf("%s: %s: %w", c.Cluster, c.Object, err)
	}
	return nil
}

// Plan lists the changes that repair member m against host h: the FAQ's
// (jwtSecret the host's, accessTokenMaxAge 0s, in the file or by removing
// the environment variable that overrides it), ks-installer's sources on v3
// so its next run agrees, and a rolling restart of ks-apiserver (or
// ks-agent) when anything it reads at start changed or its pods are older
// than the config. manual lists what --fix cannot change (a flag on the
// container).
func Plan(h, m *Snapshot) (changes []Change, manual []string) {
	if unusable(m) != "" || unusable(h) != "" {
		return nil, nil
	}
	host := h.effectiveSetting(settingJWTSecret)
	if host.problem != "" {
		return nil, nil
	}
	cfgKey := types.NamespacedName{Namespace: m.Config.Namespace, Name: m.Config.Name}
	text := m.Config.Data[validate.ConfigKey]
	var edits []string
	var removeEnv []string
	needRoll := false

	secret := m.effectiveSetting(settingJWTSecret)
	if secret.problem == "" && !equalSecret(secret.value, host.value) {
		switch {
		case secret.source == "kubesphere.yaml":
			text, edits = editDoc(text, edits, secretKeys(m.Schema), host.value, otherValue+" → "+hostValue)
		case strings.HasPrefix(secret.source, "env "):
			removeEnv = append(removeEnv, strings.TrimPrefix(secret.source, "env "))
			if !equalSecret(m.Reading.JWTSecret, host.value) {
				text, edits = editDoc(text, edits, secretKeys(m.Schema), host.value, otherValue+" → "+hostValue)
			}
		default:
			manual = append(manual, fmt.Sprintf("%s: remove %s from Deployment %s (ksguard doctor does not edit command lines)", m.Name, secret.source, m.Deployment.Name))
		}
	}
	if l := m.LegacyJWTSecret; l != nil && !equalSecret(*l, host.value) {
		// v4: the ks-core chart prefers authentication.jwtSecret when it
		// renders the document again.
		text, edits = editDoc(text, edits, validate.PathV3JWTSecret, host.value, otherValue+" → "+hostValue)
	}
	age := m.effectiveSetting(settingAccessTokenMaxAge)
	if age.problem == "" && age.dur != 0 {
		switch {
		case age.source == "kubesphere.yaml":
			text, edits = editDoc(text, edits, maxAgeKeys(m.Schema), "0s", m.Reading.AccessTokenMaxAge.String()+" → 0s")
		case strings.HasPrefix(age.source, "env "):
			removeEnv = append(removeEnv, strings.TrimPrefix(age.source, "env "))
			if m.Reading.AccessTokenMaxAge != 0 {
				text, edits = editDoc(text, edits, maxAgeKeys(m.Schema), "0s", m.Reading.AccessTokenMaxAge.String()+" → 0s")
			}
		default:
			manual = append(manual, fmt.Sprintf("%s: remove %s from Deployment %s (ksguard doctor does not edit command lines)", m.Name, age.source, m.Deployment.Name))
		}
	}
	for _, e := range edits {
		if e == "" {
			manual = append(manual, fmt.Sprintf("%s: kubesphere.yaml cannot be edited in place; edit it by hand", m.Name))
			edits = nil
			break
		}
	}
	if len(edits) > 0 {
		newText := text
		changes = append(changes, Change{Cluster: m.Name, Object: "ConfigMap " + cfgKey.String(), What: strings.Join(edits, "; "),
			apply: func(ctx context.Context) error {
				cm := &corev1.ConfigMap{}
				if err := m.c.Get(ctx, cfgKey, cm); err != nil {
					return err
				}
				cm.Data[validate.ConfigKey] = newText
				return m.c.Update(ctx, cm)
			}})
		needRoll = readsOnce(m.Version)
	}
	if m.Installer != nil {
		changes = append(changes, m.installerChanges(host.value)...)
	}
	if m.KubeSphereSecret != nil && !equalSecret(string(m.KubeSphereSecret), host.value) {
		hostSecret := []byte(host.value)
		changes = append(changes, Change{Cluster: m.Name, Object: "Secret " + kubesphereSecretKey.String(), What: "secret: " + otherValue + " → " + hostValue,
			apply: func(ctx context.Context) error {
				s := &corev1.Secret{}
				if err := m.c.Get(ctx, kubesphereSecretKey, s); err != nil {
					return err
				}
				s.Data["secret"] = hostSecret
				return m.c.Update(ctx, s)
			}})
	}
	if m.Deployment == nil {
		return changes, manual
	}
	if checkPodsCurrent(context.Background(), &Env{Member: m}).Status == StatusFailed {
		needRoll = true
	}
	if len(removeEnv) > 0 || needRoll {
		what := "rollout restart"
		if len(removeEnv) > 0 {
			what = fmt.Sprintf("remove env %v from container %s, and restart", removeEnv, apiserverContainer)
		}
		key := client.ObjectKeyFromObject(m.Deployment)
		changes = append(changes, Change{Cluster: m.Name, Object: "Deployment " + key.String(), What: what,
			apply: func(ctx context.Context) error {
				d := &appsv1.Deployment{}
				if err := m.c.Get(ctx, key, d); err != nil {
					return err
				}
				for i := range d.Spec.Template.Spec.Containers {
					ct := &d.Spec.Template.Spec.Containers[i]
					if ct.Name != apiserverContainer {
						continue
					}
					kept := ct.Env[:0]
					for _, e := range ct.Env {
						if !slices.Contains(removeEnv, e.Name) {
							kept = append(kept, e)
						}
					}
					ct.Env = kept
				}
				if d.Spec.Template.Annotations == nil {
					d.Spec.Template.Annotations = map[string]string{}
				}
				d.Spec.Template.Annotations[restartedAtAnnotation] = time.Now().Format(time.RFC3339)
				return m.c.Update(ctx, d)
			}})
	}
	return changes, manual
}

// SyncPlan lists the writes that bring member m's jwtSecret (and
// accessTokenMaxAge) in line with host, the host's jwtSecret, for `ksguard
// fleet --sync-member-config`: Plan's changes to kubesphere-config and, on
// v3, to ks-installer's ClusterConfiguration and Secret kubesphere-secret,
// without Plan's rolling restart (the member's ksguard rolls ks-apiserver
// when its config changes) and without what only a person can change.
func SyncPlan(host []byte, m *Snapshot) []Change {
	changes, _ := Plan(HostFromSecret(host), m)
	out := changes[:0]
	for _, c := range changes {
		if !strings.HasPrefix(c.Object, "Deployment ") {
			out = append(out, c)
		}
	}
	return out
}

// installerChanges brings ks-installer's ClusterConfiguration in line: the
// host's jwtSecret and the member role.
func (m *Snapshot) installerChanges(host string) []Change {
	var whats []string
	if v, _ := installerSecret(m.Installer); !equalSecret(v, host) {
		whats = append(whats, "spec.authentication.jwtSecret: "+otherValue+" → "+hostValue)
	}
	role, _, _ := unstructured.NestedString(m.Installer.Object, "spec", "multicluster", "clusterRole")
	if role != "member" {
		whats = append(whats, fmt.Sprintf("spec.multicluster.clusterRole: %q → \"member\"", role))
	}
	if len(whats) == 0 {
		return nil
	}
	return []Change{{Cluster: m.Name, Object: "ClusterConfiguration " + installerKey.String(), What: strings.Join(whats, "; "),
		apply: func(ctx context.Context) error {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(ClusterConfigurationGVK)
			if err := m.c.Get(ctx, installerKey, u); err != nil {
				return err
			}
			if err := unstructured.SetNestedField(u.Object, host, "spec", "authentication", "jwtSecret"); err != nil {
				return err
			}
			if err := unstructured.SetNestedField(u.Object, "member", "spec", "multicluster", "clusterRole"); err != nil {
				return err
			}
			return m.c.Update(ctx, u)
		}}}
}

// editDoc sets keys to value in text with ksguard's in-place editor and
// records what changed; an edit that cannot be made records "".
func editDoc(text string, edits []string, keys validate.Path, value, shown string) (string, []string) {
	out, err := validate.ParseDocument([]byte(text)).Set(keys, value)
	if err != nil {
		return text, append(edits, "")
	}
	return string(out), append(edits, "kubesphere.yaml "+keys.String()+": "+shown)
}
