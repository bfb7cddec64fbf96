package policyreload

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ksguard/ksguard/internal/metrics"
	"github.com/ksguard/ksguard/internal/validate"
)

// sources are the files of one run of TestReload, for one policy mode:
// allow lets the test's request through, deny refuses it.
type sources struct {
	mode, allow, deny string
}

var modes = []sources{
	{validate.PolicyModeReplace, "package ksguard.admission\n\ndeny := set()\n", "package ksguard.admission\n\ndeny contains \"no writes today\" if true\n"},
	{validate.PolicyModeAdditive, "package ksguard.admission\n\nmine if false\n", "package ksguard.admission\n\nviolation contains \"no writes today\" if true\n"},
}

func TestReload(t *testing.T) {
	for _, m := range modes {
		t.Run(m.mode, func(t *testing.T) { testReload(t, m) })
	}
}

func testReload(t *testing.T, m sources) {
	ctx := context.Background()
	dir := t.TempDir()
	write(t, dir, "a.rego", m.allow)
	pol, digest, err := Load(ctx, dir, m.mode)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := validate.NewFingerprinter()
	if err != nil {
		t.Fatal(err)
	}
	ev := validate.NewEvaluator(pol, validate.DefaultOptions(), fp)
	var logs strings.Builder
	r := New(dir, m.mode, digest, ev, time.Hour, funcr.New(func(p, a string) { logs.WriteString(p + a + "\n") }, funcr.Options{}))
	success := func() float64 {
		return testutil.ToFloat64(metrics.PolicyReloads.WithLabelValues(metrics.ReloadSuccess))
	}
	failure := func() float64 {
		return testutil.ToFloat64(metrics.PolicyReloads.WithLabelValues(metrics.ReloadFailure))
	}
	s0, f0 := success(), failure()
	req := validate.Request{Operation: "CREATE"}
	if d, err := ev.Decide(ctx, req); err != nil || !d.Allowed {
		t.Fatalf("the first policy denies: %+v, %v", d, err)
	}

	t.Run("unchanged files are not recompiled", func(t *testing.T) {
		r.Reload(ctx)
		if ev.Policy() != pol || success() != s0 {
			t.Fatal("an unchanged directory was reloaded")
		}
	})
	t.Run("a change is compiled and served", func(t *testing.T) {
		write(t, dir, "a.rego", m.deny)
		r.Reload(ctx)
		if ev.Policy() == pol || success() != s0+1 {
			t.Fatal("the change was not served")
		}
		d, err := ev.Decide(ctx, req)
		if err != nil || d.Allowed {
			t.Fatalf("the new policy does not deny: %+v, %v", d, err)
		}
	})
	t.Run("a broken change keeps the last good policy", func(t *testing.T) {
		good := ev.Policy()
		write(t, dir, "b.rego", "package ksguard.admission\n\ndeny contains x if {\n")
		r.Reload(ctx)
		r.Reload(ctx) // the same broken files are reported once
		if ev.Policy() != good || failure() != f0+1 {
			t.Fatalf("policy swapped or failure not counted once (failures %v)", failure()-f0)
		}
		if !strings.Contains(logs.String(), "b.rego:4") {
			t.Errorf("the compiler's message is not logged:\n%s", logs.String())
		}
	})
	t.Run("an empty directory keeps the last good policy", func(t *testing.T) {
		good := ev.Policy()
		for _, f := range []string{"a.rego", "b.rego"} {
			if err := os.Remove(filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		}
		r.Reload(ctx)
		if ev.Policy() != good || failure() != f0+2 {
			t.Fatal("an empty directory replaced the policy or was not counted")
		}
	})
	if m.mode != validate.PolicyModeAdditive {
		return
	}
	t.Run("a redefined built-in rule keeps the last good policy", func(t *testing.T) {
		good := ev.Policy()
		write(t, dir, "weak.rego", "package ksguard.admission\n\nbreak_glass if true\n")
		r.Reload(ctx)
		if ev.Policy() != good || failure() != f0+3 {
			t.Fatal("a weakening file was served or not counted")
		}
		if !strings.Contains(logs.String(), "weak.rego:3: rule break_glass is a built-in rule") {
			t.Errorf("the refusal is not logged:\n%s", logs.String())
		}
	})
}

func TestLoadReportsCompileErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bad.rego", "package ksguard.admission\n\nallow if {\n")
	for _, mode := range validate.PolicyModes {
		t.Run(mode, func(t *testing.T) {
			if _, _, err := Load(context.Background(), dir, mode); err == nil || !strings.Contains(err.Error(), "bad.rego:4") {
				t.Fatalf("err = %v, want the compiler's message with file and line", err)
			}
		})
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
