package main

import (
	"os"
	"runtime"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/stat and /proc/<pid>/stat: 100
// on every Linux that Go supports.
const clockTicks = 100

// cpuSnap is a reading of the machine's CPU counters and of our processes'.
type cpuSnap struct {
	total, idle uint64   // all CPUs, jiffies
	procs       []uint64 // utime+stime of each of our processes, jiffies
	ok          bool
}

// snapCPU reads /proc/stat and the utime+stime of pids (0 means ourselves).
func snapCPU(pids ...int) cpuSnap {
	var s cpuSnap
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return s
	}
	for i := 1; i <= 8; i++ { // user nice system idle iowait irq softirq steal
		v, _ := strconv.ParseUint(f[i], 10, 64)
		s.total += v
		if i == 4 || i == 5 {
			s.idle += v
		}
	}
	for _, pid := range pids {
		s.procs = append(s.procs, procTicks(pid))
	}
	s.ok = true
	return s
}

func procTicks(pid int) uint64 {
	path := "/proc/self/stat"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseUint(f[11], 10, 64) // field 14
	st, _ := strconv.ParseUint(f[12], 10, 64) // field 15
	return ut + st
}

// cpuDelta is what happened between two snapshots: the cores busy with
// other processes (machine busy time minus ours, as a number of cores) and
// each of our processes' CPU seconds.
func cpuDelta(a, b cpuSnap) (otherCores float64, procSeconds []float64) {
	if !a.ok || !b.ok || b.total <= a.total {
		return -1, nil
	}
	busy := float64((b.total - b.idle) - (a.total - a.idle))
	var ours float64
	for i := range b.procs {
		d := float64(b.procs[i] - a.procs[i])
		ours += d
		procSeconds = append(procSeconds, d/clockTicks)
	}
	other := (busy - ours) / float64(b.total-a.total) * float64(runtime.NumCPU())
	return max(other, 0), procSeconds
}
