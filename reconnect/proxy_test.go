package reconnect_test

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Fault modes of the proxy.
const (
	pass      int32 = iota
	cut             // forward half of the next server chunk, then close both sides
	blackHole       // forward nothing, close nothing (a peer gone without FIN)
	slow            // hold every chunk 300 ms (longer than the tests' pong timeout)
)

// proxy is a fault-injecting TCP proxy on 127.0.0.1 in front of a server.
// A fault applies to the connections open when it is set; new connections
// pass through, so the client can recover.
type proxy struct {
	t      *testing.T
	ln     net.Listener
	target string
	addr   string

	mu    sync.Mutex
	pairs []*pair
	wg    sync.WaitGroup
}

type pair struct {
	client, server net.Conn
	mode           atomic.Int32
	once           sync.Once
}

func (p *pair) close() {
	p.once.Do(func() {
		p.client.Close()
		p.server.Close()
	})
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{t: t, ln: ln, target: target, addr: ln.Addr().String()}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) url() string { return "ws://" + p.addr + "/" }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pr := &pair{client: c, server: s}
		p.mu.Lock()
		p.pairs = append(p.pairs, pr)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(pr, s, c, true)
		go p.pipe(pr, c, s, false)
	}
}

// pipe copies from src to dst under the pair's mode; toClient marks the
// server-to-client direction.
func (p *proxy) pipe(pr *pair, src, dst net.Conn, toClient bool) {
	defer p.wg.Done()
	defer pr.close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			switch pr.mode.Load() {
			case pass:
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			case cut:
				if !toClient {
					if _, werr := dst.Write(buf[:n]); werr != nil {
						return
					}
					break
				}
				_, _ = dst.Write(buf[:max(1, n/2)])
				return
			case blackHole:
			case slow:
				time.Sleep(300 * time.Millisecond) // simulates a slow link, not synchronisation
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// fault sets mode on every open connection.
func (p *proxy) fault(mode int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.pairs {
		pr.mode.Store(mode)
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, pr := range p.pairs {
		pr.close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
