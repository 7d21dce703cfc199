package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// plan is how long and how often each figure runs.
type plan struct {
	Reps, IdleReps   int
	EchoDur, Warm    time.Duration
	ConnsDur         time.Duration
	Conns, IdleConns int
	Sizes            []int
	DeflateSizes     []int
	MaskTime         time.Duration
}

func makePlan(quick bool) plan {
	p := plan{Reps: 5, IdleReps: 3, EchoDur: time.Second, Warm: 200 * time.Millisecond,
		ConnsDur: 2 * time.Second, Conns: 1000, IdleConns: 5000,
		Sizes: []int{16, 1 << 10, 64 << 10, 1 << 20}, DeflateSizes: []int{1 << 10, 64 << 10},
		MaskTime: 300 * time.Millisecond}
	if quick {
		p.Reps, p.IdleReps = 2, 1
		p.EchoDur, p.Warm, p.ConnsDur = 250*time.Millisecond, 50*time.Millisecond, 500*time.Millisecond
		p.IdleConns = 1000
		p.MaskTime = 100 * time.Millisecond
	}
	if *flagSizes != "" {
		p.Sizes = nil
		for _, f := range strings.Split(*flagSizes, ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
				p.Sizes = append(p.Sizes, n)
			}
		}
	}
	if *flagReps > 0 {
		p.Reps, p.IdleReps = *flagReps, *flagReps
	}
	return p
}

