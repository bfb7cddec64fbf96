package chart

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// fleetScene is a host for the host chart, in namespaces named after ns:
// the host's kubesphere-config (in ns-host), a member's Cluster object (ns-member,
// reached with the admin's kubeconfig: the member is this same API server,
// its ksguard host Secret ns-member/ksguard-host-jwt), and the chart
// rendered as fullname into ns and applied.
type fleetScene struct {
	ns, fullname, memberNS string
	objs                   []*unstructured.Unstructured
	args                   []string // the Deployment's, without the addresses
}

// fleetHostJWT is the host's jwtSecret in fleet scenes.
const fleetHostJWT = "fleet-host-jwt-Zr8Qm3Vn6Tb1Xc4Ls7Kd"

func newFleetScene(t *testing.T, ns, fullname string) *fleetScene {
	t.Helper()
	crd := filepath.Join(repoRoot, "test", "doctor", "testdata", "crds", "clusters.cluster.kubesphere.io.yaml")
	if _, err := envtest.InstallCRDs(cluster.Config, envtest.CRDInstallOptions{Paths: []string{crd}, ErrorIfPathMissing: true}); err != nil {
		t.Fatal(err)
	}
	sc := &fleetScene{ns: ns, fullname: fullname, memberNS: ns + "-member"}
	hostNS := ns + "-host"
	for _, n := range []string{ns, hostNS, sc.memberNS} {
		if err := cluster.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}); err != nil {
			t.Fatal(err)
		}
	}
	cm := harness.KubeSphereConfig("authentication:\n  jwtSecret: \""+fleetHostJWT+"\"\nmulticluster:\n  clusterRole: host\n", nil)
	cm.Namespace = hostNS
	if err := cluster.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	admin, err := os.ReadFile(cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	member := harness.ClusterObject(sc.memberNS, admin, false)
	member.SetAnnotations(map[string]string{"ksguard.io/host-secret": sc.memberNS + "/ksguard-host-jwt"})
	if err := cluster.Client.Create(ctx, member); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Client.Delete(ctx, member) })
	sc.objs = objects(t, renderFleet(t, ns, "hostConfig.namespace="+hostNS, "replicaCount=1", "fullnameOverride="+fullname))
	apply(t, sc.objs)
	for _, u := range sc.objs {
		if u.GetKind() != "Deployment" {
			continue
		}
		cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		as, _, _ := unstructured.NestedStringSlice(cs[0].(map[string]any), "args")
		for _, a := range as {
			if !strings.HasPrefix(a, "--metrics-bind-address") && !strings.HasPrefix(a, "--health-probe-bind-address") {
				sc.args = append(sc.args, a)
			}
		}
	}
	if len(sc.args) == 0 || sc.args[0] != "fleet" {
		t.Fatalf("the chart's Deployment does not run ksguard fleet: %q", sc.args)
	}
	return sc
}

// run starts ksguard fleet with the chart's arguments as the chart's
// ServiceAccount, until the test ends (its log is shown when the test
// fails).
func (sc *fleetScene) run(t *testing.T) *harness.Process {
	t.Helper()
	kubeconfig := tokenKubeconfig(t, sc.ns, sc.fullname)
	addrs, err := harness.FreeAddrs(2)
	if err != nil {
		t.Fatal(err)
	}
	metrics, probes := addrs[0], addrs[1]
	p, err := harness.StartProcess(bin, nil, append(sc.args, "--kubeconfig", kubeconfig, "--metrics-bind-address", metrics, "--health-probe-bind-address", probes, "--member-backoff", "100ms")...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Stop()
		if strings.Contains(p.Logs(), fleetHostJWT) {
			t.Errorf("fleet's log shows the host's jwtSecret")
		}
		if t.Failed() {
			t.Logf("ksguard fleet's log:\n%s", tail(p.Logs(), 40))
		}
	})
	return p
}

// TestFleetAsChart: `ksguard fleet`, run with the host chart's arguments as
// the chart's ServiceAccount (a TokenRequest token, so with exactly the
// chart's RBAC), reads the host's jwtSecret and the Cluster objects, writes
// a member's ksguard host Secret (with the Cluster's own kubeconfig, here
// the same API server), records Events on the Cluster and holds its Lease,
// and is refused nothing.
func TestFleetAsChart(t *testing.T) {
	sc := newFleetScene(t, "ksguard-fleet", "ksguard-fleet")
	log := sc.run(t)
	harness.Eventually(t, "fleet writes the member's ksguard host Secret", func() error {
		s := &corev1.Secret{}
		if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: sc.memberNS, Name: "ksguard-host-jwt"}, s); err != nil {
			return err
		}
		if string(s.Data["jwtSecret"]) != fleetHostJWT {
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
			if e.InvolvedObject.Kind == "Cluster" && e.InvolvedObject.Name == sc.memberNS {
				return nil
			}
		}
		return errors.New("no Event on the member's Cluster")
	})
	lease := &coordinationv1.Lease{}
	if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: sc.ns, Name: sc.fullname}, lease); err != nil {
		t.Errorf("the chart's Lease: %v", err)
	}
	if strings.Contains(strings.ToLower(log.Logs()), "forbidden") {
		t.Errorf("fleet was refused something the chart should grant")
	}
}

