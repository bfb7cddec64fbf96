package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/test/harness"
)

// hostSecret reads the member's ksguard host Secret's jwtSecret.
func (m *member) hostSecret(ctx context.Context) (string, *corev1.Secret, error) {
	s := &corev1.Secret{}
	if err := m.cluster.Client.Get(ctx, types.NamespacedName{Namespace: ksguardNS, Name: "ksguard-host-jwt"}, s); err != nil {
		return "", nil, err
	}
	return string(s.Data["jwtSecret"]), s, nil
}

// waitSecret waits until the member's ksguard host Secret holds want.
func (m *member) waitSecret(t *testing.T, want string) {
	t.Helper()
	harness.Eventually(t, m.name+"'s ksguard host Secret holds the host's jwtSecret", func() error {
		got, _, err := m.hostSecret(context.Background())
		if err != nil {
			return err
		}
		if got != want {
			return errors.New("it holds another value")
		}
		return nil
	})
}

// hostStyleWrite replaces the member's kubesphere.yaml with a new rendering
// holding secret, as the v3.3+ host (a re-serialised document) or a v4
// host's Helm upgrade writes it.
func (m *member) hostStyleWrite(ctx context.Context, secret string) error {
	cm := &corev1.ConfigMap{}
	if err := m.cluster.Client.Get(ctx, types.NamespacedName{Namespace: ksNS, Name: "kubesphere-config"}, cm); err != nil {
		return err
	}
	cm.Data["kubesphere.yaml"] = memberDocument(secret)
	return m.cluster.Client.Update(ctx, cm)
}

// setHostSecret rotates the host's jwtSecret in its own kubesphere-config.
func setHostSecret(t *testing.T, secret string) {
	t.Helper()
	ctx := context.Background()
	cm := &corev1.ConfigMap{}
	if err := host.Client.Get(ctx, types.NamespacedName{Namespace: ksNS, Name: "kubesphere-config"}, cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["kubesphere.yaml"] = hostDocument(secret)
	if err := host.Client.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
}

// memberState waits until the fleet's metrics give cluster the state.
func waitState(t *testing.T, cluster, state string) {
	t.Helper()
	harness.Eventually(t, cluster+" is "+state+" in ksguard_fleet_member_state", func() error {
		v, err := fleet.Metric("ksguard_fleet_member_state", `cluster="`+cluster+`"`, `state="`+state+`"`)
		if err != nil {
			return err
		}
		if v != 1 {
			if exited, err := fleet.Exited(); exited {
				return fmt.Errorf("ksguard fleet exited: %v\n%s", err, fleet.Logs())
			}
			return fmt.Errorf("not yet")
		}
		return nil
	})
}

// clusterEvents returns the host's Events about Cluster name.
func clusterEvents(ctx context.Context, name string) ([]corev1.Event, error) {
	list := &corev1.EventList{}
	if err := host.Client.List(ctx, list); err != nil {
		return nil, err
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == "Cluster" && e.InvolvedObject.Name == name {
			out = append(out, e)
		}
	}
	return out, nil
}

// waitEvent waits for an Event with reason on Cluster name.
func waitEvent(t *testing.T, name, reason string) corev1.Event {
	t.Helper()
	var found corev1.Event
	harness.Eventually(t, "an Event "+reason+" on Cluster "+name, func() error {
		evs, err := clusterEvents(context.Background(), name)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if e.Reason == reason {
				found = e
				return nil
			}
		}
		return fmt.Errorf("%d Events, none %s", len(evs), reason)
	})
	return found
}