func runSuite() error {
	ims, err := selected()
	if err != nil {
		return err
	}
	figs := map[string]bool{}
	for _, f := range strings.Split(*flagFigs, ",") {
		figs[strings.TrimSpace(f)] = true
	}
	if figs["4"] {
		figs["1"] = true // figure 4 is counted during the runs of figure 1 and 2
	}
	if *flagCPUProfile != "" {
		if err := os.MkdirAll(*flagCPUProfile, 0o755); err != nil {
			return err
		}
	}
	p := makePlan(*flagQuick)
	res := results{Machine: machineInfo(), Command: "cd bench && go run . " + strings.Join(os.Args[1:], " "),
		Quick: *flagQuick, Started: time.Now().UTC(), Plan: p}
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
	add := func(s sample) {
		res.Samples = append(res.Samples, s)
		if s.Err == "" {
			logf("  fig %s %-10s %-14s rep %d  %s  others %.2f cores", s.Fig, s.Case, s.Impl, s.Rep, brief(s), s.OtherCores)
		}
	}

	if figs["1"] {
		logf("figure 1: one connection echo")
		for rep := range p.Reps {
			for si, size := range p.Sizes {
				for _, im := range rotate(ims, rep+si) {
					add(runOne(spec{Fig: "1", Case: sizeName(size), Impl: im.Name(), Rep: rep, Work: "echo",
						Size: size, Dur: p.EchoDur, Warm: p.Warm}))
				}
			}
		}
	}
	if figs["2"] {
		logf("figure 2: %d connections x 1 KiB echo", p.Conns)
		for rep := range p.Reps {
			for _, im := range rotate(ims, rep) {
				add(runOne(spec{Fig: "2", Case: fmt.Sprintf("%dx1KiB", p.Conns), Impl: im.Name(), Rep: rep,
					Work: "conns", Size: 1 << 10, Conns: p.Conns, Dur: p.ConnsDur}))
			}
		}
	}
	if figs["3"] {
		logf("figure 3: memory per idle connection, %d connections", p.IdleConns)
		for rep := range p.IdleReps {
			for _, im := range rotate(ims, rep) {
				add(runOne(spec{Fig: "3", Case: fmt.Sprintf("%d-idle", p.IdleConns), Impl: im.Name(), Rep: rep,
					Work: "idle", Conns: p.IdleConns}))
			}
		}
	}
	if figs["5"] {
		logf("figure 5: permessage-deflate echo of JSON-like text")
		var dims []impl
		for _, im := range ims {
			if im.Deflate() {
				dims = append(dims, im)
			}
		}
		for rep := range p.Reps {
			for si, size := range p.DeflateSizes {
				for _, im := range rotate(dims, rep+si) {
					add(runOne(spec{Fig: "5", Case: "json-" + sizeName(size), Impl: im.Name(), Rep: rep, Work: "echo",
						Size: size, JSON: true, Deflate: true, Dur: p.EchoDur, Warm: p.Warm}))
				}
			}
		}
	}
	if figs["6"] {
		logf("figure 6: masking throughput")
		res.Mask = runMask(p.MaskTime)
	}
	res.Seconds = time.Since(res.Started).Seconds()
	res.Rows = aggregate(res.Samples)
	md := renderMarkdown(&res, figs)
	if err := os.MkdirAll(*flagOut, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(&res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*flagOut, "latest.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*flagOut, "latest.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Print(md)
	logf("wrote %s and %s in %.0fs", filepath.Join(*flagOut, "latest.json"), filepath.Join(*flagOut, "latest.md"), res.Seconds)
	for _, s := range res.Samples {
		if s.Err != "" {
			return fmt.Errorf("some runs failed (see errors in latest.json)")
		}
	}
	return nil
}

func brief(s sample) string {
	m := s.Metrics
	if v, ok := m["rt_per_s"]; ok {
		return fmt.Sprintf("%9.0f rt/s  p50 %7.1fus  allocs/rt c %.2f s %.2f", v, m["p50_us"], m["client_allocs_per_rt"], m["server_allocs_per_rt"])
	}
	return fmt.Sprintf("server %.0f B/conn  client %.0f B/conn", m["server_bytes_per_conn"], m["client_bytes_per_conn"])
}

type machine struct {
	NProc  int    `json:"nproc"`
	CPU    string `json:"cpu"`
	Go     string `json:"go"`
	OS     string `json:"os"`
	Kernel string `json:"kernel"`
}

func machineInfo() machine {
	m := machine{NProc: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

type results struct {
	Machine machine      `json:"machine"`
	Command string       `json:"command"`
	Quick   bool         `json:"quick"`
	Started time.Time    `json:"started"`
	Seconds float64      `json:"seconds"`
	Plan    plan         `json:"plan"`
	Rows    []row        `json:"rows"`
	Mask    []maskResult `json:"mask,omitempty"`
	Samples []sample     `json:"samples"`
}

// cell summarises one metric over the repetitions.
type cell struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// row is one implementation in one case of one figure.
type row struct {
	Fig        string          `json:"figure"`
	Case       string          `json:"case"`
	Impl       string          `json:"impl"`
	Metrics    map[string]cell `json:"metrics"`
	OtherCores cell            `json:"other_cores"`
	Failed     int             `json:"failed_runs"`
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func summarize(v []float64) cell {
	if len(v) == 0 {
		return cell{}
	}
	return cell{Median: median(v), Min: slices.Min(v), Max: slices.Max(v), N: len(v)}
}

func aggregate(samples []sample) []row {
	type key struct{ fig, cs, impl string }
	var order []key
	groups := map[key][]sample{}
	for _, s := range samples {
		k := key{s.Fig, s.Case, s.Impl}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], s)
	}
	var rows []row
	for _, k := range order {
		r := row{Fig: k.fig, Case: k.cs, Impl: k.impl, Metrics: map[string]cell{}}
		vals := map[string][]float64{}
		var other []float64
		for _, s := range groups[k] {
			if s.Err != "" {
				r.Failed++
				continue
			}
			for m, v := range s.Metrics {
				vals[m] = append(vals[m], v)
			}
			if s.OtherCores >= 0 {
				other = append(other, s.OtherCores)
			}
		}
		for m, v := range vals {
			r.Metrics[m] = summarize(v)
		}
		r.OtherCores = summarize(other)
		rows = append(rows, r)
	}
	return rows
}
