package main

import (
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0–100) of ds by the nearest-rank
// method; 0 when ds is empty.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// merge adds up histogram snapshots with the same buckets.
func merge(hs []histSnapshot) histSnapshot {
	var m histSnapshot
	for _, h := range hs {
		if m.bounds == nil {
			m.bounds, m.cum = h.bounds, make([]float64, len(h.cum))
		}
		for i := range h.cum {
			if i < len(m.cum) {
				m.cum[i] += h.cum[i]
			}
		}
		m.sum += h.sum
		m.count += h.count
	}
	return m
}

// seconds turns a float number of seconds into a Duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// median returns the median of vs; 0 when empty.
func median(vs []int64) int64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	return s[len(s)/2]
}

// quantile estimates the q-quantile of a cumulative histogram (upper
// bounds in seconds → counts), interpolating linearly inside a bucket as
// Prometheus' histogram_quantile does. NaN when empty.
func quantile(q float64, bounds []float64, cum []float64) float64 {
	if len(cum) == 0 || cum[len(cum)-1] == 0 {
		return math.NaN()
	}
	rank := q * cum[len(cum)-1]
	for i, c := range cum {
		if c < rank {
			continue
		}
		lo, below := 0.0, 0.0
		if i > 0 {
			lo, below = bounds[i-1], cum[i-1]
		}
		if math.IsInf(bounds[i], 1) {
			return lo
		}
		if c == below {
			return bounds[i]
		}
		return lo + (bounds[i]-lo)*(rank-below)/(c-below)
	}
	return bounds[len(bounds)-1]
}
