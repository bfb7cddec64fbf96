package doctor

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ksCoreRelease is the Helm release a KubeSphere v4 host installs on each
// member (kubesphere/kubesphere v4.1.3 pkg/controller/cluster/helper.go
// installKSCoreInMemberCluster), with authentication.issuer.jwtSecret set
// to the host's value.
const ksCoreRelease = "ks-core"

// maxReleaseBytes bounds a decompressed Helm release.
const maxReleaseBytes = 32 << 20

// helmValues reads the user-supplied values of the deployed revision of
// release from Helm's storage in namespace (Secrets of type
// helm.sh/release.v1, labelled owner=helm, name, status and version; the
// release is JSON, gzipped, base64-encoded: helm.sh/helm/v3
// pkg/storage/driver). It returns nil values when there is no such release.
func helmValues(ctx context.Context, c client.Client, namespace, release string) (map[string]any, error) {
	list := &corev1.SecretList{}
	if err := c.List(ctx, list, client.InNamespace(namespace),
		client.MatchingLabels{"owner": "helm", "name": release, "status": "deployed"}); err != nil {
		return nil, fmt.Errorf("listing Helm release %s's Secrets in %s: %w", release, namespace, err)
	}
	var newest *corev1.Secret
	newestVersion := -1
	for i := range list.Items {
		v, err := strconv.Atoi(list.Items[i].Labels["version"])
		if err == nil && v > newestVersion {
			newest, newestVersion = &list.Items[i], v
		}
	}
	if newest == nil {
		return nil, nil
	}
	return decodeHelmRelease(newest.Data["release"])
}

// decodeHelmRelease returns the "config" (user-supplied values) of a
// release as Helm stores it.
func decodeHelmRelease(stored []byte) (map[string]any, error) {
	gz, err := base64.StdEncoding.DecodeString(string(stored))
	if err != nil {
		return nil, fmt.Errorf("the Helm release is not base64: %w", err)
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("the Helm release is not gzip: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(r, maxReleaseBytes))
	if err != nil {
		return nil, fmt.Errorf("reading the Helm release: %w", err)
	}
	var rel struct {
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal(b, &rel); err != nil {
		return nil, fmt.Errorf("the Helm release is not JSON: %w", err)
	}
	if rel.Config == nil {
		rel.Config = map[string]any{}
	}
	return rel.Config, nil
}
