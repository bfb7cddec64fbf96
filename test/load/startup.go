package main

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"time"
)

// startupResult is what the starts of ksguard serve measured.
type startupResult struct {
	ready []time.Duration // from the exec to the first passing /readyz, sorted
	idle  []int64         // RSS once ready and idle for cfg.idle, sorted
	floor int64           // the stack alone (test/load/floor): RSS idle for cfg.idle
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
	var err error
	res.floor, err = r.floorRSS(ctx)
	return res, err
}

// floorRSS starts test/load/floor, waits for its "ready", lets it idle for
// cfg.idle and returns its RSS.
func (r *runner) floorRSS(ctx context.Context) (int64, error) {
	cmd := exec.CommandContext(ctx, r.floor)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting the floor: %w", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		return 0, fmt.Errorf("the floor did not print ready: %q, %v", line, err)
	}
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(r.cfg.idle): // idle on purpose, as ksguard's starts
	}
	rss, _, err := memory(cmd.Process.Pid)
	return rss, err
}