// TestInstall: both members' ksguard host Secrets get the host's value,
// written by server-side apply under fleet's field manager; the member
// without ksguard and the unreachable one are reported, and the host is
// never written.
func TestInstall(t *testing.T) {
	ctx := context.Background()
	for _, m := range members() {
		t.Run(m.name, func(t *testing.T) {
			m.waitSecret(t, firstJWT)
			_, s, err := m.hostSecret(ctx)
			if err != nil {
				t.Fatal(err)
			}
			managers := map[string]string{}
			for _, mf := range s.ManagedFields {
				managers[mf.Manager] = string(mf.Operation)
			}
			if managers["ksguard-fleet"] != "Apply" {
				t.Errorf("managed fields %v: want ksguard-fleet applying", managers)
			}
			// Its ksguard now takes the member's config with the host's value.
			harness.Eventually(t, m.name+"'s ksguard accepts the host's value", func() error {
				return m.cluster.Client.Create(ctx, harness.KubeSphereConfig(memberDocument(firstJWT), nil))
			})
		})
	}
	for _, tc := range []struct {
		cluster, state, reason, note string
	}{
		{memA.name, "in-sync", "GuardInSync", "holds the host's current jwtSecret"},
		{memB.name, "in-sync", "GuardInSync", "holds the host's current jwtSecret"},
		{"no-ksguard", "not-installed", "KsguardNotInstalled", "namespace ksguard-system does not exist on the member"},
		{"closed-port", "unreachable", "MemberUnreachable", "connection refused"},
		{"refusing", "refused", "WriteRefused", "Secret ksguard-system/Not_A_Name"},
	} {
		t.Run("reported/"+tc.cluster, func(t *testing.T) {
			waitState(t, tc.cluster, tc.state)
			e := waitEvent(t, tc.cluster, tc.reason)
			if !strings.Contains(e.Message, tc.note) {
				t.Errorf("Event %s: %q, want it to say %q", tc.reason, e.Message, tc.note)
			}
		})
	}
	t.Run("pushed Events", func(t *testing.T) {
		for _, m := range members() {
			waitEvent(t, m.name, "Pushed")
		}
	})
	t.Run("the host is never written", func(t *testing.T) {
		secrets := &corev1.SecretList{}
		if err := host.Client.List(ctx, secrets, client.MatchingLabels{"app.kubernetes.io/managed-by": "ksguard-fleet"}); err != nil {
			t.Fatal(err)
		}
		if len(secrets.Items) > 0 {
			t.Errorf("fleet wrote %d Secrets on the host", len(secrets.Items))
		}
		cm := &corev1.ConfigMap{}
		if err := host.Client.Get(ctx, types.NamespacedName{Namespace: ksNS, Name: "kubesphere-config"}, cm); err != nil {
			t.Fatal(err)
		}
		for _, mf := range cm.ManagedFields {
			if strings.HasPrefix(mf.Manager, "ksguard") {
				t.Errorf("the host's kubesphere-config was written by %s", mf.Manager)
			}
		}
	})
}

// TestRotation: a host-style write of a new jwtSecret to a member's config
// is refused while the member's ksguard has the old value; after the host
// rotates, both members' Secrets converge, the same write is accepted,
// and (--sync-member-config) each member's config and ks-installer's
// sources carry the new value, and its ks-apiserver rolled once.
func TestRotation(t *testing.T) {
	ctx := context.Background()
	for _, m := range members() {
		t.Run("refused before/"+m.name, func(t *testing.T) {
			err := m.hostStyleWrite(ctx, secondJWT)
			if err == nil || !strings.Contains(err.Error(), "jwtSecret") {
				t.Fatalf("writing a new jwtSecret before the host rotated: %v, want ksguard's refusal", err)
			}
		})
	}
	setHostSecret(t, secondJWT)
	for _, m := range members() {
		t.Run("converges/"+m.name, func(t *testing.T) {
			m.waitSecret(t, secondJWT)
			harness.Eventually(t, "the host-style write is accepted", func() error { return m.hostStyleWrite(ctx, secondJWT) })
			waitState(t, m.name, "in-sync")
		})
		t.Run("member config/"+m.name, func(t *testing.T) {
			m.waitConfig(t, secondJWT)
			m.waitRestarts(t, 1)
		})
	}
}

