package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// connSampler counts the distinct TCP connections to a local port by
// sampling /proc/net/tcp: the connections a server opened, seen from the
// kernel, for servers that do not count them (a connection that lives
// shorter than the sampling interval can be missed; the API server keeps
// its connections to a webhook open).
type connSampler struct {
	mu   sync.Mutex
	seen map[string]bool
	stop context.CancelFunc
	done chan struct{}
}

// sampleConns starts sampling the connections to port every interval.
func sampleConns(port int, interval time.Duration) *connSampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &connSampler{seen: map[string]bool{}, stop: cancel, done: make(chan struct{})}
	local := fmt.Sprintf(":%04X", port)
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			s.read(local)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *connSampler) read(localPort string) {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		// local_address rem_address st; 01 is ESTABLISHED (the sockets a
		// server before this one left in TIME_WAIT on the same port are
		// not this one's).
		if len(f) < 4 || !strings.HasSuffix(f[1], localPort) || f[3] != "01" {
			continue
		}
		s.seen[f[2]] = true
	}
}

// count stops sampling and returns the connections seen.
func (s *connSampler) count() int {
	s.stop()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

func portOf(addr string) int {
	_, p, _ := strings.Cut(addr, ":")
	n, _ := strconv.Atoi(p)
	return n
}
