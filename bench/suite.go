package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// child is a server or client process of one run.
type child struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan report
}

func startChild(name string, args ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{name: name, cmd: cmd, stdin: stdin, lines: make(chan report, 4)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var r report
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %s\n", name, sc.Text())
				continue
			}
			c.lines <- r
		}
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) send(line string) error {
	_, err := io.WriteString(c.stdin, line+"\n")
	return err
}

// expect waits for the event ev from the child.
func (c *child) expect(ev string, timeout time.Duration) (report, error) {
	select {
	case r, ok := <-c.lines:
		if !ok {
			return r, fmt.Errorf("%s exited before %q", c.name, ev)
		}
		if r.Ev != ev {
			return r, fmt.Errorf("%s: got %q, want %q", c.name, r.Ev, ev)
		}
		return r, nil
	case <-time.After(timeout):
		return report{}, fmt.Errorf("%s: no %q within %v", c.name, ev, timeout)
	}
}

// stop closes the child's stdin and waits for it, killing it if it hangs.
func (c *child) stop() {
	c.stdin.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// spec is one run: a workload for one implementation.
type spec struct {
	Fig, Case, Impl string
	Rep             int
	Work            string // echo, conns, idle
	Size, Conns     int
	JSON, Deflate   bool
	Dur, Warm       time.Duration
}

// sample is what one run measured.
type sample struct {
	Fig        string  `json:"figure"`
	Case       string  `json:"case"`
	Impl       string  `json:"impl"`
	Rep        int     `json:"rep"`
	RoundTrips int64   `json:"round_trips,omitempty"`
	Seconds    float64 `json:"seconds,omitempty"`
	Metrics    metrics `json:"metrics"`
	OtherCores float64 `json:"other_cores"` // CPU of other processes during the window, in cores
	ServerCPU  float64 `json:"server_cpu_s"`
	ClientCPU  float64 `json:"client_cpu_s"`
	Err        string  `json:"error,omitempty"`
}

type metrics map[string]float64

func runOne(s spec) sample {
	out := sample{Fig: s.Fig, Case: s.Case, Impl: s.Impl, Rep: s.Rep, Metrics: metrics{}}
	if err := runOneErr(s, &out); err != nil {
		out.Err = err.Error()
		fmt.Fprintf(os.Stderr, "  %s %s %s rep %d: %v\n", s.Fig, s.Case, s.Impl, s.Rep, err)
	}
	return out
}

func runOneErr(s spec, out *sample) error {
	common := []string{"-impl=" + s.Impl, "-fig=" + s.Work, "-size=" + strconv.Itoa(s.Size),
		"-conns=" + strconv.Itoa(s.Conns), "-json=" + strconv.FormatBool(s.JSON),
		"-deflate=" + strconv.FormatBool(s.Deflate), "-dur=" + s.Dur.String(), "-warm=" + s.Warm.String()}
	srvArgs := append([]string{"-role=server"}, common...)
	if *flagCPUProfile != "" {
		kind := "server"
		if s.Work == "idle" {
			kind = "server-heap"
		}
		name := fmt.Sprintf("fig%s-%s-%s-rep%d-%s.prof", s.Fig, s.Case, s.Impl, s.Rep, kind)
		srvArgs = append(srvArgs, "-profile="+filepath.Join(*flagCPUProfile, name))
	}
	srv, err := startChild("server "+s.Impl, srvArgs...)
	if err != nil {
		return err
	}
	defer srv.stop()
	a, err := srv.expect("addr", 30*time.Second)
	if err != nil {
		return err
	}
	cliArgs := append([]string{"-role=client", "-addr=" + a.Addr}, common...)
	if *flagCPUProfile != "" && s.Work != "idle" {
		name := fmt.Sprintf("fig%s-%s-%s-rep%d-client.prof", s.Fig, s.Case, s.Impl, s.Rep)
		cliArgs = append(cliArgs, "-profile="+filepath.Join(*flagCPUProfile, name))
	}
	cli, err := startChild("client "+s.Impl, cliArgs...)
	if err != nil {
		return err
	}
	defer cli.stop()
	// For the idle figure the window that matters is the dialling and the
	// measuring, before "ready"; for the others, the timed loop after "go".
	c0 := snapCPU(0, srv.pid(), cli.pid())
	if _, err := cli.expect("ready", 2*time.Minute); err != nil {
		return err
	}
	if s.Work != "idle" {
		if err := srv.send("mark"); err != nil {
			return err
		}
		if _, err := srv.expect("ok", 30*time.Second); err != nil {
			return err
		}
	}
	if s.Work != "idle" {
		c0 = snapCPU(0, srv.pid(), cli.pid())
	}
	if err := cli.send("go"); err != nil {
		return err
	}
	done, err := cli.expect("done", s.Dur+2*time.Minute)
	if err != nil {
		return err
	}
	c1 := snapCPU(0, srv.pid(), cli.pid())
	other, secs := cpuDelta(c0, c1)
	out.OtherCores = other
	if len(secs) == 3 {
		out.ServerCPU, out.ClientCPU = secs[1], secs[2]
	}
	want := 0
	if s.Work == "idle" {
		want = s.Conns
	}
	if err := srv.send("measure " + strconv.Itoa(want)); err != nil {
		return err
	}
	m, err := srv.expect("measured", 2*time.Minute)
	if err != nil {
		return err
	}
	out.RoundTrips, out.Seconds = done.RoundTrips, done.Seconds
	switch s.Work {
	case "idle":
		if m.Live < int64(s.Conns) {
			return fmt.Errorf("server holds %d of %d connections", m.Live, s.Conns)
		}
		out.Metrics["server_bytes_per_conn"] = float64(m.MemDelta) / float64(s.Conns)
		out.Metrics["client_bytes_per_conn"] = float64(done.MemDelta) / float64(s.Conns)
	default:
		if done.RoundTrips == 0 {
			return errors.New("no round trips")
		}
		rt := float64(done.RoundTrips)
		out.Metrics["rt_per_s"] = rt / done.Seconds
		out.Metrics["mb_per_s"] = rt * float64(s.Size) / done.Seconds / 1e6
		out.Metrics["client_allocs_per_rt"] = float64(done.Mallocs) / rt
		out.Metrics["server_allocs_per_rt"] = float64(m.Mallocs) / rt
		out.Metrics["cpu_us_per_rt"] = (out.ServerCPU + out.ClientCPU) / rt * 1e6
		if s.Work == "echo" {
			out.Metrics["p50_us"] = done.P50us
			out.Metrics["p99_us"] = done.P99us
		}
	}
	return nil
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// selected returns the implementations the -impls flag asks for.
func selected() ([]impl, error) {
	if *flagImpls == "" {
		var out []impl
		for _, im := range impls {
			if !optIn[im.Name()] {
				out = append(out, im)
			}
		}
		return out, nil
	}
	var out []impl
	for _, n := range strings.Split(*flagImpls, ",") {
		im, err := implByName(strings.TrimSpace(n))
		if err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	return out, nil
}

// rotate returns ims starting at offset k, so no implementation always runs
// first (or right after the same neighbour) in a repetition.
func rotate(ims []impl, k int) []impl {
	k %= len(ims)
	return append(append([]impl{}, ims[k:]...), ims[:k]...)
}
