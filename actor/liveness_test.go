package actor

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/frame"
)

// slowReader paces a peer's reading: chunk bytes, then a pause.
type slowReader struct {
	r     io.Reader
	chunk int
	pause time.Duration
}

func (s slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.pause)
	return s.r.Read(p[:min(len(p), s.chunk)])
}

// 5.4, 5.5.2: with WithFragmentSize, keepalive pings go out between the
// fragments of a message that takes longer to write than the pong timeout,
// and the pong deadline runs from the ping's write: a peer that reads
// slowly but answers every ping keeps the connection.
func TestKeepaliveDuringLongFragmentedWrite(t *testing.T) {
	const frag = 16 << 10
	c, p := newRaw(t, tcpMode, frame.Server,
		WithFragmentSize(frag), WithKeepalive(20*time.Millisecond, 150*time.Millisecond))
	// Small socket buffers: a ping written waits behind at most a few
	// fragments in them, not megabytes.
	require.NoError(t, c.conn.(*net.TCPConn).SetWriteBuffer(64<<10))
	require.NoError(t, p.conn.(*net.TCPConn).SetReadBuffer(64<<10))
	// The peer reads one fragment per 2 ms: 4 MiB take about 0.5 s.
	p.fr = frame.NewReader(bufio.NewReaderSize(slowReader{r: p.conn, chunk: frag, pause: 2 * time.Millisecond}, frag+64),
		frame.Client, frame.ReaderConfig{})
	big := bytes.Repeat([]byte{'z'}, 4<<20)
	sent := make(chan error, 1)
	go func() { sent <- c.Send(context.Background(), Binary(big)) }()
	pingsDuring := 0
	for {
		op, b, err := p.next()
		require.NoError(t, err, "the connection ended: %v", c.Err())
		if op == frame.OpPing {
			pingsDuring++
			p.send(true, frame.OpPong, b)
			continue
		}
		require.Equal(t, frame.OpBinary, op)
		require.Equal(t, big, b)
		break
	}
	require.NoError(t, waitErr(t, sent))
	require.Positive(t, pingsDuring, "no ping went out between the fragments")
	require.Nil(t, c.Err())
}

// 5.5.2: two of our connections that both stream bulk data and ping each
// other never wait on each other: a reader does not wait for its pong to be
// written, so neither side's reading stops while its writer is blocked.
func TestBothSidesStreamWithKeepalive(t *testing.T) {
	ka := WithKeepalive(10*time.Millisecond, 2*time.Second)
	cl, sv := newPair(t, tcpMode, []Option{ka}, []Option{ka})
	for _, c := range []*Conn{cl, sv} { // small socket buffers: writes block often
		require.NoError(t, c.conn.(*net.TCPConn).SetWriteBuffer(16<<10))
		require.NoError(t, c.conn.(*net.TCPConn).SetReadBuffer(16<<10))
	}
	payload := make([]byte, 1<<20)
	const each = 40
	var wg sync.WaitGroup
	for _, c := range []*Conn{cl, sv} {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range each {
				if err := c.Send(context.Background(), Binary(payload)); err != nil {
					t.Errorf("Send: %v", err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range each {
				if _, err := c.Ping(context.Background()); err != nil {
					t.Errorf("Ping: %v", err)
					return
				}
			}
		}()
	}
	for range each {
		recv(t, cl)
		recv(t, sv)
	}
	wg.Wait()
	require.Nil(t, cl.Err())
	require.Nil(t, sv.Err())
}

// A consumer that stopped reading and a peer that vanished without a FIN
// (it neither sends nor answers pings) do not keep the connection forever:
// keepalive goes on while Incoming is full and, seeing no byte from the
// peer after its ping, ends the connection with ErrPongTimeout.
func TestKeepaliveStuckConsumerVanishedPeer(t *testing.T) {
	c, p := newRaw(t, tcpMode, frame.Server,
		WithIncomingBuffer(1), WithKeepalive(20*time.Millisecond, 100*time.Millisecond))
	for range 3 { // one in Incoming, one held, one in the read buffer
		p.send(true, frame.OpText, []byte("unread"))
	}
	require.ErrorIs(t, waitDone(t, c), ErrPongTimeout)
}

// While the consumer is stuck, a peer that keeps sending is alive: its
// bytes arriving in the paused reader's read-ahead count as the answer.
func TestKeepaliveStuckConsumerLivePeer(t *testing.T) {
	c, p := newRaw(t, tcpMode, frame.Server, WithIncomingBuffer(1),
		WithReadBufferSize(1<<20), WithKeepalive(20*time.Millisecond, 100*time.Millisecond))
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if _, err := p.conn.Write(p.frameBytes(true, 0, frame.OpText, []byte("still here"), nil)); err != nil {
				return
			}
		}
	}()
	// Several pong deadlines pass with no pong read: the paused reader
	// cannot reach it behind the data, but sees the data arrive.
	require.Never(t, func() bool { return c.Err() != nil }, 600*time.Millisecond, 10*time.Millisecond)
	require.Less(t, c.Stats().MessagesIn, uint64(5), "the consumer was not stuck")
	close(stop)
	<-sent
	require.Nil(t, c.Err())
}

