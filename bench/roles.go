package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var flagAddr = flag.String("addr", "", "internal: server address for the client role")

// maxMessage is the message limit both sides are configured with: above the
// largest payload of any figure (1 MiB).
const maxMessage = 4 << 20

// report is one JSON line a child process writes on stdout.
type report struct {
	Ev   string `json:"ev"`
	Addr string `json:"addr,omitempty"`

	RoundTrips int64   `json:"round_trips,omitempty"`
	Seconds    float64 `json:"seconds,omitempty"`
	P50us      float64 `json:"p50_us,omitempty"`
	P99us      float64 `json:"p99_us,omitempty"`
	Mallocs    uint64  `json:"mallocs,omitempty"`
	MemDelta   int64   `json:"mem_delta,omitempty"`
	Live       int64   `json:"live,omitempty"`
	Conns      int     `json:"conns,omitempty"`
}

var stdoutMu sync.Mutex

func emit(r report) {
	b, _ := json.Marshal(r)
	stdoutMu.Lock()
	os.Stdout.Write(append(b, '\n'))
	stdoutMu.Unlock()
}

func options0() options { return options{Deflate: *flagDeflate, MaxMessage: maxMessage} }

// memInUse is heap plus stacks in use after two collections.
func memInUse() (int64, uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse), ms.Mallocs
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// runServer serves the echo for one implementation and answers the
// orchestrator's commands on stdin: "mark" (start counting, and profiling),
// "measure N" (wait for N live connections, report), EOF (exit).
func runServer() error {
	im, err := implByName(*flagImpl)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var live atomic.Int64
	go func() {
		if err := im.Serve(ln, options0(), &live); err != nil {
			fmt.Fprintf(os.Stderr, "bench server %s: %v\n", im.Name(), err)
			os.Exit(1)
		}
	}()
	base, mark := memInUse()
	emit(report{Ev: "addr", Addr: ln.Addr().String()})
	var prof *os.File
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "mark":
			if *flagProfile != "" && *flagFig != "idle" {
				if prof, err = os.Create(*flagProfile); err != nil {
					return err
				}
				if err := pprof.StartCPUProfile(prof); err != nil {
					return err
				}
			}
			mark = mallocs()
			emit(report{Ev: "ok"})
		case "measure":
			n := mallocs() - mark
			if prof != nil {
				pprof.StopCPUProfile()
				prof.Close()
				prof = nil
			}
			want, _ := strconv.ParseInt(arg, 10, 64)
			if want > 0 {
				deadline := time.Now().Add(60 * time.Second)
				for live.Load() < want && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				time.Sleep(300 * time.Millisecond) // let the last handlers reach their read
			}
			mem, _ := memInUse()
			if want > 0 && *flagProfile != "" {
				if err := writeHeapProfile(*flagProfile); err != nil {
					return err
				}
			}
			emit(report{Ev: "measured", Mallocs: n, MemDelta: mem - base, Live: live.Load()})
		}
	}
	ln.Close()
	return nil
}

// writeHeapProfile writes the live heap (after the GC memInUse ran): for
// the idle figure, where memory rather than CPU is the question.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("heap").WriteTo(f, 0)
}

// payload builds a deterministic payload: random bytes, or JSON-like text
// (an array of records) for the deflate figure.
func payload(size int, jsonLike bool) []byte {
	rng := rand.New(rand.NewPCG(1, uint64(size)))
	if !jsonLike {
		p := make([]byte, size)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		return p
	}
	names := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	tags := []string{"admin", "beta", "eu-west", "us-east", "mobile", "web", "trial", "paid"}
	var b bytes.Buffer
	b.WriteByte('[')
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		n := names[rng.IntN(len(names))]
		fmt.Fprintf(&b, `{"id":%d,"user":"%s%d","email":"%s@example.com","active":%t,"score":%.2f,"tags":["%s","%s"]}`,
			rng.IntN(1000000), n, rng.IntN(1000), n, rng.IntN(2) == 0, rng.Float64()*100,
			tags[rng.IntN(len(tags))], tags[rng.IntN(len(tags))])
	}
	p := b.Bytes()[:size]
	return p
}

// stamp writes i as hex digits into the first bytes of p, so every round
// trip carries a different message and a stale echo fails verification.
func stamp(p []byte, i uint64) {
	const hex = "0123456789abcdef"
	for j := 0; j < 8 && j < len(p); j++ {
		p[j] = hex[(i>>(4*j))&15]
	}
}

var errMismatch = errors.New("echo does not match what was sent")

func verify(sent, got []byte) error {
	if len(sent) != len(got) {
		return fmt.Errorf("%w: sent %d bytes, got %d", errMismatch, len(sent), len(got))
	}
	if !bytes.Equal(sent, got) {
		return errMismatch
	}
	return nil
}

