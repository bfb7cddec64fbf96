package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// startupResult is what the starts of ksguard serve measured.
type startupResult struct {
	ready []time.Duration // from the exec to the first passing /readyz, sorted
	idle  []int64         // RSS once ready and idle for cfg.idle, sorted
}

// startup times ksguard serve from its start (the exec) to its first
// passing /readyz (webhook server listening, policy compiled, host Secret
// read, caches synced), polling every 2 ms, then reads its RSS after
// cfg.idle without a write; cfg.starts times.
func (r *runner) startup(ctx context.Context) (startupResult, error) {
	var res startupResult
	for range r.cfg.starts {
		start := time.Now()
		k, err := r.cluster.RunKsguard(r.bin, nil, "--host-secret", guardedNS+"/"+hostSecretName)
		if err != nil {
			return res, err
		}
		err = k.WaitReady(ctx, 2*time.Millisecond)
		took := time.Since(start)
		var rss int64
		if err == nil {
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-time.After(r.cfg.idle): // idle on purpose: nothing to wait for
			}
			if err == nil {
				rss, _, err = memory(k.PID())
			}
		}
		if stopErr := k.Stop(); err == nil && stopErr != nil {
			err = fmt.Errorf("stopping ksguard: %w", stopErr)
		}
		if err != nil {
			return res, fmt.Errorf("%w; ksguard's log:\n%s", err, k.Logs())
		}
		res.ready, res.idle = append(res.ready, took), append(res.idle, rss)
	}
	slices.Sort(res.ready)
	slices.Sort(res.idle)
	return res, nil
}
