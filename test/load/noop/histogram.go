package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// histogram is a Prometheus-style histogram with fine buckets (10 µs to
// about 0.5 s, 15 % apart), written in the text exposition format.
type histogram struct {
	mu     sync.Mutex
	bounds []float64 // upper bounds, seconds
	counts []uint64  // per bucket, not cumulative
	sum    float64
	count  uint64
}

func newHistogram() *histogram {
	var b []float64
	for v := 10e-6; v < 0.5; v *= 1.15 {
		b = append(b, v)
	}
	return &histogram{bounds: b, counts: make([]uint64, len(b)+1)}
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	h.mu.Lock()
	defer h.mu.Unlock()
	i := 0
	for i < len(h.bounds) && s > h.bounds[i] {
		i++
	}
	h.counts[i]++
	h.sum += s
	h.count++
}

func (h *histogram) write(w io.Writer, name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{le=\"%g\"} %d\n", name, b, cum)
	}
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n", name, h.count)
	fmt.Fprintf(w, "%s_sum %g\n%s_count %d\n", name, h.sum, name, h.count)
}