// Incoming is bounded in bytes too: 1 MiB messages from a peer whose
// consumer does not read fill Incoming only up to DefaultIncomingBytes, not
// to its 16 messages.
func TestIncomingByteBudget(t *testing.T) {
	c, p := newRaw(t, tcpMode, frame.Server)
	msg := make([]byte, 1<<20)
	go func() {
		for range 20 {
			if _, err := p.conn.Write(p.frameBytes(true, 0, frame.OpBinary, msg, nil)); err != nil {
				return
			}
		}
	}()
	const most = int(DefaultIncomingBytes / (1 << 20))
	require.Eventually(t, func() bool { return c.Stats().IncomingQueued == most }, 10*time.Second, time.Millisecond)
	require.Never(t, func() bool { return c.Stats().IncomingQueued > most }, 200*time.Millisecond, time.Millisecond)
	for range 20 { // and everything arrives once the consumer reads
		recv(t, c)
	}
}

// Once the connection has ended, c.Outgoing() <- m returns at once.
func TestOutgoingAfterEnd(t *testing.T) {
	cl, sv := newPair(t, tcpMode, nil, []Option{WithOutgoingBuffer(1)})
	require.NoError(t, cl.Close(context.Background(), frame.StatusNormalClosure, ""))
	waitDone(t, sv)
	done := make(chan error, 1)
	go func() {
		for range 10 {
			sv.Outgoing() <- Text("too late")
		}
		done <- nil
	}()
	require.NoError(t, waitErr(t, done))
}

// A write error of a message from Outgoing ends the connection, and Err
// reports it.
func TestOutgoingWriteErrorReported(t *testing.T) {
	c, _ := newRaw(t, tcpMode, frame.Server, WithWriteTimeout(50*time.Millisecond))
	c.Outgoing() <- Binary(make([]byte, 32<<20)) // the raw peer never reads
	err := waitDone(t, c)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout(), "%v", err)
	require.ErrorContains(t, err, "ws: write")
}

// A write that makes no progress — the peer stopped reading, or is gone
// without a FIN — keeps the keepalive ping from being written; after a
// timeout with nothing written the connection ends with ErrPongTimeout
// instead of waiting for the write forever.
func TestKeepaliveStalledWrite(t *testing.T) {
	c, p := newRaw(t, tcpMode, frame.Server, WithKeepalive(20*time.Millisecond, 100*time.Millisecond))
	require.NoError(t, c.conn.(*net.TCPConn).SetWriteBuffer(64<<10))
	require.NoError(t, p.conn.(*net.TCPConn).SetReadBuffer(64<<10))
	sent := make(chan error, 1)
	go func() { sent <- c.Send(context.Background(), Binary(make([]byte, 32<<20))) }() // the raw peer never reads
	require.ErrorIs(t, waitDone(t, c), ErrPongTimeout)
	require.Error(t, waitErr(t, sent))
}

// The timers do not wait for the writer: with the writer goroutine blocked
// writing an Outgoing message to a peer that stopped reading, Close's grace
// period and keepalive still end the connection.
func TestTimersWhileWriterBlocked(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
		end  func(t *testing.T, c *Conn) error
		want error
	}{
		{"grace period", []Option{WithCloseGracePeriod(100 * time.Millisecond)},
			func(t *testing.T, c *Conn) error { return c.Close(context.Background(), frame.StatusNormalClosure, "") },
			ErrCloseTimeout},
		{"keepalive", []Option{WithKeepalive(20*time.Millisecond, 100*time.Millisecond)},
			func(t *testing.T, c *Conn) error { return waitDone(t, c) },
			ErrPongTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, p := newRaw(t, tcpMode, frame.Server, tc.opts...)
			require.NoError(t, c.conn.(*net.TCPConn).SetWriteBuffer(64<<10))
			require.NoError(t, p.conn.(*net.TCPConn).SetReadBuffer(64<<10))
			c.Outgoing() <- Binary(make([]byte, 32<<20)) // the raw peer never reads
			require.Eventually(t, func() bool { return c.Stats().OutgoingQueued == 0 }, 5*time.Second, time.Millisecond)
			done := make(chan error, 1)
			go func() { done <- tc.end(t, c) }()
			require.ErrorIs(t, waitErr(t, done), tc.want)
		})
	}
}
