package doctor

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ksguard/ksguard/internal/validate"
)

const (
	hostSecret   = "host-secret-0123456789abcdefghij"
	memberSecret = "member-secret-9876543210zyxwvuts"
)

// v3Doc is a v3 member document with secret and age.
func v3Doc(secret, age string) string {
	return "authentication:\n  maximumClockSkew: 10s\n  jwtSecret: \"" + secret + "\"\n  oauthOptions:\n    accessTokenMaxAge: " + age + "\nmulticluster:\n  clusterRole: member\n"
}

// v4Legacy is a v4 member document with the host's issuer jwtSecret and
// legacy as its authentication.jwtSecret.
func v4Legacy(legacy string) string {
	return "authentication:\n  jwtSecret: \"" + legacy + "\"\n  issuer:\n    jwtSecret: \"" + hostSecret + "\"\n    accessTokenMaxAge: 0s\nmulticluster:\n  clusterRole: member\n"
}

// snap is a snapshot of a reachable cluster holding doc, as Read would
// take it (without an API server).
func snap(name, doc string) *Snapshot {
	s := &Snapshot{Name: name, ServerVersion: "v1.37.1", ServerTime: time.Unix(1_800_000_000, 0),
		Config: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kubesphere-system", Name: "kubesphere-config"},
			Data: map[string]string{validate.ConfigKey: doc}}}
	s.readDocument([]byte(doc))
	s.ConfigChanged = time.Unix(1_800_000_000, 0)
	s.Deployment = &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "kubesphere-system", Name: "ks-apiserver"}}
	s.Version = "v3.2.1"
	return s
}

func with(s *Snapshot, f func(*Snapshot)) *Snapshot { f(s); return s }

func pod(name string, started time.Time) corev1.Pod {
	st := metav1.NewTime(started)
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{StartTime: &st}}
}

func installer(secret, role string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{
		"authentication": map[string]any{"jwtSecret": secret},
		"multicluster":   map[string]any{"clusterRole": role},
	}}}
}

// fakeLogs is a LogSource over fixed lines.
type fakeLogs struct {
	lines string
	err   error
}

func (f fakeLogs) Logs(context.Context, time.Duration) ([]io.ReadCloser, error) {
	if f.err != nil {
		return nil, f.err
	}
	return []io.ReadCloser{io.NopCloser(strings.NewReader(f.lines))}, nil
}

