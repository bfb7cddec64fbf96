package main

import (
	"context"
	"fmt"
	"time"
)

// roundResult is what one contender's turn in one round measured.
type roundResult struct {
	latencies []time.Duration // per measured write, as the client saw it
	own       histSnapshot    // the server's own time per review, over the measured writes
	cpu       time.Duration   // the server's CPU time over the measured writes
	rss, peak int64           // at the end of the turn
	conns     int             // connections the server accepted in its turn
}

// rounds runs cfg.rounds rounds; in each every contender takes a turn, the
// order rotating by one each round. It returns the turns per contender.
func (r *runner) rounds(ctx context.Context, cs []contender) (map[string][]roundResult, error) {
	out := map[string][]roundResult{}
	for round := 0; round < r.cfg.rounds; round++ {
		for i := range cs {
			c := cs[(i+round)%len(cs)]
			res, err := r.turn(ctx, c)
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", round+1, c.name, err)
			}
			out[c.name] = append(out[c.name], res)
		}
	}
	return out, nil
}

// turn starts c's server, switches the webhooks to it, waits until the API
// server calls it, and measures cfg.writes writes.
func (r *runner) turn(ctx context.Context, c contender) (res roundResult, err error) {
	var s *server
	if c.start != nil {
		if s, err = c.start(ctx); err != nil {
			return res, err
		}
		defer func() {
			if stopErr := s.stop(); stopErr != nil && err == nil {
				err = fmt.Errorf("stopping: %w", stopErr)
			}
		}()
	}
	var sampler *connSampler
	if s != nil && s.connsMetric == "" {
		sampler = sampleConns(portOf(s.addr), r.cfg.sample)
		defer sampler.count()
	}
	if err := r.install(ctx, s); err != nil {
		return res, err
	}
	if err := r.waitSwitched(ctx, s); err != nil {
		return res, err
	}
	for range r.cfg.warmup {
		if _, err := r.write(ctx); err != nil {
			return res, err
		}
	}
	var before histSnapshot
	var cpu0 time.Duration
	if s != nil {
		if before, _, err = s.reviews(); err != nil {
			return res, err
		}
		if cpu0, err = cpuTime(s.pid); err != nil {
			return res, err
		}
	}
	for range r.cfg.writes {
		took, err := r.write(ctx)
		if err != nil {
			return res, err
		}
		res.latencies = append(res.latencies, took)
	}
	if s == nil {
		return res, nil
	}
	cpu1, err := cpuTime(s.pid)
	if err != nil {
		return res, err
	}
	res.cpu = cpu1 - cpu0
	if res.rss, res.peak, err = memory(s.pid); err != nil {
		return res, err
	}
	after, conns, err := s.reviews()
	if err != nil {
		return res, err
	}
	res.own = after.sub(before)
	if sampler != nil {
		res.conns = sampler.count()
	} else {
		res.conns = int(conns)
	}
	return res, nil
}

// waitSwitched writes until a write passes through s's two webhooks (its
// review count rises by two), or, for no webhook, until a write succeeds
// with no server running: a configuration the API server still holds for
// the last contender fails the write (failurePolicy Fail, nothing
// listening, or a path the new server does not serve).
func (r *runner) waitSwitched(ctx context.Context, s *server) error {
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for time.Now().Before(deadline) {
		var before histSnapshot
		if s != nil {
			var err error
			if before, _, err = s.reviews(); err != nil {
				return err
			}
		}
		_, last = r.write(ctx)
		if last == nil && s == nil {
			return nil
		}
		if last == nil {
			after, _, err := s.reviews()
			if err != nil {
				return err
			}
			if after.count-before.count >= 2 {
				return nil
			}
			last = fmt.Errorf("the write reached %v of the two webhooks", after.count-before.count)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return fmt.Errorf("the API server did not switch to the contender within a minute: %w", last)
}
