package main

import (
	"fmt"
	"io"
	"math"
	"time"
)

// printRounds prints the through-the-API-server table: one row per
// contender, in cs's order.
func printRounds(w io.Writer, cs []contender, res map[string][]roundResult) {
	all := map[string][]time.Duration{}
	for _, c := range cs {
		for _, t := range res[c.name] {
			all[c.name] = append(all[c.name], t.latencies...)
		}
	}
	base := all[cs[0].name] // no webhook
	noop := all["no-op webhook"]
	noopAdded := percentile(noop, 50) - percentile(base, 50)
	fmt.Fprintln(w, "| contender | p50 | p90 | p99 | added p50 | added p99 | added p50 ÷ no-op's | own time per review: mean, p50, p90 | RSS (median of turns) | peak RSS | CPU per write | connections per turn |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, c := range cs {
		l := all[c.name]
		added50, added99 := percentile(l, 50)-percentile(base, 50), percentile(l, 99)-percentile(base, 99)
		row := fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s |", c.name, ms(percentile(l, 50)), ms(percentile(l, 90)), ms(percentile(l, 99)), ms(added50), ms(added99), ratio(added50, noopAdded))
		if c.start == nil {
			fmt.Fprintln(w, row+" | | | | |")
			continue
		}
		var owns []histSnapshot
		var rss []int64
		var peak int64
		var cpu time.Duration
		var writes, conns int
		for _, t := range res[c.name] {
			owns = append(owns, t.own)
			rss = append(rss, t.rss)
			peak = max(peak, t.peak)
			cpu += t.cpu
			writes += len(t.latencies)
			conns += t.conns
		}
		own := merge(owns)
		turns := max(len(res[c.name]), 1)
		fmt.Fprintf(w, "%s %s, %s, %s | %s | %s | %s | %.1f |\n", row,
			ms(seconds(own.sum/math.Max(own.count, 1))), ms(seconds(quantile(0.5, own.bounds, own.cum))), ms(seconds(quantile(0.9, own.bounds, own.cum))),
			mib(median(rss)), mib(peak), ms(cpu/time.Duration(max(writes, 1))), float64(conns)/float64(turns))
	}
}

// printDirect prints the direct-mode table.
func printDirect(w io.Writer, cs []contender, res map[string]directResult) {
	fmt.Fprintln(w, "| contender | reviews/s | p50 | p99 | own time per review: mean | CPU per review | RSS after | peak RSS | connections |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, c := range cs {
		d, ok := res[c.name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %s | %s | %s | %d |\n", c.name,
			float64(len(d.latencies))/d.wall.Seconds(), ms(percentile(d.latencies, 50)), ms(percentile(d.latencies, 99)),
			ms(seconds(d.own.sum/math.Max(d.own.count, 1))), ms(d.cpu/time.Duration(max(len(d.latencies), 1))), mib(d.rss), mib(d.peak), d.conns)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// ratio prints a/b, or "–" when b is not positive.
func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}