// TestChecks gives every check a passing and a failing member (and the
// cases where it cannot run), and searches every outcome for the secrets.
func TestChecks(t *testing.T) {
	host := snap("host", v3Doc(hostSecret, "2h"))
	good := func() *Snapshot { return snap("member", v3Doc(hostSecret, "0s")) }
	env := func(m *Snapshot) *Env { return &Env{Host: host, Member: m, Since: time.Hour} }
	cases := []struct {
		check  string
		env    *Env
		status Status
		detail string // substring of Detail
	}{
		{"cluster.reachable", env(good()), StatusOK, "Kubernetes v1.37.1"},
		{"cluster.reachable", env(&Snapshot{Name: "m", Unreachable: errors.New("dial tcp: refused")}), StatusFailed, "refused"},
		{"cluster.config", env(good()), StatusOK, "KubeSphere v3 schema, ks-apiserver v3.2.1"},
		{"cluster.config", env(with(good(), func(s *Snapshot) { s.Config, s.LoadErr = nil, nil })), StatusFailed, "does not exist"},
		{"cluster.config", env(snap("member", v3Doc(hostSecret, `"0s "`))), StatusFailed, "cannot decode authentication.OAuthOptions.AccessTokenMaxAge"},
		{"cluster.role", env(good()), StatusOK, ""},
		{"cluster.role", env(snap("member", strings.Replace(v3Doc(hostSecret, "0s"), "clusterRole: member", "clusterRole: none", 1))), StatusFailed, `clusterRole is "none"`},
		{"cluster.role", env(snap("member", strings.Replace(v3Doc(hostSecret, "0s"), "clusterRole: member", "clusterRole: x-"+hostSecret, 1))), StatusFailed, notShown},
		{"cluster.role", env(snap("member", strings.Replace(v3Doc(memberSecret, "0s"), "clusterRole: member", "clusterRole: "+memberSecret, 1))), StatusFailed, notShown},
		{"secret.matches-host", env(good()), StatusOK, "from kubesphere.yaml"},
		{"secret.matches-host", env(snap("member", v3Doc(memberSecret, "0s"))), StatusFailed, "authentication.jwtSecret in kubesphere.yaml differs"},
		{"secret.matches-host", env(with(good(), func(s *Snapshot) {
			s.Overrides = []Override{{Setting: settingJWTSecret, Source: "env KUBESPHERE_AUTHENTICATION_JWTSECRET", Value: memberSecret, key: "authentication.jwtsecret"}}
		})), StatusFailed, "env KUBESPHERE_AUTHENTICATION_JWTSECRET on Deployment ks-apiserver differs"},
		{"secret.matches-host", env(with(snap("member", v3Doc(memberSecret, "0s")), func(s *Snapshot) {
			s.Overrides = []Override{{Setting: settingJWTSecret, Source: "flag --jwt-secret", Value: hostSecret}}
		})), StatusOK, "from flag --jwt-secret"},
		{"secret.matches-host", env(with(good(), func(s *Snapshot) {
			s.Overrides = []Override{{Setting: settingJWTSecret, Source: "env X", Problem: "it comes from Secret s, which doctor could not read", key: "authentication.jwtsecret"}}
		})), StatusNotChecked, "could not read"},
		{"secret.matches-host", &Env{Host: HostFromSecret([]byte(hostSecret)), Member: good()}, StatusOK, ""},
		{"secret.installer-sources", env(good()), StatusOK, "no ks-installer"},
		{"secret.installer-sources", env(with(good(), func(s *Snapshot) { s.Installer = installer(hostSecret, "member") })), StatusOK, ""},
		{"secret.installer-sources", env(with(good(), func(s *Snapshot) {
			s.Installer, s.KubeSphereSecret = installer(memberSecret, "member"), []byte(memberSecret)
		})), StatusFailed, "ClusterConfiguration ks-installer spec.authentication.jwtSecret and Secret kubesphere-secret key secret differ"},
		{"secret.helm-release", env(good()), StatusOK, "no ks-core Helm release"},
		{"secret.helm-release", env(with(good(), func(s *Snapshot) { s.KSCoreValues = releaseValues(t, hostSecret) })), StatusOK, ""},
		{"secret.helm-release", env(with(good(), func(s *Snapshot) { s.KSCoreValues = releaseValues(t, "") })), StatusOK, "the chart keeps kubesphere-config's"},
		{"secret.helm-release", env(with(good(), func(s *Snapshot) { s.KSCoreValues = releaseValues(t, memberSecret) })), StatusFailed, "the next upgrade of the release writes it back"},
		{"secret.helm-release", env(with(snap("member", v4Legacy(memberSecret)), func(s *Snapshot) { s.KSCoreValues = releaseValues(t, "") })), StatusFailed, "takes kubesphere-config's authentication.jwtSecret"},
		{"secret.helm-release", env(with(snap("member", v4Legacy(hostSecret)), func(s *Snapshot) { s.KSCoreValues = releaseValues(t, "") })), StatusOK, "the chart keeps"},
		{"maxage.zero", env(good()), StatusOK, ""},
		{"maxage.zero", env(snap("member", v3Doc(hostSecret, "2h"))), StatusFailed, "authentication.oauthOptions.accessTokenMaxAge in kubesphere.yaml makes it 2h0m0s"},
		{"maxage.zero", env(with(good(), func(s *Snapshot) {
			s.Overrides = []Override{{Setting: settingAccessTokenMaxAge, Source: "env KUBESPHERE_AUTHENTICATION_OAUTHOPTIONS_ACCESSTOKENMAXAGE", Value: "2h", key: "authentication.oauthoptions.accesstokenmaxage"}}
		})), StatusFailed, "env KUBESPHERE_AUTHENTICATION_OAUTHOPTIONS_ACCESSTOKENMAXAGE on Deployment ks-apiserver makes it 2h0m0s"},
		// viper lets the environment beat the file only for keys the file sets.
		{"maxage.zero", env(with(snap("member", "authentication:\n  jwtSecret: \""+hostSecret+"\"\n"), func(s *Snapshot) {
			s.Overrides = []Override{{Setting: settingAccessTokenMaxAge, Source: "env X", Value: "0s", key: "authentication.oauthoptions.accesstokenmaxage"}}
		})), StatusFailed, "makes it 2h0m0s"},
		{"maxage.zero", env(with(snap("member", v3Doc(hostSecret, "2h")), func(s *Snapshot) {
			s.Overrides = []Override{{Setting: settingAccessTokenMaxAge, Source: "flag --access-token-max-age", Value: "0s"}}
		})), StatusOK, "from flag --access-token-max-age"},
		{"maxage.installer-role", env(with(good(), func(s *Snapshot) { s.Installer = installer(hostSecret, "member") })), StatusOK, ""},
		{"maxage.installer-role", env(with(good(), func(s *Snapshot) { s.Installer = installer(hostSecret, "none") })), StatusFailed, `clusterRole "none"`},
		// A secret pasted into the wrong setting is not quoted back.
		{"maxage.installer-role", env(with(good(), func(s *Snapshot) { s.Installer = installer(hostSecret, hostSecret) })), StatusFailed, notShown},
		{"restart.pods-current", env(with(good(), func(s *Snapshot) { s.Pods = []corev1.Pod{pod("new", s.ConfigChanged.Add(time.Minute))} })), StatusOK, ""},
		{"restart.pods-current", env(with(good(), func(s *Snapshot) { s.Pods = []corev1.Pod{pod("old", s.ConfigChanged.Add(-time.Minute))} })), StatusFailed, "pod old started before kubesphere-config last changed"},
		{"restart.pods-current", env(with(good(), func(s *Snapshot) {
			s.Version, s.Pods = "v3.4.1", []corev1.Pod{pod("old", s.ConfigChanged.Add(-time.Minute))}
		})), StatusOK, "reloads kubesphere.yaml by itself"},
		{"clock.skew", env(good()), StatusOK, ""},
		{"clock.skew", env(with(good(), func(s *Snapshot) { s.ServerTime = s.ServerTime.Add(time.Minute) })), StatusFailed, "1m0s off the host's, beyond maximumClockSkew 10s"},
		{"clock.skew", env(with(good(), func(s *Snapshot) { s.ServerTime = time.Time{} })), StatusNotChecked, "no Date header"},
		{"ksguard.webhooks", &Env{Host: host, Member: good(), Probe: &ProbeResult{Webhooks: []string{"mutate.ksguard.io in MutatingWebhookConfiguration k", "validate.ksguard.io in ValidatingWebhookConfiguration k"}}}, StatusOK, ""},
		{"ksguard.webhooks", &Env{Host: host, Member: good(), Probe: &ProbeResult{Webhooks: []string{"mutate.ksguard.io in MutatingWebhookConfiguration k"}}}, StatusFailed, "not both registered"},
		{"ksguard.certificate", &Env{Host: host, Member: good(), Probe: &ProbeResult{Certs: []servingCert{{verified: "the serving certificate verifies"}}}}, StatusOK, "verifies"},
		{"ksguard.certificate", &Env{Host: host, Member: good(), Probe: &ProbeResult{Certs: []servingCert{{problems: []string{"its CA expires soon"}}}}}, StatusFailed, "expires soon"},
		{"ksguard.probe", &Env{Host: host, Member: good(), Probe: &ProbeResult{DriftDenied: true, ZeroedAge: true}}, StatusOK, ""},
		{"ksguard.probe", &Env{Host: host, Member: good(), Probe: &ProbeResult{DriftAnswer: "allowed"}}, StatusFailed, "was not refused"},
		{"ksguard.probe", &Env{Host: host, Member: good(), Probe: &ProbeResult{DriftDenied: true, AgeAnswer: "denied"}}, StatusFailed, "did not come back with 0s"},
		{"logs.causes", &Env{Host: host, Member: with(good(), func(s *Snapshot) { s.Pods = []corev1.Pod{pod("p", time.Now())} }), Since: time.Hour, Logs: fakeLogs{lines: "ok\nall good\n"}}, StatusOK, "none in the last 1h0m0s"},
		{"logs.causes", &Env{Host: host, Member: with(good(), func(s *Snapshot) { s.Pods = []corev1.Pod{pod("p", time.Now())} }), Since: time.Hour,
			Logs: fakeLogs{lines: "E1125 token not found in cache\nE1125 token not found in cache\nsignature is invalid\n"}},
			StatusFailed, `2 × "token not found in cache" (accessTokenMaxAge is not 0); 1 × "signature is invalid"`},
		{"logs.causes", &Env{Host: host, Member: with(good(), func(s *Snapshot) { s.Pods = []corev1.Pod{pod("p", time.Now())} }), Since: time.Hour,
			Logs: fakeLogs{err: errors.New("logs unavailable (pod p: no kubelet)")}}, StatusNotChecked, "logs unavailable"},
	}
	checks := map[string]Check{}
	for _, c := range Checks() {
		checks[c.ID] = c
	}
	tested := map[string]map[Status]bool{}
	for _, tc := range cases {
		t.Run(tc.check+"/"+string(tc.status), func(t *testing.T) {
			c, found := checks[tc.check]
			if !found {
				t.Fatalf("no check %s", tc.check)
			}
			o := c.Run(context.Background(), tc.env)
			if o.Status != tc.status || !strings.Contains(o.Detail, tc.detail) {
				t.Errorf("got %s %q, want %s containing %q", o.Status, o.Detail, tc.status, tc.detail)
			}
			if o.Status == StatusFailed && o.Hint == "" {
				t.Errorf("a failure without a hint")
			}
			for _, s := range []string{hostSecret, memberSecret} {
				if strings.Contains(o.Detail+o.Hint, s) {
					t.Errorf("the outcome shows a secret: %+v", o)
				}
			}
		})
		if tested[tc.check] == nil {
			tested[tc.check] = map[Status]bool{}
		}
		tested[tc.check][tc.status] = true
	}
	for id := range checks {
		if !tested[id][StatusOK] || !tested[id][StatusFailed] {
			t.Errorf("check %s needs a passing and a failing case", id)
		}
	}
}

