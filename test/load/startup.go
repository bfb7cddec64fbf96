package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// startups is how many times the startup of ksguard serve is timed.
const startups = 5

// startup times ksguard serve from its start (the exec) to its first
// passing /readyz (webhook server listening, policy compiled, host Secret
// read, caches synced), polling every 2 ms, startups times; it returns the
// times sorted.
func (r *runner) startup(ctx context.Context) ([]time.Duration, error) {
	var out []time.Duration
	for range startups {
		start := time.Now()
		k, err := r.cluster.RunKsguard(r.bin, nil, "--host-secret", guardedNS+"/"+hostSecretName)
		if err != nil {
			return nil, err
		}
		ready, err := pollReady(ctx, k.ReadyURL, 2*time.Millisecond, time.Minute)
		took := time.Since(start)
		if stopErr := k.Stop(); err == nil && stopErr != nil {
			err = fmt.Errorf("stopping ksguard: %w", stopErr)
		}
		if err != nil {
			return nil, err
		}
		if !ready {
			return nil, fmt.Errorf("ksguard was not ready within a minute; its log:\n%s", k.Logs())
		}
		out = append(out, took)
	}
	slices.Sort(out)
	return out, nil
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