// fleetNeed is what the host chart's rule verb is needed for.
type fleetNeed struct{ behaviour, refusal string }

// What names the behaviour that fails without the verb.
func (n fleetNeed) What() string { return n.behaviour }

// fleetNeeds names, for every verb of every rule the host chart grants
// (release ksguard-fleet-rbac), the behaviour that fails without it and
// the refusal fleet then logs.
var fleetNeeds = map[string]fleetNeed{
	"ClusterRole ksguard-fleet-rbac: cluster.kubesphere.io clusters list": {
		"listing the members", `cannot list resource "clusters" in API group "cluster.kubesphere.io" at the cluster scope`},
	"ClusterRole ksguard-fleet-rbac: cluster.kubesphere.io clusters watch": {
		"following the members", `cannot watch resource "clusters" in API group "cluster.kubesphere.io" at the cluster scope`},
	"Role ksguard-fleet-rbac-host/ksguard-fleet-rbac-host-config: core configmaps[kubesphere-config] list": {
		"reading the host's jwtSecret", `cannot list resource "configmaps" in API group "" in the namespace "ksguard-fleet-rbac-host"`},
	"Role ksguard-fleet-rbac-host/ksguard-fleet-rbac-host-config: core configmaps[kubesphere-config] watch": {
		"following the host's jwtSecret", `cannot watch resource "configmaps" in API group "" in the namespace "ksguard-fleet-rbac-host"`},
	"Role default/ksguard-fleet-rbac-events: events.k8s.io events create": {
		"the Events on the Cluster objects", `cannot create resource "events" in API group "events.k8s.io" in the namespace "default"`},
	"Role ksguard-fleet-rbac/ksguard-fleet-rbac-leader-election: coordination.k8s.io leases create": {
		"taking the Lease the first time", `cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "ksguard-fleet-rbac"`},
	"Role ksguard-fleet-rbac/ksguard-fleet-rbac-leader-election: coordination.k8s.io leases[ksguard-fleet-rbac] get": {
		"reading the Lease", `cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "ksguard-fleet-rbac"`},
	"Role ksguard-fleet-rbac/ksguard-fleet-rbac-leader-election: coordination.k8s.io leases[ksguard-fleet-rbac] update": {
		"renewing the Lease", `cannot update resource "leases" in API group "coordination.k8s.io" in the namespace "ksguard-fleet-rbac"`},
	"Role ksguard-fleet-rbac/ksguard-fleet-rbac-leader-election: core events create": {
		"the leader-election Event", `cannot create resource "events" in API group "" in the namespace "ksguard-fleet-rbac"`},
}

// TestFleetChartRBACEveryRuleNeeded: the host chart's RBAC is minimal.
// Each verb of each rule is removed in turn and ksguard fleet runs as the
// chart's ServiceAccount from a first start (no Lease, no member Secret):
// each removal must make a named behaviour fail, seen as the API server's
// refusal in fleet's log. A verb no behaviour needs fails the test.
func TestFleetChartRBACEveryRuleNeeded(t *testing.T) {
	t.Setenv("KUBE_FEATURE_WatchListClient", "false") // as against an API server without streaming lists
	sc := newFleetScene(t, "ksguard-fleet-rbac", "ksguard-fleet-rbac")
	rbac := rbacObjects(t, sc.objs)
	t.Cleanup(func() { setRules(t, rbac) })
	harness.EveryVerbNeeded(t, rbac, "the host chart", fleetNeeds, func(t *testing.T, _ int, rm harness.VerbRemoval, need fleetNeed) {
		setRules(t, rm.Objects)
		waitDeniedTo(t, rm, sc.ns, sc.fullname)
		for _, obj := range []client.Object{
			&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: sc.ns, Name: sc.fullname}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: sc.memberNS, Name: "ksguard-host-jwt"}},
		} {
			if err := cluster.Client.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
				t.Fatal(err)
			}
		}
		log := sc.run(t)
		waitRefusal(t, log.Logs, need.refusal)
	})
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