// dialMany opens n connections with a few dials in flight at once.
func dialMany(im impl, n int) ([]client, error) {
	conns := make([]client, n)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				c, err := im.Dial(ctx, *flagAddr, options0())
				cancel()
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("dial %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	return conns, firstErr
}

// waitGo blocks until the orchestrator says "go", then starts the client's
// CPU profile if one was asked for; stopProfile ends it.
func waitGo(in *bufio.Scanner) error {
	for in.Scan() {
		if in.Text() == "go" {
			if *flagProfile != "" {
				f, err := os.Create(*flagProfile)
				if err != nil {
					return err
				}
				clientProf = f
				return pprof.StartCPUProfile(f)
			}
			return nil
		}
	}
	return errors.New("orchestrator went away")
}

var clientProf *os.File

func stopProfile() {
	if clientProf != nil {
		pprof.StopCPUProfile()
		clientProf.Close()
		clientProf = nil
	}
}

// runClient runs one figure's workload and reports it; the connections stay
// open until stdin closes, so the server can measure them.
func runClient() error {
	im, err := implByName(*flagImpl)
	if err != nil {
		return err
	}
	in := bufio.NewScanner(os.Stdin)
	var conns []client
	switch *flagFig {
	case "echo":
		conns, err = clientEcho(im, in)
	case "conns":
		conns, err = clientConns(im, in)
	case "idle":
		conns, err = clientIdle(im, in)
	default:
		err = fmt.Errorf("unknown workload %q", *flagFig)
	}
	if err != nil {
		return err
	}
	for in.Scan() {
	}
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return nil
}

func clientEcho(im impl, in *bufio.Scanner) ([]client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	c, err := im.Dial(ctx, *flagAddr, options0())
	cancel()
	if err != nil {
		return nil, err
	}
	p := payload(*flagSize, *flagJSON)
	var i uint64
	for start := time.Now(); time.Since(start) < *flagWarm; i++ {
		stamp(p, i)
		got, err := c.RoundTrip(p, *flagJSON)
		if err != nil {
			return nil, err
		}
		if err := verify(p, got); err != nil {
			return nil, err
		}
	}
	lat := make([]int64, 0, 1<<21)
	emit(report{Ev: "ready"})
	if err := waitGo(in); err != nil {
		return nil, err
	}
	m0 := mallocs()
	var n int64
	start := time.Now()
	end := start.Add(*flagDur)
	now := start
	for ; now.Before(end); i++ {
		stamp(p, i)
		got, err := c.RoundTrip(p, *flagJSON)
		if err != nil {
			return nil, err
		}
		t := time.Now()
		if err := verify(p, got); err != nil {
			return nil, err
		}
		if len(lat) < cap(lat) {
			lat = append(lat, int64(t.Sub(now)))
		}
		n++
		now = time.Now()
	}
	elapsed := now.Sub(start)
	m1 := mallocs()
	stopProfile()
	slices.Sort(lat)
	emit(report{Ev: "done", RoundTrips: n, Seconds: elapsed.Seconds(),
		P50us: pct(lat, 0.50), P99us: pct(lat, 0.99), Mallocs: m1 - m0})
	return []client{c}, nil
}

func pct(sorted []int64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[int(q*float64(len(sorted)-1))]) / 1e3
}

func clientConns(im impl, in *bufio.Scanner) ([]client, error) {
	conns, err := dialMany(im, *flagConns)
	if err != nil {
		return conns, err
	}
	ps := make([][]byte, len(conns))
	for i, c := range conns {
		ps[i] = payload(*flagSize, *flagJSON)
		got, err := c.RoundTrip(ps[i], *flagJSON)
		if err != nil {
			return conns, err
		}
		if err := verify(ps[i], got); err != nil {
			return conns, err
		}
	}
	emit(report{Ev: "ready"})
	if err := waitGo(in); err != nil {
		return conns, err
	}
	m0 := mallocs()
	var stop atomic.Bool
	var total atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(conns))
	start := time.Now()
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := ps[i]
			var n int64
			for k := uint64(1); !stop.Load(); k++ {
				stamp(p, k)
				got, err := c.RoundTrip(p, *flagJSON)
				if err == nil {
					err = verify(p, got)
				}
				if err != nil {
					errs <- err
					break
				}
				n++
			}
			total.Add(n)
		}()
	}
	time.Sleep(*flagDur)
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start)
	m1 := mallocs()
	stopProfile()
	select {
	case err := <-errs:
		return conns, err
	default:
	}
	emit(report{Ev: "done", RoundTrips: total.Load(), Seconds: elapsed.Seconds(), Mallocs: m1 - m0})
	return conns, nil
}

func clientIdle(im impl, in *bufio.Scanner) ([]client, error) {
	base, _ := memInUse()
	conns, err := dialMany(im, *flagConns)
	if err != nil {
		return conns, err
	}
	for _, c := range conns {
		c.Idle()
	}
	time.Sleep(300 * time.Millisecond) // let every reader reach its blocking read
	mem, _ := memInUse()
	emit(report{Ev: "ready"})
	if err := waitGo(in); err != nil {
		return conns, err
	}
	emit(report{Ev: "done", MemDelta: mem - base, Conns: len(conns)})
	return conns, nil
}
