package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
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
	var out bytes.Buffer
	if err := run(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	for _, want := range []string{"| no webhook |", "| no-op webhook |", "| ksguard serve |", "reviews/s"} {
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
