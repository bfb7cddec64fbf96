package chart

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ksguard/ksguard/test/harness"
)

// The host chart, ksguard-fleet, is a second chart: it shares nothing with
// the member chart (no webhooks, TLS or host Secret), and the two install
// on different clusters.
func fleetChart() string { return filepath.Join(repoRoot, "charts", "ksguard-fleet") }

// renderFleet renders the host chart as release ksguard-fleet in namespace
// with --set flags.
func renderFleet(t *testing.T, namespace string, set ...string) string {
	t.Helper()
	args := []string{"template", "ksguard-fleet", fleetChart(), "--namespace", namespace, "--kube-version", kubeVersion}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, errOut, err := helm(args...)
	if err != nil {
		t.Fatalf("helm template ksguard-fleet: %v\n%s", err, errOut)
	}
	return out
}

// TestFleetChart: the host chart lints, renders as its golden files, refuses
// bad values with the schema's message, and every object it renders is
// accepted by server-side apply with strict field validation.
func TestFleetChart(t *testing.T) {
	if out, errOut, err := helm("lint", "--strict", fleetChart(), "--kube-version", kubeVersion); err != nil {
		t.Fatalf("helm lint --strict: %v\n%s%s", err, out, errOut)
	}
	for name, set := range map[string][]string{
		"fleet-default":    nil,
		"fleet-everything": {"syncMemberConfig=true", "replicaCount=1", "concurrency=50", "memberTimeout=5s", "logLevel=debug", "hostConfig.namespace=ops", "memberSecret=ops/host-jwt"},
	} {
		t.Run(name, func(t *testing.T) {
			got := renderFleet(t, "ksguard-system", set...)
			golden := filepath.Join("testdata", "golden", name+".yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./test/chart -run TestFleetChart -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("helm template differs from %s:\n%s", golden, diff(string(want), got))
			}
			apply(t, objects(t, got), client.DryRunAll)
		})
	}
	for _, tc := range []struct{ set, want string }{
		{"memberTimeout=10", "at '/memberTimeout': got number, want string"},
		{"memberSecret=nonamespace", "at '/memberSecret'"},
		{"logLevel=chatty", "at '/logLevel'"},
		{"unknown=1", "additional properties 'unknown' not allowed"},
	} {
		t.Run("bad "+tc.set, func(t *testing.T) {
			_, errOut, err := helm("template", "ksguard-fleet", fleetChart(), "--kube-version", kubeVersion, "--set", tc.set)
			if err == nil || !strings.Contains(errOut, tc.want) {
				t.Errorf("err %v, stderr %q; want a failure saying %q", err, errOut, tc.want)
			}
		})
	}
}

// TestFleetAsChart: `ksguard fleet`, run with the host chart's arguments as
// the chart's ServiceAccount (a TokenRequest token, so with exactly the
// chart's RBAC), reads the host's jwtSecret and the Cluster objects, writes
// a member's ksguard host Secret (with the Cluster's own kubeconfig, here
// the same API server), records Events on the Cluster and holds its Lease,
// and is refused nothing.
func TestFleetAsChart(t *testing.T) {
	const ns, hostNS, hostJWT = "ksguard-fleet", "fleet-host", "fleet-host-jwt-Zr8Qm3Vn6Tb1Xc4Ls7Kd"
	crd := filepath.Join(repoRoot, "test", "doctor", "testdata", "crds", "clusters.cluster.kubesphere.io.yaml")
	if _, err := envtest.InstallCRDs(cluster.Config, envtest.CRDInstallOptions{Paths: []string{crd}, ErrorIfPathMissing: true}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{ns, hostNS, "fleet-member"} {
		if err := cluster.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cluster.Client.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: hostNS, Name: "kubesphere-config"},
		Data:       map[string]string{"kubesphere.yaml": "authentication:\n  jwtSecret: \"" + hostJWT + "\"\nmulticluster:\n  clusterRole: host\n"},
	}); err != nil {
		t.Fatal(err)
	}
	admin, err := os.ReadFile(cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	member := harness.ClusterObject("fleet-member", admin, false)
	member.SetAnnotations(map[string]string{"ksguard.io/host-secret": "fleet-member/ksguard-host-jwt"})
	if err := cluster.Client.Create(ctx, member); err != nil {
		t.Fatal(err)
	}
	defer cluster.Client.Delete(ctx, member)

	objs := objects(t, renderFleet(t, ns, "hostConfig.namespace="+hostNS, "replicaCount=1"))
	apply(t, objs)
	var args []string
	for _, u := range objs {
		if u.GetKind() != "Deployment" {
			continue
		}
		cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		as, _, _ := unstructured.NestedStringSlice(cs[0].(map[string]any), "args")
		for _, a := range as {
			if !strings.HasPrefix(a, "--metrics-bind-address") && !strings.HasPrefix(a, "--health-probe-bind-address") {
				args = append(args, a)
			}
		}
	}
	if len(args) == 0 || args[0] != "fleet" {
		t.Fatalf("the chart's Deployment does not run ksguard fleet: %q", args)
	}
	kubeconfig := tokenKubeconfig(t, ns, "ksguard-fleet")
	metrics, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	probes, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cmd := exec.Command(bin, append(args, "--kubeconfig", kubeconfig, "--metrics-bind-address", metrics, "--health-probe-bind-address", probes, "--member-backoff", "100ms")...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	defer func() {
		if t.Failed() {
			t.Logf("ksguard fleet's log:\n%s", log.String())
		}
	}()

	harness.Eventually(t, "fleet writes the member's ksguard host Secret", func() error {
		s := &corev1.Secret{}
		if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: "fleet-member", Name: "ksguard-host-jwt"}, s); err != nil {
			return err
		}
		if string(s.Data["jwtSecret"]) != hostJWT {
			return errors.New("the Secret does not hold the host's jwtSecret")
		}
		return nil
	})
	harness.Eventually(t, "fleet records an Event on the Cluster", func() error {
		evs := &corev1.EventList{}
		if err := cluster.Client.List(ctx, evs, client.InNamespace("default")); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.Kind == "Cluster" && e.InvolvedObject.Name == "fleet-member" {
				return nil
			}
		}
		return errors.New("no Event on Cluster fleet-member")
	})
	lease := &coordinationv1.Lease{}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "ksguard-fleet"}, lease); err != nil {
		t.Errorf("the chart's Lease: %v", err)
	}
	if strings.Contains(strings.ToLower(log.String()), "forbidden") {
		t.Errorf("fleet was refused something the chart should grant:\n%s", log.String())
	}
	if strings.Contains(log.String(), hostJWT) {
		t.Errorf("fleet's log shows the host's jwtSecret")
	}
}

// tokenKubeconfig writes a kubeconfig for ServiceAccount namespace/name (a
// TokenRequest token), so a process runs with exactly its RBAC.
func tokenKubeconfig(t *testing.T, namespace, name string) string {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: new(int64(3600))}}
	if err := cluster.Client.SubResource("token").Create(ctx, sa, tr); err != nil {
		t.Fatalf("requesting a token for ServiceAccount %s/%s: %v", namespace, name, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cluster.Config.Host, CertificateAuthorityData: cluster.Config.CAData}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: name}
	cfg.CurrentContext = name
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}
