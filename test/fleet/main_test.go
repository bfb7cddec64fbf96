// Package fleet tests `ksguard fleet` end to end: the real binary on a
// KubeSphere host (a real API server, envtest, with KubeSphere's Cluster
// CRD from test/doctor/testdata/crds and Cluster objects carrying real
// kubeconfigs) keeping the ksguard host Secrets of two real members, each
// guarded by a real `ksguard serve` behind the chart's webhook
// configurations. The clusters, the members' ksguard and the fleet start
// once, here, and are shared by the tests, which run in order.
package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ksguard/ksguard/test/harness"
)

// The host's jwtSecret before and after each rotation, and a stale value.
// No output may hold any of them.
const (
	firstJWT  = "first-jwt-Fq7Wm2Kx9Lp4Rt6Vz1Bn3Cs8Dd"
	secondJWT = "second-jwt-Sd2Ws5Ex8Rc1Tv4Yb7Un0ImQ"
	thirdJWT  = "third-jwt-Tq9Aw8Ze7Xr6Dc5Fv4Gt3ByHh"
	staleJWT  = "stale-jwt-Zx1Cv2Bn3Mm4Nl5Kj6Hg7Ff8"
	ksNS      = "kubesphere-system"
	ksguardNS = "ksguard-system"
	hostJWTNS = ksguardNS + "/ksguard-host-jwt"
)

var allSecrets = []string{firstJWT, secondJWT, thirdJWT, staleJWT}

// member is a member cluster guarded by ksguard.
type member struct {
	name    string
	cluster *harness.Cluster
	ksguard *harness.Ksguard
}

var (
	bin   string
	host  *harness.Cluster
	memA  = &member{name: "member-a"}
	memB  = &member{name: "member-b"}
	fleet *harness.Ksguard // `ksguard fleet`: its /metrics, its log
	// closedKubeconfig is a kubeconfig whose server is a closed port.
	closedKubeconfig []byte

	outputsMu sync.Mutex
	outputs   []string // every command output of the tests, searched for secrets at the end
)

func members() []*member { return []*member{memA, memB} }

// record keeps a command's output for the search for secrets.
func record(s string) {
	outputsMu.Lock()
	defer outputsMu.Unlock()
	outputs = append(outputs, s)
}

func TestMain(m *testing.M) {
	os.Exit(harness.RunMain(m, "ksguard-fleet-", setUp, stopAll))
}

// stopAll stops what setUp started.
func stopAll() {
	for _, p := range []*harness.Ksguard{fleet, memA.ksguard, memB.ksguard} {
		if p != nil {
			_ = p.Stop()
		}
	}
	for _, c := range []*harness.Cluster{host, memA.cluster, memB.cluster} {
		harness.StopCluster(c)
	}
}

func setUp(tmp string) error {
	var err error
	if bin, err = harness.Build(tmp); err != nil {
		return err
	}
	if host, err = harness.Start(harness.Options{NoWebhooks: true}); err != nil {
		return fmt.Errorf("the host cluster: %w", err)
	}
	crds, err := filepath.Abs("../doctor/testdata/crds")
	if err != nil {
		return err
	}
	if _, err := envtest.InstallCRDs(host.Config, envtest.CRDInstallOptions{Paths: []string{filepath.Join(crds, "clusters.cluster.kubesphere.io.yaml")}}); err != nil {
		return fmt.Errorf("installing the Cluster CRD on the host: %w", err)
	}
	ctx := context.Background()
	if err := host.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ksNS}}); err != nil {
		return err
	}
	if err := host.Client.Create(ctx, harness.KubeSphereConfig(hostDocument(firstJWT), nil)); err != nil {
		return fmt.Errorf("the host's kubesphere-config: %w", err)
	}
	for _, m := range members() {
		if err := m.start(ctx, crds); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
	}
	if closedKubeconfig, err = kubeconfigAt(host.Kubeconfig, "https://"+closedAddr()); err != nil {
		return err
	}
	hostKubeconfig, err := os.ReadFile(host.Kubeconfig)
	if err != nil {
		return err
	}
	// The host's Clusters: its own (never written), the two members, the
	// host's API server again as a member without ksguard, a member whose
	// kubeconfig points at a closed port, and member-a again under a name
	// whose annotation names a Secret the API server refuses.
	refusing := harness.ClusterObject("refusing", mustRead(memA.cluster.Kubeconfig), false)
	refusing.SetAnnotations(map[string]string{"ksguard.io/host-secret": ksguardNS + "/Not_A_Name"})
	for _, cl := range []*unstructured.Unstructured{
		refusing,
		harness.ClusterObject("host", hostKubeconfig, true),
		harness.ClusterObject(memA.name, mustRead(memA.cluster.Kubeconfig), false),
		harness.ClusterObject(memB.name, mustRead(memB.cluster.Kubeconfig), false),
		harness.ClusterObject("no-ksguard", hostKubeconfig, false),
		harness.ClusterObject("closed-port", closedKubeconfig, false),
	} {
		if err := host.Client.Create(ctx, cl); err != nil {
			return fmt.Errorf("Cluster %s: %w", cl.GetName(), err)
		}
	}
	addrs, err := harness.FreeAddrs(2)
	if err != nil {
		return err
	}
	metricsAddr, probeAddr := addrs[0], addrs[1]
	p, err := harness.StartProcess(bin, nil, "fleet", "--kubeconfig", host.Kubeconfig,
		"--metrics-bind-address", metricsAddr, "--health-probe-bind-address", probeAddr,
		"--sync-member-config", "--concurrency", "4", "--member-timeout", "2s",
		"--member-backoff", "200ms", "--member-backoff-max", "2s", "--resync-period", "1m",
		"--leader-elect", "--leader-election-namespace", "kube-system", "--zap-log-level=debug")
	if err != nil {
		return err
	}
	fleet = &harness.Ksguard{Process: p, MetricsURL: "http://" + metricsAddr + "/metrics", ReadyURL: "http://" + probeAddr + "/readyz"}
	return nil
}