// waitConfig waits until the member's kubesphere-config and ks-installer's
// ClusterConfiguration and Secret kubesphere-secret hold secret.
func (m *member) waitConfig(t *testing.T, secret string) {
	t.Helper()
	ctx := context.Background()
	harness.Eventually(t, m.name+"'s config and installer sources hold the host's value", func() error {
		cm := &corev1.ConfigMap{}
		if err := m.cluster.Client.Get(ctx, types.NamespacedName{Namespace: ksNS, Name: "kubesphere-config"}, cm); err != nil {
			return err
		}
		text := []byte(cm.Data["kubesphere.yaml"])
		r, err := validate.ReadAsKubeSphere(validate.ParseDocument(text).Schema, text)
		if err != nil {
			return err
		}
		if r.JWTSecret != secret {
			return errors.New("kubesphere-config holds another jwtSecret")
		}
		cc := &unstructured.Unstructured{}
		cc.SetAPIVersion("installer.kubesphere.io/v1alpha1")
		cc.SetKind("ClusterConfiguration")
		if err := m.cluster.Client.Get(ctx, types.NamespacedName{Namespace: ksNS, Name: "ks-installer"}, cc); err != nil {
			return err
		}
		if v, _, _ := unstructured.NestedString(cc.Object, "spec", "authentication", "jwtSecret"); v != secret {
			return errors.New("ClusterConfiguration ks-installer holds another jwtSecret")
		}
		s := &corev1.Secret{}
		if err := m.cluster.Client.Get(ctx, types.NamespacedName{Namespace: ksNS, Name: "kubesphere-secret"}, s); err != nil {
			return err
		}
		if string(s.Data["secret"]) != secret {
			return errors.New("Secret kubesphere-secret holds another value")
		}
		return nil
	})
}

// waitRestarts waits until the member's ksguard has rolled ks-apiserver n
// times in all, and checks the Deployment carries the restart.
func (m *member) waitRestarts(t *testing.T, n float64) {
	t.Helper()
	harness.WaitCount(t, n, "ksguard_restarts_total", []string{`result="restarted"`}, m.ksguard)
	d := &appsv1.Deployment{}
	if err := m.cluster.Client.Get(context.Background(), types.NamespacedName{Namespace: ksNS, Name: "ks-apiserver"}, d); err != nil {
		t.Fatal(err)
	}
	if d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] == "" {
		t.Errorf("ks-apiserver's pod template has no restartedAt")
	}
}

// status runs `ksguard fleet status` against the host.
func status(t *testing.T, args ...string) (stdout string, code int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"fleet", "status", "--kubeconfig", host.Kubeconfig, "--member-timeout", "2s"}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	record(out.String() + errOut.String())
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatal(err)
	}
	return out.String(), code
}

// TestStatus: `ksguard fleet status` computes each member's state with
// dry runs, writing nothing.
func TestStatus(t *testing.T) {
	unreachable := map[string]string{"no-ksguard": "not-installed", "closed-port": "unreachable", "refusing": "refused"}
	for _, tc := range []struct {
		name string
		args []string
		want map[string]string // for member-a and member-b
	}{
		{"as the controller keeps them", nil, map[string]string{memA.name: "in-sync", memB.name: "in-sync"}},
		{"a Secret that does not exist: stale", []string{"--member-secret", ksguardNS + "/other"}, map[string]string{memA.name: "stale", memB.name: "stale"}},
		{"a Secret name the API server refuses", []string{"--member-secret", ksguardNS + "/Not_A_Name"}, map[string]string{memA.name: "refused", memB.name: "refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := status(t, append(tc.args, "-o", "json")...)
			if code != 1 {
				t.Errorf("exit %d, want 1 (not every member is in sync)", code)
			}
			var got []struct{ Cluster, State, Secret, Reason string }
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			states := map[string]string{}
			for _, s := range got {
				states[s.Cluster] = s.State
			}
			for name, want := range tc.want {
				if states[name] != want {
					t.Errorf("%s: %q, want %q (%s)", name, states[name], want, out)
				}
			}
			for name, want := range unreachable {
				if states[name] != want {
					t.Errorf("%s: %q, want %q", name, states[name], want)
				}
			}
			if _, ok := states["host"]; ok {
				t.Errorf("the host's own Cluster is listed: %s", out)
			}
		})
	}
	t.Run("nothing written", func(t *testing.T) {
		for _, m := range members() {
			err := m.cluster.Client.Get(context.Background(), types.NamespacedName{Namespace: ksguardNS, Name: "other"}, &corev1.Secret{})
			if !apierrors.IsNotFound(err) {
				t.Errorf("%s: Secret other: %v, want not found (status only dry-runs)", m.name, err)
			}
		}
	})
	t.Run("table", func(t *testing.T) {
		out, _ := status(t)
		for _, want := range []string{"CLUSTER", "STATE", memA.name + " ", "in-sync", "closed-port", "unreachable"} {
			if !strings.Contains(out, want) {
				t.Errorf("the table lacks %q:\n%s", want, out)
			}
		}
	})
}

