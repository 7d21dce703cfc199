package chatroom

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wsactor/ws"
)

//go:embed index.html
var indexHTML []byte

// MaxMessage is the most bytes a member may send at once.
const MaxMessage = 1000

// Options are the connection settings of the room: small messages, a
// liveness check, and the default same-origin check (a page from another
// site cannot join with the user's cookies). Compression is on, without
// context takeover: chat lines are public and repetitive, each line is
// compressed once for the whole room (Local.Deliver), and no member
// keeps a compressor while idle.
func Options() []ws.AcceptOption {
	return []ws.AcceptOption{
		ws.WithCompression(),
		ws.WithMaxMessageSize(MaxMessage),
		ws.WithIncomingBuffer(8),
		ws.WithKeepalive(20*time.Second, 20*time.Second),
		ws.WithWriteTimeout(10 * time.Second),
		ws.WithCloseGracePeriod(3 * time.Second),
	}
}

// Handler returns the WebSocket endpoint of h: each connection joins the
// room of its ?room= (DefaultRoom if absent) as its ?name=, resuming
// after the line of ID ?since= if given (see Hub.Join), and every
// text line it sends is published as "name: line". A line the hub cannot
// publish is told back to its sender, never dropped silently.
func Handler(h Hub) *ws.Server {
	return ws.Handler(func(ctx context.Context, c *ws.Conn) { serve(ctx, h, c) }, Options()...)
}

func serve(ctx context.Context, h Hub, c *ws.Conn) {
	q := ws.RequestFromContext(ctx).URL.Query()
	since := q.Get("since")
	if !ValidID(since) {
		since = "" // not an ID this hub gave: a plain join
	}
	m, err := h.Join(ctx, CleanRoom(q.Get("room")), q.Get("name"), since, c)
	if err != nil {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_ = c.Close(cctx, ws.StatusTryAgainLater, "room unavailable")
		cancel()
		return
	}
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		m.Run(ctx)
	}()
	defer func() {
		h.Leave(m)
		<-sent
	}()
	for msg := range c.Incoming() {
		if msg.Type != ws.TextMessage {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			_ = c.Close(cctx, ws.StatusUnsupportedData, "text only")
			cancel()
			return
		}
		text := strings.TrimSpace(string(msg.Data))
		if text == "" {
			continue
		}
		// A line read is published even if the node has begun to drain
		// (which cancels ctx): its sender has it on the wire already.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		err := h.Publish(pctx, m.Room, m.Name+": "+text)
		cancel()
		if err != nil {
			m.Tell("* not delivered (" + err.Error() + "): " + text)
		}
	}
}

// Page serves the chat's web page.
func Page(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
	_, _ = w.Write(indexHTML)
}

// Serve serves the page on / and the room on /ws on ln until ctx ends,
// then drains: it stops accepting, closes every WebSocket with 1001 (going
// away, so clients reconnect — to another node of a cluster) and returns.
// It prints "listening on http://ADDR/" to stdout first.
func Serve(ctx context.Context, ln net.Listener, h Hub, stdout io.Writer) error {
	chat := Handler(h)
	mux := http.NewServeMux()
	// Any method: over HTTP/2 (RFC 8441) the upgrade is a CONNECT, which
	// "GET /ws" would not match; ws.Handler answers anything else with 400.
	mux.Handle("/ws", chat)
	mux.HandleFunc("GET /{$}", Page)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second, // plain HTTP only: hijacked sockets drop deadlines
		MaxHeaderBytes:    16 << 10,
	}
	fmt.Fprintf(stdout, "listening on http://%s/\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Shutdown closes the listener first, so no client joins a node that
	// is leaving; the WebSockets (hijacked, unknown to http.Server) are
	// closed by chat.Shutdown.
	err := errors.Join(srv.Shutdown(sctx), chat.Shutdown(sctx))
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
