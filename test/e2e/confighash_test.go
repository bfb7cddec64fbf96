package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksguard/ksguard/internal/restart"
	"github.com/ksguard/ksguard/test/harness"
)

// unkeyedDigest is the config hash ksguard published before it was keyed:
// SHA-256 of the data, 16 hex digits. Anyone can compute it from a guess
// of the jwtSecret, so it must appear nowhere.
func unkeyedDigest(cm *corev1.ConfigMap) string {
	h := sha256.New()
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "d%d:%s%d:%s", len(k), k, len(cm.Data[k]), cm.Data[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// TestConfigHashKeyed: the config hash on the Deployment, in Events, logs
// and metrics is keyed with the config-hash key; an older ksguard's unkeyed
// digest is replaced without a roll; another key is adopted without a
// roll; without a key the restart signal does not start.
func TestConfigHashKeyed(t *testing.T) {
	c, _ := newClient(t)
	doc := strings.Replace(document(t, hostJWT, "0s"), "timeout: 600", "timeout: 900", 1)
	k := startKsguard(t, "--host-secret", guardedNS+"/"+secretName, "--restart-target=none")
	if err := put(c, doc); err != nil {
		t.Fatal(err)
	}
	if err := k.Stop(); err != nil {
		t.Fatal(err)
	}
	logs := []string{k.Logs()}
	createDeployment(t, "ks-apiserver")
	legacy := unkeyedDigest(storedConfig(t))
	setRecorded(t, legacy) // as an older ksguard left it, for this very config

	k = startKsguard(t, "--host-secret", guardedNS+"/"+secretName, "--restart-min-interval", "0s")
	t.Run("an unkeyed digest left by an older ksguard is replaced, without a roll", func(t *testing.T) {
		s := waitRolledFor(t, "ks-apiserver", storedHash(t))
		if s.restartedAt != "" || metric(t, k, "ksguard_restarts_total") != 0 {
			t.Fatalf("replacing the unkeyed digest rolled the Deployment: %+v", s)
		}
		waitAudited(t, k, storedHash(t))
	})
	t.Run("a change after it rolls once, keyed", func(t *testing.T) {
		if err := put(c, strings.Replace(doc, "timeout: 900", "timeout: 901", 1)); err != nil {
			t.Fatal(err)
		}
		s := waitRolledFor(t, "ks-apiserver", storedHash(t))
		if s.restartedAt == "" {
			t.Fatalf("not rolled: %+v", s)
		}
		waitEvent(t, "ks-apiserver", "Restarted", "config hash hmac-sha256:")
		logs = append(logs, scrape(t, k))
	})
	t.Run("another key is adopted without a roll", func(t *testing.T) {
		if err := k.Stop(); err != nil {
			t.Fatal(err)
		}
		logs = append(logs, k.Logs())
		before := deploymentState(t, "ks-apiserver")
		other := filepath.Join(t.TempDir(), "key")
		if err := os.WriteFile(other, []byte("another-config-hash-key-0123456789"), 0o600); err != nil {
			t.Fatal(err)
		}
		k = startKsguardFor(t, t, "--host-secret", guardedNS+"/"+secretName, "--restart-min-interval", "0s", "--config-hash-key-file", other)
		s := waitRolledFor(t, "ks-apiserver", hasher(t, other).Hash(storedConfig(t)))
		if s.restartedAt != before.restartedAt {
			t.Fatalf("a new key rolled the Deployment: %+v, before %+v", s, before)
		}
		waitEvent(t, "ks-apiserver", "ConfigAdopted", "made with another config-hash key")
		if err := k.Stop(); err != nil {
			t.Fatal(err)
		}
		logs = append(logs, k.Logs())
	})
	t.Run("without a key, only --restart-target=none starts, and no hash is exported", func(t *testing.T) {
		_, err := cluster.StartKsguard(ctx, bin, nil, "--host-secret", guardedNS+"/"+secretName, "--config-hash-key-file=")
		if err == nil || !strings.Contains(err.Error(), "--restart-target=auto needs --config-hash-key-file") {
			t.Fatalf("ksguard without a key: %v", err)
		}
		k := startKsguardFor(t, t, "--host-secret", guardedNS+"/"+secretName, "--config-hash-key-file=", "--restart-target=none")
		eventually(t, "the stored config is audited", func() error {
			if !strings.Contains(k.Logs(), "Starting workers") {
				return fmt.Errorf("the controller has not started")
			}
			return nil
		})
		if body := scrape(t, k); strings.Contains(body, "ksguard_config_info{") {
			t.Errorf("without a key ksguard exports a config hash:\n%s", grepLines(body, "ksguard_config_info"))
		}
		if err := k.Stop(); err != nil {
			t.Fatal(err)
		}
		logs = append(logs, k.Logs())
	})
	t.Run("no unkeyed digest anywhere", func(t *testing.T) {
		var out []string
		d := &appsv1.Deployment{}
		if err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: guardedNS, Name: "ks-apiserver"}, d); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(d.Annotations, d.Spec.Template.Annotations))
		var list eventsv1.EventList
		if err := cluster.Client.List(ctx, &list, client.InNamespace(guardedNS)); err != nil {
			t.Fatal(err)
		}
		for _, e := range list.Items {
			out = append(out, e.Note)
		}
		out = append(out, logs...)
		all := strings.Join(out, "\n")
		for _, cm := range []*corev1.ConfigMap{storedConfig(t), configMap(guardedNS, guardedName, doc)} {
			if digest := unkeyedDigest(cm); strings.Contains(all, digest) {
				t.Errorf("the unkeyed digest %s of the config appears in the Deployment, an Event or a log", digest)
			}
		}
		if strings.Contains(all, legacy) {
			t.Errorf("the unkeyed digest the Deployment recorded is still somewhere")
		}
	})
}

// setRecorded sets the config hash recorded on the ks-apiserver Deployment.
func setRecorded(t *testing.T, hash string) {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := cluster.Client.Get(ctx, client.ObjectKey{Namespace: guardedNS, Name: "ks-apiserver"}, d); err != nil {
		t.Fatal(err)
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[restart.HashAnnotation] = hash
	if err := cluster.Client.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
}

// scrape returns ksguard's /metrics.
func scrape(t *testing.T, k *harness.Ksguard) string {
	t.Helper()
	resp, err := http.Get(k.MetricsURL)
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

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