// TestScale: with 98 more members that cannot be reached (97 closed ports,
// one that accepts connections and never answers), a rotation still
// reaches the two real members within seconds; the unreachable ones are
// counted, and forgotten with their Cluster objects.
func TestScale(t *testing.T) {
	ctx := context.Background()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go holdConnections(silent)
	silentKubeconfig, err := kubeconfigAt(host.Kubeconfig, "https://"+silent.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var extra []*unstructured.Unstructured
	for i := range 97 {
		kc, err := kubeconfigAt(host.Kubeconfig, "https://"+closedAddr())
		if err != nil {
			t.Fatal(err)
		}
		extra = append(extra, harness.ClusterObject(fmt.Sprintf("unreachable-%02d", i), kc, false))
	}
	extra = append(extra, harness.ClusterObject("silent", silentKubeconfig, false))
	for _, cl := range extra {
		if err := host.Client.Create(ctx, cl); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, cl := range extra {
			_ = host.Client.Delete(ctx, cl)
		}
	}()
	harness.Eventually(t, "the 99 unreachable members are counted", func() error {
		v, err := fleet.Metric("ksguard_fleet_members", `state="unreachable"`)
		if err != nil || v != 99 {
			return fmt.Errorf("%v unreachable (%v)", v, err)
		}
		return nil
	})

	start := time.Now()
	setHostSecret(t, thirdJWT)
	within(t, 10*time.Second, "both members' ksguard host Secrets hold the rotated value, among 99 unreachable members", func() error {
		for _, m := range members() {
			if got, _, err := m.hostSecret(ctx); err != nil || got != thirdJWT {
				return fmt.Errorf("%s: not yet (%v)", m.name, err)
			}
		}
		return nil
	})
	t.Logf("both members synced %v after the rotation, with 99 unreachable members", time.Since(start).Round(time.Millisecond))
	for _, m := range members() {
		m.waitConfig(t, thirdJWT)
		m.waitRestarts(t, 2) // one roll per rotation
	}

	for _, cl := range extra {
		if err := host.Client.Delete(ctx, cl); err != nil {
			t.Fatal(err)
		}
	}
	harness.Eventually(t, "deleted members are forgotten", func() error {
		v, err := fleet.Metric("ksguard_fleet_members", `state="unreachable"`)
		if err != nil || v != 1 {
			return fmt.Errorf("%v unreachable (%v)", v, err)
		}
		if _, found, err := fleet.Sample("ksguard_fleet_member_state", `cluster="silent"`); err != nil || found {
			return fmt.Errorf("Cluster silent still has a series (%v)", err)
		}
		return nil
	})
}

// within checks f every 20ms until it returns nil, failing t with its last
// error once d has passed.
func within(t *testing.T, d time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := f()
		if err == nil {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("%s: still not true after %v: %v", what, d, err)
		case <-tick.C:
		}
	}
}

// holdConnections accepts connections and never answers: a member whose
// API server hangs.
func holdConnections(l net.Listener) {
	var held []net.Conn
	for {
		c, err := l.Accept()
		if err != nil {
			for _, c := range held {
				c.Close()
			}
			return
		}
		held = append(held, c)
	}
}

// TestNoSecretAnywhere searches everything the run produced: the fleet's
// log (at debug level) and metrics, each member's ksguard log, every Event
// on the host and the members, and every command output.
func TestNoSecretAnywhere(t *testing.T) {
	ctx := context.Background()
	sources := map[string]string{
		"fleet log":       fleet.Logs(),
		"member-a log":    memA.ksguard.Logs(),
		"member-b log":    memB.ksguard.Logs(),
		"fleet metrics":   scrape(t, fleet.MetricsURL),
		"command outputs": strings.Join(outputs, "\n"),
	}
	for name, c := range map[string]*harness.Cluster{"host": host, memA.name: memA.cluster, memB.name: memB.cluster} {
		evs := &corev1.EventList{}
		if err := c.Client.List(ctx, evs); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(evs)
		sources[name+" Events"] = string(b)
	}
	for _, want := range []string{"member state changed", "wrote the host's jwtSecret on the member", "the host's jwtSecret changed"} {
		if !strings.Contains(sources["fleet log"], want) {
			t.Errorf("the fleet's log lacks %q: the search below would prove nothing", want)
		}
	}
	for name, text := range sources {
		if found := leaks(text); len(found) > 0 {
			t.Errorf("%s holds a secret (%d forms found)", name, len(found))
		}
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
