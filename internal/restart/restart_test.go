package restart

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/internal/validate/validatetest"
)

const testSecret = "weak-jwt-secret"

func newTestHasher(t *testing.T, key string) *Hasher {
	t.Helper()
	h, err := NewHasher([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func testConfig() *corev1.ConfigMap {
	return &corev1.ConfigMap{Data: map[string]string{
		"kubesphere.yaml": "authentication:\n  jwtSecret: " + testSecret + "\n",
		"other":           "x",
	}}
}

// unkeyed are the unkeyed digests of cm's data anyone could compute from
// a guess of the secret: the one older versions published, and SHA-256 of
// the document.
func unkeyed(cm *corev1.ConfigMap) []string {
	doc := sha256.Sum256([]byte(cm.Data["kubesphere.yaml"]))
	return []string{legacyHash(cm), hex.EncodeToString(doc[:])}
}

func TestHash(t *testing.T) {
	h := newTestHasher(t, "a-key-of-32-random-characters-00")
	base := testConfig()
	sum := h.Hash(base)
	if !regexp.MustCompile(`^hmac-sha256:[0-9a-f]{8}:[0-9a-f]{16}$`).MatchString(sum) {
		t.Fatalf("hash %q is not hmac-sha256:KEYID:MAC", sum)
	}
	if h.Hash(base.DeepCopy()) != sum || newTestHasher(t, "a-key-of-32-random-characters-00").Hash(base) != sum {
		t.Fatalf("hash %q is not stable for one key (replicas and restarts must agree)", sum)
	}
	for _, u := range unkeyed(base) {
		if strings.Contains(sum, u[:8]) {
			t.Errorf("the hash %q contains part of an unkeyed digest %s", sum, u)
		}
	}
	if other := newTestHasher(t, "another-key-of-32-random-chars-0").Hash(base); other == sum || other[:20] == sum[:20] {
		t.Errorf("two keys give %q and %q: the hash and the key ID must depend on the key", other, sum)
	}

	t.Run("changes", func(t *testing.T) {
		for name, change := range map[string]func(*corev1.ConfigMap){
			"a value": func(c *corev1.ConfigMap) { c.Data["kubesphere.yaml"] = "a: 2\n" },
			"the jwtSecret": func(c *corev1.ConfigMap) {
				c.Data["kubesphere.yaml"] = strings.Replace(c.Data["kubesphere.yaml"], testSecret, "other", 1)
			},
			"another key": func(c *corev1.ConfigMap) { c.Data["other"] = "y" },
			"a new key":   func(c *corev1.ConfigMap) { c.Data["kubesphere.json"] = "{}" },
			"binary data": func(c *corev1.ConfigMap) { c.BinaryData = map[string][]byte{"b": {1}} },
			"key/value borders": func(c *corev1.ConfigMap) {
				c.Data = map[string]string{"kubesphere.yaml": base.Data["kubesphere.yaml"], "othe": "rx"}
			},
		} {
			t.Run(name, func(t *testing.T) {
				c := base.DeepCopy()
				change(c)
				if h.Hash(c) == sum {
					t.Error("the hash did not change")
				}
			})
		}
	})
	t.Run("metadata is not the config", func(t *testing.T) {
		annotated := base.DeepCopy()
		annotated.Annotations = map[string]string{"a": "b"}
		if h.Hash(annotated) != sum {
			t.Error("metadata changed the hash: only data is the config")
		}
	})
}

func TestNewHasher(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content, err string
	}{
		{name: "random key", content: "0123456789abcdefghijklmnopqrstuv"},
		{name: "trailing newline ignored", content: "0123456789abcdefghijklmnopqrstuv\n"},
		{name: "too short", content: "short\n", err: "needs at least 16 random bytes"},
		{name: "empty", content: "", err: "needs at least 16 random bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			h, err := ReadKeyFile(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ReadKeyFile = %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := newTestHasher(t, "0123456789abcdefghijklmnopqrstuv"); h.Hash(testConfig()) != want.Hash(testConfig()) {
				t.Error("the file's key differs from its content")
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if _, err := ReadKeyFile(filepath.Join(dir, "absent")); err == nil || !strings.Contains(err.Error(), "reading the config-hash key") {
			t.Fatalf("ReadKeyFile = %v", err)
		}
	})
}

// TestCompare: what a recorded annotation says about the current config,
// including values recorded by another key or by an older, unkeyed ksguard.
func TestCompare(t *testing.T) {
	h := newTestHasher(t, "a-key-of-32-random-characters-00")
	other := newTestHasher(t, "another-key-of-32-random-chars-0")
	cm := testConfig()
	changed := cm.DeepCopy()
	changed.Data["other"] = "y"
	for _, tc := range []struct {
		name     string
		recorded string
		want     Recorded
	}{
		{name: "nothing recorded", recorded: "", want: RecordedNone},
		{name: "this config", recorded: h.Hash(cm), want: RecordedSame},
		{name: "another config", recorded: h.Hash(changed), want: RecordedOther},
		{name: "this config, another key", recorded: other.Hash(cm), want: RecordedOtherKey},
		{name: "another config, another key", recorded: other.Hash(changed), want: RecordedOtherKey},
		{name: "legacy digest of this config", recorded: legacyHash(cm), want: RecordedLegacySame},
		{name: "legacy digest of another config", recorded: legacyHash(changed), want: RecordedOther},
		{name: "garbage", recorded: "edited-by-hand", want: RecordedOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.Compare(tc.recorded, cm); got != tc.want {
				t.Errorf("Compare(%q) = %v, want %v", tc.recorded, got, tc.want)
			}
		})
	}
}

// TestRememberIsBounded: a config written many times leaves the controller
// remembering at most maxRemembered hashes, the latest ones.
func TestRememberIsBounded(t *testing.T) {
	r := &Reconciler{Auditor: &Auditor{Evaluator: validatetest.NewEvaluator(t)}}
	r.firstSeen, r.settings, r.reported, r.templates = map[string]time.Time{}, map[string]validate.Settings{}, map[string]bool{}, map[string]string{}
	now := time.Now()
	var last string
	for i := range 5 * maxRemembered {
		cm := testConfig()
		cm.Data["kubesphere.yaml"] += "# write " + strconv.Itoa(i) + "\n"
		last = "hash-" + strconv.Itoa(i)
		r.remember(last, cm, now.Add(time.Duration(i)*time.Second))
		r.once("missing/" + last)
		r.templates[last] = "template"
	}
	if len(r.firstSeen) != maxRemembered || len(r.settings) != maxRemembered || len(r.reported) != maxRemembered || len(r.templates) != maxRemembered {
		t.Errorf("remembered %d first sights, %d settings, %d events, %d templates; want %d each",
			len(r.firstSeen), len(r.settings), len(r.reported), len(r.templates), maxRemembered)
	}
	if first := r.remember(last, testConfig(), now.Add(time.Hour)); !first.Equal(now.Add(time.Duration(5*maxRemembered-1) * time.Second)) {
		t.Errorf("the latest hash was forgotten: first seen %v", first)
	}
	if _, ok := r.firstSeen["hash-0"]; ok {
		t.Errorf("the oldest hash is still remembered")
	}
}
