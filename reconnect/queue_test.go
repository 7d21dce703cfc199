package reconnect_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wsactor/ws"
	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
	"github.com/wsactor/ws/reconnect"
)

// pipeServer is an in-memory WebSocket peer: every dial of its client
// goes through ws.Dial over a fresh net.Pipe (ws.WithNetDial), with
// handshake.Server and a server actor on the far end, which records the
// messages it reads. No sockets, so thousands of connections are cheap.
type pipeServer struct {
	mu  sync.Mutex
	got []string
	wg  sync.WaitGroup // server-side handshakes and readers
}

func (s *pipeServer) dialer() reconnect.Option {
	return reconnect.WithDialOptions(ws.WithProxy(http.ProxyURL(nil)),
		ws.WithNetDial(func(ctx context.Context, _, _ string) (net.Conn, error) {
			a, b := net.Pipe()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				acc, err := (&handshake.Server{}).Handshake(context.Background(), b)
				if err != nil {
					return
				}
				sc, err := actor.New(acc.Conn, acc.Reader, frame.Server)
				if err != nil {
					acc.Conn.Close()
					return
				}
				for m := range sc.Incoming() {
					s.mu.Lock()
					s.got = append(s.got, string(m.Data))
					s.mu.Unlock()
				}
			}()
			return a, nil
		}))
}

