package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/pprof/profile"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ksguard/ksguard/internal/admission"
	"github.com/ksguard/ksguard/internal/validate"
	"github.com/ksguard/ksguard/internal/validate/validatetest"
)

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	os.Exit(m.Run())
}

// TestSmoke runs the harness with a few writes: it works and prints its
// tables. No figure is asserted: speed is measured by `make bench-load`.
func TestSmoke(t *testing.T) {
	cfg := defaultConfig()
	cfg.rounds, cfg.writes, cfg.warmup, cfg.direct, cfg.concurrency = 1, 4, 1, 20, 2
	cfg.profileDir, cfg.profileFor, cfg.starts, cfg.idle = t.TempDir(), time.Second, 2, 100*time.Millisecond
	var out bytes.Buffer
	if err := run(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	for _, name := range []string{"ksguard-cpu.pprof", "ksguard-heap.pprof"} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join(cfg.profileDir, name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			p, err := profile.Parse(f)
			if err != nil || len(p.Sample) == 0 && strings.HasSuffix(name, "heap.pprof") {
				t.Errorf("not a profile with samples: %v", err)
			}
		})
	}
	for _, want := range []string{"| no webhook |", "| no-op webhook |", "| ksguard serve |", "reviews/s", "start to ready", "RSS idle", "the stack's floor", `ksguard_decision_sources_total{source="joined",webhook="validate"}`} {
		t.Run(strings.Trim(want, "| "), func(t *testing.T) {
			if !strings.Contains(out.String(), want) {
				t.Errorf("the output has no %q", want)
			}
		})
	}
	if strings.Contains(out.String(), cfg.hostSecret) {
		t.Error("the output shows the host's jwtSecret")
	}
}

// TestDirectReviewsAreNewWrites: the direct mode's reviews are what the API
// server sends for writes that each store a new text: every write's text is
// new, each validating review carries exactly what ksguard's mutation makes
// of the mutating review before it, and each old object is the previous
// write as stored.
func TestDirectReviewsAreNewWrites(t *testing.T) {
	r := &runner{cfg: defaultConfig()}
	bodies, err := r.reviews(7)
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 7 {
		t.Fatalf("%d reviews, want 7", len(bodies))
	}
	ev := validatetest.NewEvaluator(t)
	host := validate.HostSecret{Value: []byte(r.cfg.hostSecret), Source: "test"}
	seen := map[string]bool{}
	var mutatedText, storedText string
	for i, b := range bodies {
		review, err := admission.DecodeReview(b, true)
		if err != nil {
			t.Fatal(err)
		}
		req, err := admission.ToRequest(review.Request, host)
		if err != nil {
			t.Fatal(err)
		}
		text, old := req.Object.Data[validate.ConfigKey], req.OldObject.Data[validate.ConfigKey]
		if i%2 == 0 {
			if seen[text] {
				t.Errorf("review %d writes a text written before", i)
			}
			seen[text] = true
			if i > 0 && old != mutatedText {
				t.Errorf("review %d: the old object is not the previous write as stored", i)
			}
			d, err := ev.Decide(context.Background(), req)
			if err != nil || !d.Allowed {
				t.Fatalf("review %d: %v %+v", i, err, d.Denials)
			}
			mutatedText, storedText = text, old
			if d.Document != nil {
				mutatedText = string(d.Document)
			}
			continue
		}
		if text != mutatedText || old != storedText {
			t.Errorf("review %d is not the validating review of the write before it (ksguard's mutation of its text, the same old object)", i)
		}
	}
}
