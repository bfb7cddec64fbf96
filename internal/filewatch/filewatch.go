// Package filewatch tells when files may have changed: it watches a
// directory with inotify (through fsnotify) and also polls, because mounted
// ConfigMaps and Secrets change by swapping a symlink, and some filesystems
// send no events at all. Callers compare content themselves: a call means
// "look again", not "something changed".
package filewatch

import (
	"context"
	"fmt"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/go-logr/logr"
)

// DefaultPollInterval is how often Run calls back without an event.
const DefaultPollInterval = 10 * time.Second

// settle is how long Run waits after an event for the rest of its burst
// (an editor's save, a symlink swap) before calling back once. It is
// counted from the first event, so a steady stream of writes still gets
// callbacks.
const settle = 100 * time.Millisecond

// Run calls changed whenever something in dir may have changed, and every
// poll interval, until ctx is done. It returns an error only if dir cannot
// be watched at all.
func Run(ctx context.Context, log logr.Logger, dir string, poll time.Duration, changed func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching %s: %w", dir, err)
	}
	defer w.Close()
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("watching %s: %w", dir, err)
	}
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	pending := time.NewTimer(settle)
	pending.Stop()
	waiting := false // a callback is scheduled; later events join it
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			log.V(1).Info("file event", "dir", dir, "event", ev.String())
			if !waiting {
				waiting = true
				pending.Reset(settle)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			log.Error(err, "watching files; polling continues", "dir", dir)
		case <-pending.C:
			waiting = false
			changed()
		case <-ticker.C:
			changed()
		}
	}
}