// start starts the member's API server, its KubeSphere objects (a v3
// install: the stand-in ks-apiserver and ks-installer's sources, with the
// host's first jwtSecret) and its ksguard, reading the host's value from
// the ksguard host Secret, which does not exist yet: the fleet writes it.
func (m *member) start(ctx context.Context, crds string) error {
	var err error
	if m.cluster, err = harness.Start(harness.Options{}); err != nil {
		return err
	}
	c := m.cluster.Client
	if _, err := envtest.InstallCRDs(m.cluster.Config, envtest.CRDInstallOptions{Paths: []string{filepath.Join(crds, "clusterconfigurations.installer.kubesphere.io.yaml")}}); err != nil {
		return fmt.Errorf("installing the ClusterConfiguration CRD: %w", err)
	}
	for _, ns := range []string{ksNS, ksguardNS} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return err
		}
	}
	if err := c.Create(ctx, harness.StandInDeployment(ksNS, "ks-apiserver")); err != nil {
		return err
	}
	for _, obj := range harness.InstallerSources(firstJWT) {
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("ks-installer's sources: %w", err)
		}
	}
	m.ksguard, err = m.cluster.StartKsguard(ctx, bin, nil, "--host-secret", hostJWTNS,
		"--restart-min-interval", "1s", "--zap-log-level=debug")
	return err
}

// hostDocument and memberDocument are a v3 host's and member's
// kubesphere.yaml (ks-installer v3.4.1 renders) with the given jwtSecret.
func hostDocument(secret string) string {
	return "authentication:\n  maximumClockSkew: 10s\n  jwtSecret: \"" + secret + "\"\nmulticluster:\n  clusterRole: host\n"
}

func memberDocument(secret string) string {
	return "authentication:\n  maximumClockSkew: 10s\n  jwtSecret: \"" + secret +
		"\"\n  oauthOptions:\n    accessTokenMaxAge: 0s\nmulticluster:\n  clusterRole: member\n"
}

// kubeconfigAt is the kubeconfig file's current context pointed at server.
func kubeconfigAt(file, server string) ([]byte, error) {
	c, err := clientcmd.LoadFromFile(file)
	if err != nil {
		return nil, err
	}
	for _, cl := range c.Clusters {
		cl.Server = server
	}
	return clientcmd.Write(*c)
}

// closedAddr is a 127.0.0.1 address nothing listens on.
func closedAddr() string {
	addr, err := harness.FreeAddr()
	if err != nil {
		panic(err)
	}
	return addr
}

func mustRead(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return b
}

// leaks returns the secrets (as written, base64, or hex SHA-256) found in s.
func leaks(s string) []string {
	var found []string
	for _, secret := range allSecrets {
		for _, form := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret)), sha256Hex(secret)} {
			if strings.Contains(s, form) {
				found = append(found, form)
			}
		}
	}
	return found
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
