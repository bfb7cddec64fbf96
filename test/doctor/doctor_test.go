package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/test/harness"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

const breakGlass = "ksguard.io/break-glass"

// hostDocument and memberDocument are the host's and a v3 member's
// kubesphere.yaml (ks-installer v3.2.1 renders) with the given jwtSecret.
func hostDocument(secret string) string {
	return "authentication:\n  maximumClockSkew: 10s\n  jwtSecret: \"" + secret + "\"\nmulticluster:\n  clusterRole: host\n"
}

func memberDocument(secret string) string {
	return "authentication:\n  authenticateRateLimiterMaxTries: 10\n  maximumClockSkew: 10s\n  jwtSecret: \"" + secret +
		"\"\n  oauthOptions:\n    accessTokenMaxAge: 0s\nmulticluster:\n  clusterRole: member\n"
}

// apply creates obj, or replaces the stored one with it.
func apply(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	ctx := context.Background()
	err := c.Create(ctx, obj)
	if apierrors.IsAlreadyExists(err) {
		cur := obj.DeepCopyObject().(client.Object)
		if err = c.Get(ctx, client.ObjectKeyFromObject(obj), cur); err == nil {
			obj.SetResourceVersion(cur.GetResourceVersion())
			err = c.Update(ctx, obj)
		}
	}
	if err != nil {
		t.Fatalf("writing %T %s: %v", obj, obj.GetName(), err)
	}
}

// ksApiserver is the stand-in ks-apiserver Deployment (image v3.2.1, which
// reads kubesphere.yaml only at start) with env on its container.
func ksApiserver(env ...corev1.EnvVar) client.Object {
	d := harness.StandInDeployment(ksNS, "ks-apiserver")
	d.Spec.Template.Spec.Containers[0].Image = "kubesphere/ks-apiserver:v3.2.1"
	d.Spec.Template.Spec.Containers[0].Env = env
	return d
}

// ksPod replaces the ks-apiserver pods with one started at started (its
// status set through the status subresource, as a kubelet would).
func ksPod(t *testing.T, name string, started time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := member.Client.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ksNS), client.MatchingLabels{"app": "ks-apiserver"}, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ksNS, Name: name, Labels: map[string]string{"app": "ks-apiserver"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "ks-apiserver", Image: "kubesphere/ks-apiserver:v3.2.1"}}},
	}
	if err := member.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	st := metav1.NewTime(started)
	p.Status.StartTime = &st
	if err := member.Client.Status().Update(ctx, p); err != nil {
		t.Fatal(err)
	}
}

// installerSources writes ks-installer's ClusterConfiguration and Secret
// kubesphere-secret with secret.
func installerSources(t *testing.T, secret string) {
	t.Helper()
	for _, obj := range harness.InstallerSources(secret) {
		apply(t, member.Client, obj)
	}
}

// drift leaves the member as the FAQ finds it: a jwtSecret that is not the
// host's (written with ksguard's break-glass), accessTokenMaxAge 2h through
// an environment variable on ks-apiserver, a pod older than the config, and
// ks-installer's sources carrying the drifted secret.
func drift(t *testing.T) {
	ksPod(t, "ks-apiserver-old", time.Now().Add(-time.Hour))
	apply(t, member.Client, ksApiserver(corev1.EnvVar{Name: "KUBESPHERE_AUTHENTICATION_OAUTHOPTIONS_ACCESSTOKENMAXAGE", Value: "2h"}))
	installerSources(t, driftJWT)
	apply(t, member.Client, harness.KubeSphereConfig(memberDocument(driftJWT), map[string]string{breakGlass: "doctor test: a drifted member"}))
}

// fix makes by hand the changes the FAQ asks for.
func fix(t *testing.T) {
	apply(t, member.Client, harness.KubeSphereConfig(memberDocument(hostJWT), nil))
	apply(t, member.Client, ksApiserver())
	installerSources(t, hostJWT)
	ksPod(t, "ks-apiserver-new", time.Now().Add(time.Minute))
}

