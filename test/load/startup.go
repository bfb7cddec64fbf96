package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// startupResult is what the starts of ksguard serve measured.
type startupResult struct {
	ready []time.Duration // from the exec to the first passing /readyz, sorted
	idle  []int64         // RSS once ready and idle for idleFor, sorted
}

// startup times ksguard serve from its start (the exec) to its first
// passing /readyz (webhook server listening, policy compiled, host Secret
// read, caches synced), polling every 2 ms, then reads its RSS after
// cfg.idle without a write; cfg.starts times.
func (r *runner) startup(ctx context.Context) (res startupResult, err error) {
	for range r.cfg.starts {
		start := time.Now()
		k, err := r.cluster.RunKsguard(r.bin, nil, "--host-secret", guardedNS+"/"+hostSecretName)
		if err != nil {
			return res, err
		}
		ready, err := pollReady(ctx, k.ReadyURL, 2*time.Millisecond, time.Minute)
		took := time.Since(start)
		var rss int64
		if err == nil && ready {
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
			return res, err
		}
		if !ready {
			return res, fmt.Errorf("ksguard was not ready within a minute; its log:\n%s", k.Logs())
		}
		res.ready, res.idle = append(res.ready, took), append(res.idle, rss)
	}
	slices.Sort(res.ready)
	slices.Sort(res.idle)
	return res, nil
}

// pollReady polls url every interval until it answers 200 or timeout passes.
func pollReady(ctx context.Context, url string, interval, timeout time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true, nil
			}
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-time.After(interval):
		}
	}
}
