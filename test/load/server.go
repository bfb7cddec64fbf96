package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// server is a running contender: a webhook server in a process of its own.
type server struct {
	addr         string // the webhook's HOST:PORT (TLS)
	mutatePath   string
	validatePath string
	metricsURL   string       // Prometheus text
	metricsHTTP  *http.Client // for metricsURL; nil: http.DefaultClient
	metric       string       // histogram of the server's own time per review
	filter       string       // the histogram's series whose labels hold this
	connsMetric  string       // a counter of accepted connections; "": sampled from /proc/net/tcp
	pid          int
	stop         func() error
	exited       func() bool
}

// contender is one way of answering the webhooks; start is nil for "no
// webhook".
type contender struct {
	name  string
	start func(ctx context.Context) (*server, error)
}

// reviews returns the server's time-per-review histogram and the count of
// accepted connections if it counts them.
func (s *server) reviews() (histSnapshot, float64, error) {
	var counters []string
	if s.connsMetric != "" {
		counters = append(counters, s.connsMetric)
	}
	h, vals, err := scrape(s.client(), s.metricsURL, s.metric, s.filter, counters...)
	if err != nil {
		return h, 0, err
	}
	return h, vals[s.connsMetric], nil
}

// waitUp polls the server's metrics endpoint until it answers, the process
// exits, or a minute passes.
func waitUp(ctx context.Context, s *server) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := s.client().Get(s.metricsURL); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if s.exited() {
			return errors.New("the server exited before it answered")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer within a minute", s.metricsURL)
		case <-tick.C:
		}
	}
}

func (s *server) client() *http.Client {
	if s.metricsHTTP != nil {
		return s.metricsHTTP
	}
	return http.DefaultClient
}
