package main

import (
	"bufio"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// histSnapshot is a histogram scraped from /metrics, summed over every
// label set but le.
type histSnapshot struct {
	bounds []float64 // sorted upper bounds, the last +Inf
	cum    []float64 // cumulative counts per bound
	sum    float64
	count  float64
}

// sub returns h minus an earlier snapshot of the same histogram.
func (h histSnapshot) sub(earlier histSnapshot) histSnapshot {
	d := histSnapshot{bounds: h.bounds, cum: make([]float64, len(h.cum)), sum: h.sum - earlier.sum, count: h.count - earlier.count}
	for i := range h.cum {
		d.cum[i] = h.cum[i]
		if i < len(earlier.cum) {
			d.cum[i] -= earlier.cum[i]
		}
	}
	return d
}

// scrape reads the histogram name (its series whose labels hold filter)
// and the counters counters from url (a Prometheus text endpoint), with c.
func scrape(c *http.Client, url, name, filter string, counters ...string) (histSnapshot, map[string]float64, error) {
	resp, err := c.Get(url)
	if err != nil {
		return histSnapshot{}, nil, fmt.Errorf("scraping %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return histSnapshot{}, nil, fmt.Errorf("scraping %s: %s", url, resp.Status)
	}
	byLE := map[float64]float64{}
	var h histSnapshot
	vals := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		metric, labels, _ := strings.Cut(series, "{")
		if strings.HasPrefix(metric, name+"_") && !strings.Contains(labels, filter) {
			continue
		}
		switch metric {
		case name + "_bucket":
			le, err := leOf(labels)
			if err != nil {
				return histSnapshot{}, nil, fmt.Errorf("reading %q: %w", line, err)
			}
			byLE[le] += v
		case name + "_sum":
			h.sum += v
		case name + "_count":
			h.count += v
		}
		for _, c := range counters {
			if metric == c {
				vals[c] += v
			}
		}
	}
	if err := sc.Err(); err != nil {
		return histSnapshot{}, nil, fmt.Errorf("reading %s: %w", url, err)
	}
	for le := range byLE {
		h.bounds = append(h.bounds, le)
	}
	sort.Float64s(h.bounds)
	for _, le := range h.bounds {
		h.cum = append(h.cum, byLE[le])
	}
	return h, vals, nil
}

func leOf(labels string) (float64, error) {
	_, rest, ok := strings.Cut(labels, `le="`)
	if !ok {
		return 0, fmt.Errorf("no le label")
	}
	v, _, _ := strings.Cut(rest, `"`)
	if v == "+Inf" {
		return math.Inf(1), nil
	}
	return strconv.ParseFloat(v, 64)
}