// wait waits for every server-side connection to end (they end on their
// own once the client has closed) and its reader to return, then returns
// what was read.
func (s *pipeServer) wait() []string {
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// TestOutgoingThenCloseLosesNothing: a message whose send on Outgoing has
// returned is queued, and Close writes what is queued, so a Close right
// after the send must still deliver it. The trials run with the client
// connected over an in-memory pipe; each sends one message and closes at
// once, which is the moment the client's intake goroutine has the message
// in hand but may not have queued it yet.
func TestOutgoingThenCloseLosesNothing(t *testing.T) {
	const trials, workers = 10_000, 4
	var (
		mu     sync.Mutex
		lost   []int
		errs   []error
		wg     sync.WaitGroup
		nextID = make(chan int)
	)
	trial := func(i int) error {
		srv := &pipeServer{}
		c, err := reconnect.New("ws://pipe/", srv.dialer(), reconnect.WithEventBuffer(16))
		if err != nil {
			return err
		}
		runErr := make(chan error, 1)
		go func() { runErr <- c.Run(context.Background()) }()
		for ev := range c.Events() {
			if _, ok := ev.(reconnect.Connected); ok {
				break
			}
		}
		want := fmt.Sprintf("m%d", i)
		select {
		case c.Outgoing() <- ws.Text(want):
		case <-c.Done():
			return fmt.Errorf("trial %d: client ended before the send", i)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			return fmt.Errorf("trial %d: Close: %w", i, err)
		}
		if err := <-runErr; err != reconnect.ErrClosed {
			return fmt.Errorf("trial %d: Run returned %v", i, err)
		}
		for range c.Events() {
		}
		got := srv.wait()
		if len(got) != 1 || got[0] != want {
			mu.Lock()
			lost = append(lost, i)
			mu.Unlock()
		}
		return nil
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range nextID {
				if err := trial(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range trials {
		nextID <- i
	}
	close(nextID)
	wg.Wait()
	require.Empty(t, errs)
	require.Zero(t, len(lost), "%d of %d messages sent on Outgoing before Close were never written, first %v",
		len(lost), trials, lost[:min(len(lost), 10)])
}

// doneProbe is a context that reports the first call of Done: Send asks
// for Done only when it has to wait for room, so the probe tells the test
// that this Send is now among the waiters.
type doneProbe struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func (p *doneProbe) Done() <-chan struct{} {
	p.once.Do(func() { close(p.waiting) })
	return p.Context.Done()
}

// TestBlockWaitersFIFO: under Block, Sends waiting for room go out in the
// order they started waiting, as senders on a channel do. The buffer
// holds one message before Run; twenty Sends then wait in turn (each
// started only once the previous one is waiting), and Run flushes them
// all over one connection.
func TestBlockWaitersFIFO(t *testing.T) {
	const waiters = 20
	srv := &pipeServer{}
	c, err := reconnect.New("ws://pipe/", srv.dialer(), reconnect.WithOutgoingBuffer(1), reconnect.WithOverflow(reconnect.Block))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	results := make(chan error, waiters+1)
	go func() { results <- c.Send(ctx, ws.Text("m0")) }()
	require.Eventually(t, func() bool { return c.Stats().Queued == 1 }, 10*time.Second, time.Millisecond)
	for i := 1; i <= waiters; i++ {
		p := &doneProbe{Context: ctx, waiting: make(chan struct{})}
		go func() { results <- c.Send(p, ws.Text(fmt.Sprintf("m%d", i))) }()
		select {
		case <-p.waiting:
		case <-ctx.Done():
			t.Fatalf("Send %d never waited for room", i)
		}
	}

	wait := start(t, context.Background(), c)
	for range waiters + 1 {
		require.NoError(t, <-results)
	}
	require.NoError(t, c.Close(ctx))
	require.ErrorIs(t, wait(), reconnect.ErrClosed)
	want := make([]string, waiters+1)
	for i := range want {
		want[i] = fmt.Sprintf("m%d", i)
	}
	require.Equal(t, want, srv.wait(), "written in the order the Sends arrived")
}

// TestQueuedCountsReturnedSends: once a send on Outgoing has returned,
// Stats().Queued counts the message. The client stays offline (its dialer
// waits for the run to end), so nothing leaves the queue.
func TestQueuedCountsReturnedSends(t *testing.T) {
	const n = 200
	c, wait := offlineClient(t, n)
	var wrong []string
	for i := range n {
		select {
		case c.Outgoing() <- ws.Text(fmt.Sprintf("m%d", i)):
		case <-c.Done():
			t.Fatal("client ended")
		}
		if q := c.Stats().Queued; q != i+1 {
			wrong = append(wrong, fmt.Sprintf("after send %d: Queued %d", i+1, q))
		}
	}
	require.Zero(t, len(wrong), "%d of %d returned sends not counted, first %v", len(wrong), n, wrong[:min(len(wrong), 5)])
	require.NoError(t, c.Close(context.Background()))
	require.ErrorIs(t, wait(), reconnect.ErrClosed)
}

// TestBlockBufferExact: under Block a full buffer of n holds exactly n
// messages sent on Outgoing; the next send waits until one leaves. Nothing
// leaves here (the client stays offline), so the extra send must still be
// waiting when the window ends; with the fix it can never complete, so the
// window's length only decides how surely the old behaviour is caught.
func TestBlockBufferExact(t *testing.T) {
	const n = 4
	c, wait := offlineClient(t, n)
	for i := range n {
		c.Outgoing() <- ws.Text(fmt.Sprintf("m%d", i))
	}
	window := time.NewTimer(200 * time.Millisecond)
	defer window.Stop()
	select {
	case c.Outgoing() <- ws.Text("extra"):
		t.Fatalf("a send on Outgoing returned with the buffer of %d full (Queued %d)", n, c.Stats().Queued)
	case <-window.C:
	}
	require.Equal(t, n, c.Stats().Queued)
	require.NoError(t, c.Close(context.Background()))
	require.ErrorIs(t, wait(), reconnect.ErrClosed)
}

// offlineClient starts a client with an Outgoing buffer of n that never
// connects (its dialer waits for the run to end), so nothing leaves its
// queue; wait returns the run's result.
func offlineClient(t *testing.T, n int) (*reconnect.Client, func() error) {
	t.Helper()
	c, err := reconnect.New("ws://nowhere/", reconnect.WithOutgoingBuffer(n),
		reconnect.WithDialFunc(func(ctx context.Context, _ string, _ ...ws.DialOption) (*ws.Conn, *http.Response, error) {
			<-ctx.Done()
			return nil, nil, ctx.Err()
		}))
	require.NoError(t, err)
	return c, start(t, context.Background(), c)
}
