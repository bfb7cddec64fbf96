package filewatch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

func TestRunCallsBackOnWrite(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := make(chan struct{}, 16)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, logr.Discard(), dir, time.Hour, func() { calls <- struct{}{} })
	}()
	// Keep writing until the watcher reports: the watch may start after the
	// first write.
	deadline := time.After(10 * time.Second)
	for i := 0; ; i++ {
		if err := os.WriteFile(filepath.Join(dir, "a.rego"), []byte{byte(i)}, 0o600); err != nil {
			t.Fatal(err)
		}
		select {
		case <-calls:
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			return
		case <-deadline:
			t.Fatal("no callback after writing a file")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func TestRunPolls(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := make(chan struct{}, 16)
	go func() { _ = Run(ctx, logr.Discard(), t.TempDir(), 10*time.Millisecond, func() { calls <- struct{}{} }) }()
	select {
	case <-calls:
	case <-time.After(10 * time.Second):
		t.Fatal("no poll callback")
	}
}

func TestRunMissingDir(t *testing.T) {
	err := Run(context.Background(), logr.Discard(), filepath.Join(t.TempDir(), "nope"), time.Hour, func() {})
	if err == nil {
		t.Fatal("watching a missing directory succeeded")
	}
}
