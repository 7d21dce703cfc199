package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// column is one column of a figure's table: a metric in a case.
type column struct {
	Case, Metric, Label string
	Higher              bool // higher is better
}

func (r *results) row(fig, cs, impl string) (row, bool) {
	for _, x := range r.Rows {
		if x.Fig == fig && x.Case == cs && x.Impl == impl {
			return x, true
		}
	}
	return row{}, false
}

func (r *results) cases(fig string) []string {
	var out []string
	for _, x := range r.Rows {
		if x.Fig == fig && !slices.Contains(out, x.Case) {
			out = append(out, x.Case)
		}
	}
	return out
}

func (r *results) implsOf(fig string) []string {
	var out []string
	for _, im := range impls {
		for _, x := range r.Rows {
			if x.Fig == fig && x.Impl == im.Name() {
				out = append(out, im.Name())
				break
			}
		}
	}
	return out
}

func fmtVal(metric string, v float64) string {
	switch {
	case strings.Contains(metric, "bytes"):
		return fmt.Sprintf("%.1f KiB", v/1024)
	case strings.Contains(metric, "allocs"):
		return fmt.Sprintf("%.2f", v)
	case metric == "rt_per_s":
		if v >= 1e6 {
			return fmt.Sprintf("%.2fM", v/1e6)
		}
		if v >= 1e3 {
			return fmt.Sprintf("%.1fk", v/1e3)
		}
		return fmt.Sprintf("%.0f", v)
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// ratio is how many times better a is than b: a/b when higher is better,
// b/a when lower is better, so above 1 always means a wins.
func ratio(a, b float64, higher bool) float64 {
	if !higher {
		a, b = b, a
	}
	switch {
	case a == 0 && b == 0:
		return 1
	case b == 0:
		return math.Inf(1)
	}
	return a / b
}

// compare renders our value against a peer's: a ratio, except for
// allocation counts, where a ratio of near-zero numbers means nothing and
// the difference ours − peer per round trip is shown instead (negative:
// we allocate less).
func compare(c column, ours, peer float64) string {
	if strings.Contains(c.Metric, "allocs") {
		d := math.Round(ours*100)/100 - math.Round(peer*100)/100
		if d == 0 {
			return "±0"
		}
		return fmt.Sprintf("%+.2f", d)
	}
	return fmtRatio(ratio(ours, peer, c.Higher))
}

func fmtRatio(x float64) string {
	if math.IsInf(x, 1) {
		return "∞"
	}
	return fmt.Sprintf("%.2f×", x)
}

// table renders one figure's table: the median (± half the range, as a
// percentage) of every implementation, then for each of our rows its
// ratio to gorilla and to the best peer of that column.
func (r *results) table(b *strings.Builder, fig string, cols []column) {
	names := r.implsOf(fig)
	b.WriteString("| implementation |")
	for _, c := range cols {
		fmt.Fprintf(b, " %s |", c.Label)
	}
	b.WriteString(" others' CPU (cores) |\n|---|")
	for range cols {
		b.WriteString("---:|")
	}
	b.WriteString("---:|\n")
	for _, n := range names {
		fmt.Fprintf(b, "| %s |", n)
		var other []float64
		for _, c := range cols {
			x, ok := r.row(fig, c.Case, n)
			m, ok2 := x.Metrics[c.Metric]
			if !ok || !ok2 || m.N == 0 {
				b.WriteString(" — |")
				continue
			}
			other = append(other, x.OtherCores.Median)
			spread := 0.0
			if m.Median != 0 {
				spread = (m.Max - m.Min) / 2 / math.Abs(m.Median) * 100
			}
			fmt.Fprintf(b, " %s ±%.0f%% |", fmtVal(c.Metric, m.Median), spread)
		}
		if len(other) > 0 {
			fmt.Fprintf(b, " %.2f |\n", median(other))
		} else {
			b.WriteString(" — |\n")
		}
	}
	for _, ours := range names {
		if !oursNames[ours] {
			continue
		}
		fmt.Fprintf(b, "| **%s vs gorilla** |", ours)
		for _, c := range cols {
			o, ok1 := r.metric(fig, c.Case, ours, c.Metric)
			g, ok2 := r.metric(fig, c.Case, "gorilla", c.Metric)
			if !ok1 || !ok2 {
				b.WriteString(" — |")
				continue
			}
			fmt.Fprintf(b, " **%s** |", compare(c, o, g))
		}
		b.WriteString(" |\n")
		fmt.Fprintf(b, "| **%s vs best peer** |", ours)
		for _, c := range cols {
			o, ok1 := r.metric(fig, c.Case, ours, c.Metric)
			best, bestName, ok2 := r.bestPeer(fig, c)
			if !ok1 || !ok2 {
				b.WriteString(" — |")
				continue
			}
			fmt.Fprintf(b, " **%s** (%s) |", compare(c, o, best), bestName)
		}
		b.WriteString(" |\n")
	}
	b.WriteString("\n")
}

func (r *results) metric(fig, cs, impl, metric string) (float64, bool) {
	x, ok := r.row(fig, cs, impl)
	if !ok {
		return 0, false
	}
	m, ok := x.Metrics[metric]
	return m.Median, ok && m.N > 0
}

func (r *results) bestPeer(fig string, c column) (float64, string, bool) {
	var best float64
	name := ""
	for _, im := range impls {
		if !peerNames[im.Name()] {
			continue
		}
		v, ok := r.metric(fig, c.Case, im.Name(), c.Metric)
		if !ok {
			continue
		}
		if name == "" || (c.Higher && v > best) || (!c.Higher && v < best) {
			best, name = v, im.Name()
		}
	}
	return best, name, name != ""
}

func perCase(r *results, fig, metric, unit string, higher bool) []column {
	var cols []column
	for _, cs := range r.cases(fig) {
		cols = append(cols, column{Case: cs, Metric: metric, Label: cs + " " + unit, Higher: higher})
	}
	return cols
}

func renderMarkdown(r *results, figs map[string]bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# wsactor comparison suite\n\n")
	fmt.Fprintf(&b, "Machine: %d CPUs, %s, %s, Linux %s, %s. Run: `%s` (%s, %.0f s).\n\n",
		r.Machine.NProc, r.Machine.CPU, r.Machine.OS, r.Machine.Kernel, r.Machine.Go, r.Command,
		r.Started.Format("2006-01-02 15:04 UTC"), r.Seconds)
	fmt.Fprintf(&b, "Server and client are separate processes on 127.0.0.1, fresh for every run; %d repetitions (figure 3: %d), "+
		"interleaved across implementations. Cells are the median ± half the range over repetitions. "+
		"Ratio rows (\"vs\"): ours ÷ peer for rates, peer ÷ ours for costs (latency, CPU, bytes), so above 1.00× our row is better either way; "+
		"for allocation counts they show the difference ours − peer per round trip (negative: we allocate less). "+
		"\"Best peer\" is the best of gorilla, coder, gws and gobwas in that column; raw-tcp is the ceiling, not a peer. "+
		"\"Others' CPU\" is the CPU used by processes other than the suite's during the measured windows, in cores (median).\n\n",
		r.Plan.Reps, r.Plan.IdleReps)
	if figs["1"] {
		b.WriteString("## Figure 1: one connection, echo\n\n### Round trips per second\n\n")
		r.table(&b, "1", perCase(r, "1", "rt_per_s", "rt/s", true))
		b.WriteString("### Throughput (payload MB/s, one direction)\n\n")
		r.table(&b, "1", perCase(r, "1", "mb_per_s", "MB/s", true))
		b.WriteString("### Latency p50 (µs)\n\n")
		r.table(&b, "1", perCase(r, "1", "p50_us", "p50 µs", false))
		b.WriteString("### Latency p99 (µs)\n\n")
		r.table(&b, "1", perCase(r, "1", "p99_us", "p99 µs", false))
		b.WriteString("### CPU per round trip, server + client (µs) — robust to a busy machine\n\n")
		r.table(&b, "1", perCase(r, "1", "cpu_us_per_rt", "CPU µs", false))
	}
	if figs["2"] {
		fmt.Fprintf(&b, "## Figure 2: %d connections × 1 KiB echo\n\n", r.Plan.Conns)
		var cols []column
		for _, cs := range r.cases("2") {
			cols = append(cols,
				column{cs, "rt_per_s", "total rt/s", true},
				column{cs, "cpu_us_per_rt", "CPU µs/rt", false},
				column{cs, "server_allocs_per_rt", "server allocs/rt", false},
				column{cs, "client_allocs_per_rt", "client allocs/rt", false})
		}
		r.table(&b, "2", cols)
	}
	if figs["3"] {
		b.WriteString("## Figure 3: memory per idle connection (HeapInuse+StackInuse delta / N, after GC)\n\n")
		var cols []column
		for _, cs := range r.cases("3") {
			cols = append(cols,
				column{cs, "server_bytes_per_conn", "server / conn", false},
				column{cs, "client_bytes_per_conn", "client / conn", false})
		}
		r.table(&b, "3", cols)
	}
	if figs["1"] {
		b.WriteString("## Figure 4: allocations per round trip (Mallocs delta / round trips, measured in each process)\n\n### Server\n\n")
		r.table(&b, "1", perCase(r, "1", "server_allocs_per_rt", "server", false))
		b.WriteString("### Client\n\n")
		r.table(&b, "1", perCase(r, "1", "client_allocs_per_rt", "client", false))
	}
	if figs["5"] {
		b.WriteString("## Figure 5: permessage-deflate (no context takeover both ways), JSON-like text echo\n\n")
		var cols []column
		for _, cs := range r.cases("5") {
			cols = append(cols, column{cs, "rt_per_s", cs + " rt/s", true})
		}
		for _, cs := range r.cases("5") {
			cols = append(cols, column{cs, "cpu_us_per_rt", cs + " CPU µs/rt", false})
		}
		for _, cs := range r.cases("5") {
			cols = append(cols, column{cs, "server_allocs_per_rt", cs + " server allocs/rt", false})
		}
		r.table(&b, "5", cols)
	}
	if len(r.Mask) > 0 {
		b.WriteString("## Figure 6: masking throughput (GB/s, in-process, best of 3)\n\n")
		b.WriteString("| size | copy | wsactor frame.Mask | gobwas ws.Cipher | Mask ÷ copy | Mask ÷ Cipher |\n|---|---:|---:|---:|---:|---:|\n")
		for _, m := range r.Mask {
			fmt.Fprintf(&b, "| %s | %.2f | %.2f | %.2f | %.2f× | %.2f× |\n", sizeName(m.Size), m.Copy, m.Ours, m.Gobwas,
				m.Ours/m.Copy, m.Ours/m.Gobwas)
		}
		b.WriteString("\n")
	}
	var failed []string
	for _, x := range r.Rows {
		if x.Failed > 0 {
			failed = append(failed, fmt.Sprintf("figure %s %s %s: %d failed", x.Fig, x.Case, x.Impl, x.Failed))
		}
	}
	if len(failed) > 0 {
		b.WriteString("## Failed runs\n\n- " + strings.Join(failed, "\n- ") + "\n")
	}
	return b.String()
}
