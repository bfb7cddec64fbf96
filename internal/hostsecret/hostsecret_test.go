package hostsecret

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ksguard/ksguard/internal/metrics"
)

const secret = "host-jwt-0123456789"

func TestFromSecret(t *testing.T) {
	for _, tc := range []struct {
		name    string
		data    map[string][]byte
		value   string
		problem string
	}{
		{name: "value", data: map[string][]byte{Key: []byte(secret)}, value: secret},
		{name: "trailing newline is dropped", data: map[string][]byte{Key: []byte(secret + "\n")}, value: secret},
		{name: "CRLF is dropped", data: map[string][]byte{Key: []byte(secret + "\r\n")}, value: secret},
		{name: "only one newline is dropped", data: map[string][]byte{Key: []byte(secret + "\n\n")}, value: secret + "\n"},
		{name: "no key", data: map[string][]byte{"other": []byte(secret)}, problem: "Secret ns/host has no key jwtSecret"},
		{name: "empty", data: map[string][]byte{Key: []byte("\n")}, problem: "key jwtSecret of Secret ns/host is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := FromSecret(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "host"}, Data: tc.data})
			if string(h.Value) != tc.value || !strings.Contains(h.Problem, tc.problem) || (tc.problem == "") != (h.Problem == "") {
				t.Errorf("got value %q problem %q", h.Value, h.Problem)
			}
			if h.Source != "Secret ns/host" {
				t.Errorf("source = %q", h.Source)
			}
			if strings.Contains(h.Problem, secret) {
				t.Error("the problem shows the secret")
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	good, empty := filepath.Join(dir, "good"), filepath.Join(dir, "empty")
	writeFile(t, good, secret+"\n")
	writeFile(t, empty, "")
	if h, err := ReadFile(good); err != nil || string(h.Value) != secret {
		t.Errorf("good: %q, %v", h.Value, err)
	}
	if h, err := ReadFile(empty); err != nil || h.Value != nil || !strings.Contains(h.Problem, "is empty") {
		t.Errorf("empty: %+v, %v", h, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file read without error")
	}
}

// TestFileSource: the source follows the file as it appears, changes and
// disappears, keeps the gauge in step, and never logs the value.
func TestFileSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, Key)
	var logs strings.Builder
	log := funcr.New(func(prefix, args string) { logs.WriteString(prefix + args + "\n") }, funcr.Options{})
	f := NewFile(path, time.Hour, log)
	if h := f.HostSecret(); h.Value != nil || !strings.Contains(h.Problem, "no such file") {
		t.Fatalf("before the file exists: %+v", h)
	}
	if g := testutil.ToFloat64(metrics.HostSecretAvailable); g != 0 {
		t.Errorf("gauge = %v, want 0", g)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = f.Start(ctx) }()

	for _, want := range []string{secret, secret + "-rotated"} {
		waitFor(t, func() bool {
			writeFile(t, path, want+"\n")
			return string(f.HostSecret().Value) == want
		})
		if g := testutil.ToFloat64(metrics.HostSecretAvailable); g != 1 {
			t.Errorf("gauge = %v, want 1", g)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return f.HostSecret().Value == nil })
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the log shows the secret:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "the host's jwtSecret changed") {
		t.Errorf("the rotation was not logged:\n%s", logs.String())
	}
}

func TestWeak(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value string
		weak  bool
	}{
		{name: "missing", value: "", weak: false},
		{name: "one letter", value: "n", weak: true},
		{name: "a word", value: "kubesphere", weak: true},
		{name: "31 characters", value: strings.Repeat("x", 31), weak: true},
		{name: "as KubeSphere generates", value: "gfIwilcc0WjNGKJ5DLeksf2JKfcLgTZU", weak: false},
		{name: "longer", value: strings.Repeat("x", 64), weak: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Weak([]byte(tc.value)); got != tc.weak {
				t.Errorf("Weak(%q) = %v, want %v", tc.value, got, tc.weak)
			}
		})
	}
	w := WeakWarning("file /run/host/jwtSecret", 10)
	for _, s := range []string{"file /run/host/jwtSecret", "is weak", "its length is 10", "32 random characters"} {
		if !strings.Contains(w, s) {
			t.Errorf("WeakWarning lacks %q: %s", s, w)
		}
	}
}

// TestWeakLoggedOncePerValue: a weak host value is logged once each time it
// is loaded (again after a change, not on a re-read of the same value), with
// its length and never the value; a strong one is not.
func TestWeakLoggedOncePerValue(t *testing.T) {
	const weak, otherWeak, strong = "weak-host-value-Zq", "other-weak-value", "gfIwilcc0WjNGKJ5DLeksf2JKfcLgTZU"
	dir := t.TempDir()
	path := filepath.Join(dir, Key)
	writeFile(t, path, weak+"\n")
	var logs strings.Builder
	log := funcr.New(func(prefix, args string) { logs.WriteString(prefix + args + "\n") }, funcr.Options{})
	f := NewFile(path, time.Hour, log)
	for _, step := range []struct {
		name    string
		content string // written before the source reads the file again; "" removes it
		count   int    // weak-value lines logged so far
		length  string // in the last one
	}{
		{name: "first load", content: weak, count: 1, length: `"length"=18`},
		{name: "the same value read again", content: weak, count: 1},
		{name: "another weak value", content: otherWeak, count: 2, length: `"length"=16`},
		{name: "a strong value", content: strong, count: 2},
		{name: "the file goes", content: "", count: 2},
		{name: "the first weak value again", content: weak, count: 3, length: `"length"=18`},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.name != "first load" {
				if step.content == "" {
					if err := os.Remove(path); err != nil {
						t.Fatal(err)
					}
				} else {
					writeFile(t, path, step.content+"\n")
				}
				f.load()
			}
			lines := weakLines(logs.String())
			if len(lines) != step.count {
				t.Fatalf("%d weak-value lines, want %d:\n%s", len(lines), step.count, logs.String())
			}
			if step.length != "" && !strings.Contains(lines[len(lines)-1], step.length) {
				t.Errorf("the weak-value line lacks %s: %s", step.length, lines[len(lines)-1])
			}
		})
	}
	for _, s := range []string{weak, otherWeak, strong} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log shows a host value (%q):\n%s", s, logs.String())
		}
	}
}

// weakLines returns the lines of logs that report a weak host value.
func weakLines(logs string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "jwtSecret is weak") {
			out = append(out, l)
		}
	}
	return out
}

// writeFile replaces path atomically, as the kubelet updates a mounted
// Secret: a reader never sees it half-written.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// waitFor retries cond until it holds, for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
