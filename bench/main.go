// Command bench is the comparison suite: it measures our WebSocket library
// against gorilla/websocket, coder/websocket, lxzan/gws, gobwas/ws and a
// raw-TCP length-prefixed echo on the same upgraded socket, with server and
// client in separate processes. See README.md.
//
//	go run . [-quick] [-figs 1,2,3,4,5,6] [-impls gorilla,wsactor-chan] [-cpuprofile dir]
package main

import (
	"flag"
	"fmt"
	"os"
	"syscall"
)

// Flags shared by the three roles. The orchestrator (no -role) re-executes
// this binary with -role=server and -role=client for every figure.
var (
	flagRole    = flag.String("role", "", "internal: server or client (empty: run the suite)")
	flagImpl    = flag.String("impl", "", "internal: implementation for server/client roles")
	flagFig     = flag.String("fig", "", "internal: workload: echo, conns, idle")
	flagSize    = flag.Int("size", 1024, "internal: payload bytes")
	flagJSON    = flag.Bool("json", false, "internal: JSON-like text payload instead of random binary")
	flagConns   = flag.Int("conns", 1, "internal: connections")
	flagDur     = flag.Duration("dur", 0, "internal: measured duration")
	flagWarm    = flag.Duration("warm", 0, "internal: warm-up duration")
	flagDeflate = flag.Bool("deflate", false, "internal: negotiate permessage-deflate")
	flagProfile = flag.String("profile", "", "internal: server CPU profile file for the measured window")

	flagQuick      = flag.Bool("quick", false, "short run: fewer repetitions, shorter windows, 1,000 idle connections")
	flagFigs       = flag.String("figs", "1,2,3,4,5,6", "figures to run (4 comes from the runs of 1)")
	flagImpls      = flag.String("impls", "", "comma-separated implementations (default: all)")
	flagReps       = flag.Int("reps", 0, "repetitions per figure (default 5, quick 2)")
	flagOut        = flag.String("out", "results", "directory for latest.json and latest.md")
	flagCPUProfile = flag.String("cpuprofile", "", "directory: write a CPU profile of the server process of every run")
	flagList       = flag.Bool("list", false, "list implementations and exit")
	flagSizes      = flag.String("sizes", "", "figure 1 payload sizes in bytes, comma-separated (default 16,1024,65536,1048576)")
)

func main() {
	flag.Parse()
	raiseNoFile()
	var err error
	switch *flagRole {
	case "server":
		err = runServer()
	case "client":
		err = runClient()
	case "":
		if *flagList {
			for _, im := range impls {
				fmt.Println(im.Name())
			}
			return
		}
		err = runSuite()
	default:
		err = fmt.Errorf("unknown role %q", *flagRole)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench %s: %v\n", *flagRole, err)
		os.Exit(1)
	}
}

// raiseNoFile lifts the soft open-file limit to the hard one: figures 2
// and 3 hold thousands of sockets in each process.
func raiseNoFile() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}