// doctorRun runs the ksguard binary's doctor with args.
func doctorRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return doctorRunIn(t, "", args...)
}

// doctorRunIn runs doctor with stdin as its standard input, and fails t if
// any output holds a secret.
func doctorRunIn(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"doctor", "--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	for _, s := range allSecrets {
		if strings.Contains(out.String()+errOut.String(), s) {
			t.Fatalf("doctor's output shows a secret:\n%s\n%s", out.String(), errOut.String())
		}
	}
	return out.String(), errOut.String(), code
}

var (
	timeRE   = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
	dateRE   = regexp.MustCompile(`valid until \d{4}-\d\d-\d\d`)
	portRE   = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	withinRE = regexp.MustCompile(`within \d+s`)
)

// compareGolden compares doctor's output (times, dates and ports
// normalised) with testdata/golden/name.
func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	got = timeRE.ReplaceAllString(got, "<time>")
	got = dateRE.ReplaceAllString(got, "valid until <date>")
	got = portRE.ReplaceAllString(got, "127.0.0.1:<port>")
	got = withinRE.ReplaceAllString(got, "within <n>s")
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

// statuses reads doctor's JSON into check ID → status.
func statuses(t *testing.T, out string) map[string]string {
	t.Helper()
	var r struct {
		Members []struct {
			Name   string `json:"name"`
			Checks []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"checks"`
		} `json:"members"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("doctor -o json printed no JSON: %v\n%s", err, out)
	}
	m := map[string]string{}
	for _, mem := range r.Members {
		for _, c := range mem.Checks {
			m[mem.Name+" "+c.ID] = c.Status
		}
	}
	return m
}

// TestDoctor: on a drifted member doctor names every problem with its fix
// (golden output in each format) and exits 1; once the FAQ's fixes are
// made, every check passes and it exits 0.
func TestDoctor(t *testing.T) {
	drift(t)
	for _, format := range []string{"table", "json", "short"} {
		out, errOut, code := doctorRun(t, "--member-context", "member-a", "-o", format)
		if code != 1 {
			t.Fatalf("-o %s: exit %d, want 1; stderr: %s", format, code, errOut)
		}
		compareGolden(t, "drifted."+format, out)
	}
	fix(t)
	out, errOut, code := doctorRun(t, "--member-context", "member-a")
	if code != 0 {
		t.Fatalf("after the fixes: exit %d, want 0; stderr: %s\n%s", code, errOut, out)
	}
	compareGolden(t, "fixed.table", out)
}

// TestAllMembers: --all-members finds the member through the host's Cluster
// objects, and reports a Cluster whose kubeconfig cannot be used.
func TestAllMembers(t *testing.T) {
	fix(t)
	broken := harness.ClusterObject("member-broken", []byte("not a kubeconfig"), false)
	if err := host.Client.Create(context.Background(), broken); err != nil {
		t.Fatal(err)
	}
	defer host.Client.Delete(context.Background(), broken)
	out, _, code := doctorRun(t, "--all-members", "-o", "json")
	if code != 1 {
		t.Errorf("exit %d, want 1 (member-broken cannot be reached)", code)
	}
	s := statuses(t, out)
	if s["member-a secret.matches-host"] != "ok" || s["member-a ksguard.probe"] != "ok" {
		t.Errorf("member-a, discovered: %v", s)
	}
	if s["member-broken cluster.reachable"] != "failed" {
		t.Errorf("member-broken: cluster.reachable %q, want failed", s["member-broken cluster.reachable"])
	}
}

// TestHostSecretFile: with only the member reachable, the host's value
// comes from a file.
func TestHostSecretFile(t *testing.T) {
	fix(t)
	for _, tc := range []struct {
		secret, want string
	}{{hostJWT, "ok"}, {staleJWT, "failed"}} {
		f := filepath.Join(t.TempDir(), "host")
		if err := os.WriteFile(f, []byte(tc.secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, _, _ := doctorRun(t, "--member-context", "member-a", "--host-secret-file", f, "-o", "json")
		if got := statuses(t, out)["member-a secret.matches-host"]; got != tc.want {
			t.Errorf("secret.matches-host = %q, want %q", got, tc.want)
		}
	}
}

// TestKsguardProbe: the probe fails when ksguard's host Secret holds an
// outdated value (the host's own writes would be refused), and both
// ksguard checks fail when its webhooks are gone.
func TestKsguardProbe(t *testing.T) {
	fix(t)
	ctx := context.Background()
	hs := &corev1.Secret{}
	key := types.NamespacedName{Namespace: ksguardNS, Name: "ksguard-host-jwt"}
	if err := member.Client.Get(ctx, key, hs); err != nil {
		t.Fatal(err)
	}
	hs.Data["jwtSecret"] = []byte(staleJWT)
	if err := member.Client.Update(ctx, hs); err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, "doctor sees ksguard on an outdated host value", func() error {
		out, _, _ := doctorRun(t, "--member-context", "member-a", "-o", "json")
		if got := statuses(t, out)["member-a ksguard.probe"]; got != "failed" {
			return errors.New("ksguard.probe is " + got)
		}
		return nil
	})
	hs.Data["jwtSecret"] = []byte(hostJWT)
	if err := member.Client.Update(ctx, hs); err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, "doctor sees ksguard on the host's value again", func() error {
		out, _, _ := doctorRun(t, "--member-context", "member-a", "-o", "json")
		if got := statuses(t, out)["member-a ksguard.probe"]; got != "ok" {
			return errors.New("ksguard.probe is " + got)
		}
		return nil
	})

	mut := &admissionregistrationv1.MutatingWebhookConfigurationList{}
	val := &admissionregistrationv1.ValidatingWebhookConfigurationList{}
	if err := member.Client.List(ctx, mut); err != nil {
		t.Fatal(err)
	}
	if err := member.Client.List(ctx, val); err != nil {
		t.Fatal(err)
	}
	for i := range mut.Items {
		if err := member.Client.Delete(ctx, &mut.Items[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range val.Items {
		if err := member.Client.Delete(ctx, &val.Items[i]); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, o := range mut.Items {
			o.ResourceVersion = ""
			_ = member.Client.Create(ctx, &o)
		}
		for _, o := range val.Items {
			o.ResourceVersion = ""
			_ = member.Client.Create(ctx, &o)
		}
	}()
	out, _, code := doctorRun(t, "--member-context", "member-a", "-o", "json")
	s := statuses(t, out)
	if s["member-a ksguard.webhooks"] != "failed" || s["member-a ksguard.probe"] != "failed" {
		t.Errorf("without ksguard's webhooks: %v", s)
	}
	if code != 0 {
		t.Errorf("exit %d, want 0 (ksguard's checks are warnings)", code)
	}
}

// skewFailure is doctor's clock.skew failure for a member two minutes ahead.
var skewFailure = regexp.MustCompile(`member-skewed\tclock\.skew\terror\tthe member's clock is (1m5[5-9]s|2m[0-5]s) off the host's`)

// TestClockSkew: a member whose API server's clock runs two minutes ahead
// (its Date header shifted by a proxy in front of it) fails clock.skew.
func TestClockSkew(t *testing.T) {
	fix(t)
	target, err := url.Parse(member.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := rest.TransportFor(member.Config)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = tr
	proxy.ModifyResponse = func(r *http.Response) error {
		if d, err := http.ParseTime(r.Header.Get("Date")); err == nil {
			r.Header.Set("Date", d.Add(2*time.Minute).UTC().Format(http.TimeFormat))
		}
		return nil
	}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clusters["skewed"] = &clientcmdapi.Cluster{Server: srv.URL}
	cfg.AuthInfos["skewed"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["member-skewed"] = &clientcmdapi.Context{Cluster: "skewed", AuthInfo: "skewed"}
	skewed := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, skewed); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "doctor", "--kubeconfig", skewed, "--member-context", "member-skewed", "-o", "short", "--no-probe")
	out, _ := cmd.CombinedOutput()
	// Date headers have one-second resolution, and the host's and the
	// member's are read one after the other: allow a few seconds either way.
	if !skewFailure.Match(out) {
		t.Errorf("no clock.skew failure of about 2m0s:\n%s", out)
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
}

// TestUsage: bad flags and missing members exit 2 with a message.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "name the members"},
		{[]string{"--member-context", "member-a", "-o", "yaml"}, "-o yaml: want one of table, json, short"},
		{[]string{"--all-members", "--host-secret-file", "x"}, "cannot be used with --host-secret-file"},
		{[]string{"--host-context", "nope", "--member-context", "member-a"}, `context "nope" is not in the kubeconfig`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, errOut, code := doctorRun(t, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
	out, _, code := doctorRun(t, "--member-context", "nope", "-o", "short")
	if code != 1 || !strings.Contains(out, "nope\tcluster.reachable\terror\tcontext \"nope\" is not in the kubeconfig") {
		t.Errorf("an unknown member context: exit %d\n%s", code, out)
	}
}

// TestFix: --fix shows the changes (secrets as placeholders), asks, and
// makes them through the member's API server (ksguard judges each write);
// declining changes nothing; after the rollout a second run is clean, and
// a second --fix has nothing to do. envtest runs no controller-manager and
// no kubelet, so the rollout --fix starts is completed here by replacing
// the pod, as the ReplicaSet controller would.
func TestFix(t *testing.T) {
	ctx := context.Background()
	drift(t)
	out, errOut, code := doctorRunIn(t, "n\n", "--member-context", "member-a", "--fix", "-o", "short")
	if code != 1 || !strings.Contains(errOut, "Make them? [y/N]") || !strings.Contains(errOut, "nothing changed") {
		t.Fatalf("declined --fix: exit %d\nstderr:\n%s", code, errOut)
	}
	if !strings.Contains(out, "secret.matches-host") {
		t.Errorf("declined --fix still prints the report:\n%s", out)
	}

	out, errOut, code = doctorRun(t, "--member-context", "member-a", "--fix", "--yes", "-o", "short")
	for _, want := range []string{
		"member-a: ConfigMap kubesphere-system/kubesphere-config: kubesphere.yaml authentication.jwtSecret: (another value) → (the host's jwtSecret)",
		"member-a: ClusterConfiguration kubesphere-system/ks-installer: spec.authentication.jwtSecret: (another value) → (the host's jwtSecret)",
		"member-a: Secret kubesphere-system/kubesphere-secret: secret: (another value) → (the host's jwtSecret)",
		"member-a: Deployment kubesphere-system/ks-apiserver: remove env [KUBESPHERE_AUTHENTICATION_OAUTHOPTIONS_ACCESSTOKENMAXAGE] from container ks-apiserver, and restart",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("--fix does not list %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "Make them?") {
		t.Errorf("--fix --yes asked")
	}
	// What is left after the writes: only the pods, which no kubelet restarts here.
	if code != 1 || strings.TrimSpace(out) != strings.TrimSpace(
		"member-a\trestart.pods-current\terror\tpod ks-apiserver-old started before kubesphere-config last changed ("+timeRE.FindString(out)+"), and ks-apiserver v3.2.1 reads it only at start\n"+
			"FAILED: 1 member(s), 12 passed, 1 failed, 0 warnings, 1 not checked") {
		t.Errorf("after --fix --yes: exit %d\n%s\n%s", code, out, errOut)
	}
	d := ksApiserver()
	if err := member.Client.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
		t.Fatal(err)
	}
	if d.(*appsv1.Deployment).Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] == "" {
		t.Errorf("--fix did not restart ks-apiserver: %v", d.(*appsv1.Deployment).Spec.Template.Annotations)
	}
	ksPod(t, "ks-apiserver-rolled", time.Now().Add(time.Minute))

	out, errOut, code = doctorRun(t, "--member-context", "member-a", "--fix", "--yes", "-o", "short")
	if code != 0 || !strings.Contains(errOut, "nothing to change") || !strings.HasPrefix(out, "OK:") {
		t.Errorf("a second --fix: exit %d\n%s\n%s", code, out, errOut)
	}
}