// releaseValues stores a ks-core release whose values carry secret the way
// Helm stores releases (JSON, gzip, base64) and reads its values back, as
// the snapshot does.
func releaseValues(t *testing.T, secret string) map[string]any {
	t.Helper()
	rel, err := json.Marshal(map[string]any{"name": "ks-core", "version": 3, "config": map[string]any{
		"authentication": map[string]any{"issuer": map[string]any{"jwtSecret": secret}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(rel)
	w.Close()
	values, err := decodeHelmRelease([]byte(base64.StdEncoding.EncodeToString(gz.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	return values
}

// TestDecodeHelmReleaseErrors: what is not a Helm release says so.
func TestDecodeHelmReleaseErrors(t *testing.T) {
	for name, stored := range map[string]string{
		"not base64": "%%%",
		"not gzip":   base64.StdEncoding.EncodeToString([]byte("plain")),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeHelmRelease([]byte(stored)); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("error %v, want one saying %q", err, name)
			}
		})
	}
}

// TestPlan: what --fix would change, listed without secrets, for each way
// the member can be wrong.
func TestPlan(t *testing.T) {
	host := snap("host", v3Doc(hostSecret, "2h"))
	for _, tc := range []struct {
		name   string
		member *Snapshot
		want   []string // Object: What
		manual string
	}{
		{"clean", snap("member", v3Doc(hostSecret, "0s")), nil, ""},
		{"file", snap("member", v3Doc(memberSecret, "2h")), []string{
			"ConfigMap kubesphere-system/kubesphere-config: kubesphere.yaml authentication.jwtSecret: (another value) → (the host's jwtSecret); kubesphere.yaml authentication.oauthOptions.accessTokenMaxAge: 2h0m0s → 0s",
			"Deployment kubesphere-system/ks-apiserver: rollout restart",
		}, ""},
		{"env", with(snap("member", v3Doc(hostSecret, "0s")), func(s *Snapshot) {
			s.Overrides = []Override{{Setting: settingAccessTokenMaxAge, Source: "env KUBESPHERE_AUTHENTICATION_OAUTHOPTIONS_ACCESSTOKENMAXAGE", Value: "2h", key: "authentication.oauthoptions.accesstokenmaxage"}}
		}), []string{"Deployment kubesphere-system/ks-apiserver: remove env [KUBESPHERE_AUTHENTICATION_OAUTHOPTIONS_ACCESSTOKENMAXAGE] from container ks-apiserver, and restart"}, ""},
		{"flag", with(snap("member", v3Doc(hostSecret, "0s")), func(s *Snapshot) {
			s.Overrides = []Override{{Setting: settingJWTSecret, Source: "flag --jwt-secret", Value: memberSecret}}
		}), nil, "member: remove flag --jwt-secret from Deployment ks-apiserver"},
		{"v4 legacy", snap("member", v4Legacy(memberSecret)), []string{
			"ConfigMap kubesphere-system/kubesphere-config: kubesphere.yaml authentication.jwtSecret: (another value) → (the host's jwtSecret)",
			"Deployment kubesphere-system/ks-apiserver: rollout restart",
		}, ""},
		{"installer", with(snap("member", v3Doc(hostSecret, "0s")), func(s *Snapshot) {
			s.Installer, s.KubeSphereSecret = installer(memberSecret, "none"), []byte(memberSecret)
		}), []string{
			"ClusterConfiguration kubesphere-system/ks-installer: spec.authentication.jwtSecret: (another value) → (the host's jwtSecret); spec.multicluster.clusterRole: \"none\" → \"member\"",
			"Secret kubesphere-system/kubesphere-secret: secret: (another value) → (the host's jwtSecret)",
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changes, manual := Plan(host, tc.member)
			var got []string
			for _, c := range changes {
				got = append(got, c.Object+": "+c.What)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if all := strings.Join(manual, "\n"); tc.manual == "" && all != "" || !strings.Contains(all, tc.manual) {
				t.Errorf("manual = %q, want %q", all, tc.manual)
			}
			for _, s := range []string{hostSecret, memberSecret} {
				if strings.Contains(strings.Join(got, "")+strings.Join(manual, ""), s) {
					t.Errorf("the plan shows a secret")
				}
			}
		})
	}
}
