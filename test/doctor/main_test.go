// Package doctor tests `ksguard doctor` end to end: the real binary against
// two real API servers (envtest), a KubeSphere host and a member, the member
// guarded by a real `ksguard serve` behind the chart's webhook
// configurations. Both clusters start once, here, and are shared.
package doctor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ksguard/ksguard/test/harness"
)

// The secrets of the test: the host's, a member's drifted one, and an
// outdated one for ksguard's host Secret. No output may hold any of them.
const (
	hostJWT   = "host-jwt-Hq7Wm2Kx9Lp4Rt6Vz1Bn3Cs8"
	driftJWT  = "drift-jwt-Dq2Ws5Ex8Rc1Tv4Yb7Un0Im"
	staleJWT  = "stale-jwt-Sq9Aw8Ze7Xr6Dc5Fv4Gt3By"
	ksNS      = "kubesphere-system"
	ksguardNS = "ksguard-system"
)

var allSecrets = []string{hostJWT, driftJWT, staleJWT}

var (
	host, member *harness.Cluster
	ksguard      *harness.Ksguard
	bin          string
	// kubeconfig holds the contexts "host" and "member-a".
	kubeconfig string
)

func TestMain(m *testing.M) {
	os.Exit(harness.RunMain(m, "ksguard-doctor-", setUp, tearDown))
}

// tearDown stops what setUp started.
func tearDown() {
	if ksguard != nil {
		_ = ksguard.Stop()
	}
	harness.StopCluster(host)
	harness.StopCluster(member)
}

func setUp(tmp string) error {
	var err error
	if bin, err = harness.Build(tmp); err != nil {
		return err
	}
	if host, err = harness.Start(harness.Options{NoWebhooks: true}); err != nil {
		return fmt.Errorf("the host cluster: %w", err)
	}
	if member, err = harness.Start(harness.Options{}); err != nil {
		return fmt.Errorf("the member cluster: %w", err)
	}
	if _, err := envtest.InstallCRDs(host.Config, envtest.CRDInstallOptions{Paths: []string{"testdata/crds/clusters.cluster.kubesphere.io.yaml"}}); err != nil {
		return fmt.Errorf("installing the Cluster CRD on the host: %w", err)
	}
	if _, err := envtest.InstallCRDs(member.Config, envtest.CRDInstallOptions{Paths: []string{"testdata/crds/clusterconfigurations.installer.kubesphere.io.yaml"}}); err != nil {
		return fmt.Errorf("installing the ClusterConfiguration CRD on the member: %w", err)
	}
	ctx := context.Background()
	for _, c := range []*harness.Cluster{host, member} {
		if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ksNS}}); err != nil {
			return err
		}
	}
	if err := member.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ksguardNS}}); err != nil {
		return err
	}
	// The host: its own config and its Cluster objects, the member's with
	// the member's kubeconfig, as KubeSphere keeps them.
	if err := host.Client.Create(ctx, harness.KubeSphereConfig(hostDocument(hostJWT), nil)); err != nil {
		return fmt.Errorf("the host's kubesphere-config: %w", err)
	}
	memberKubeconfig, err := os.ReadFile(member.Kubeconfig)
	if err != nil {
		return err
	}
	for _, cl := range []*unstructured.Unstructured{
		harness.ClusterObject("host", nil, true),
		harness.ClusterObject("member-a", memberKubeconfig, false),
	} {
		if err := host.Client.Create(ctx, cl); err != nil {
			return fmt.Errorf("Cluster %s: %w", cl.GetName(), err)
		}
	}
	// The member: ksguard with the host's jwtSecret.
	if err := member.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ksguardNS, Name: "ksguard-host-jwt"},
		Data:       map[string][]byte{"jwtSecret": []byte(hostJWT)},
	}); err != nil {
		return err
	}
	if ksguard, err = member.StartKsguard(ctx, bin, nil, "--host-secret", ksguardNS+"/ksguard-host-jwt", "--restart-target", "none"); err != nil {
		return err
	}
	kubeconfig = filepath.Join(tmp, "kubeconfig")
	return writeKubeconfig(kubeconfig, map[string]string{"host": host.Kubeconfig, "member-a": member.Kubeconfig})
}

// writeKubeconfig merges the current contexts of several kubeconfig files
// into one file, under the names given.
func writeKubeconfig(path string, contexts map[string]string) error {
	out := clientcmdapi.NewConfig()
	for name, file := range contexts {
		c, err := clientcmd.LoadFromFile(file)
		if err != nil {
			return err
		}
		ctx := c.Contexts[c.CurrentContext]
		out.Clusters[name] = c.Clusters[ctx.Cluster]
		out.AuthInfos[name] = c.AuthInfos[ctx.AuthInfo]
		out.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	}
	out.CurrentContext = "host"
	return clientcmd.WriteToFile(*out, path)
}
