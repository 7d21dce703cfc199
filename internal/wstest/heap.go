package wstest

import (
	"runtime"
	"time"
)

// HeapPeak samples the process's HeapInuse every 2 ms from now on, after a
// GC, until the returned function is called; that function returns the
// highest figure seen. Tests of memory bounds run it around the work whose
// peak they bound (without -race, which changes heap figures).
func HeapPeak() (stop func() uint64) {
	runtime.GC()
	done, peak := make(chan struct{}), make(chan uint64, 1)
	go func() {
		var ms runtime.MemStats
		var top uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			top = max(top, ms.HeapInuse)
			select {
			case <-done:
				peak <- top
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		return <-peak
	}
}
