package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// options are what a figure asks of an implementation, the same on both sides.
type options struct {
	Deflate    bool // negotiate permessage-deflate, no context takeover both ways
	MaxMessage int  // largest message either side must accept
}

// impl is one WebSocket implementation (or the raw-TCP ceiling) under test.
type impl interface {
	Name() string
	// Deflate reports whether the implementation can run figure 5.
	Deflate() bool
	// Serve accepts connections on ln and echoes every data message back
	// with its type, until ln is closed. live counts connections that are
	// upgraded and waiting for data.
	Serve(ln net.Listener, o options, live *atomic.Int64) error
	// Dial opens one client connection to the echo server at addr.
	Dial(ctx context.Context, addr string, o options) (client, error)
}

// client is the client side of one connection.
type client interface {
	// RoundTrip sends p as one message (text or binary) and returns the echo,
	// read into a buffer the client reuses: valid until the next call.
	RoundTrip(p []byte, text bool) ([]byte, error)
	// Idle makes the connection what an application keeps open while
	// nothing happens: something waiting to read (a goroutine for the
	// synchronous APIs; the asynchronous ones already have one).
	Idle()
	Close() error
}

var impls = []impl{
	gorillaImpl{},
	coderImpl{},
	gwsImpl{},
	gobwasImpl{},
	rawImpl{},
	rawImpl{split: true},
	oursFrameImpl{},
	oursChanImpl{},
}

// peers are the other libraries; "best peer" is taken over these.
var peerNames = map[string]bool{"gorilla": true, "coder": true, "gws": true, "gobwas": true}

// optIn rows run only when -impls names them: experiments that explain a
// figure rather than compete in it.
var optIn = map[string]bool{"raw-tcp-split": true}

// ours lists our rows.
var oursNames = map[string]bool{"wsactor-chan": true, "wsactor-frame": true}

func implByName(name string) (impl, error) {
	for _, im := range impls {
		if im.Name() == name {
			return im, nil
		}
	}
	return nil, fmt.Errorf("unknown implementation %q", name)
}

// serveHTTP serves h on ln with net/http, as a user's server would.
func serveHTTP(ln net.Listener, h http.HandlerFunc) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	err := srv.Serve(ln)
	if errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// readAll reads r to EOF, appending to buf[:0] and growing it only when it
// is too small, so a reused buffer makes the read allocation-free.
func readAll(buf []byte, r io.Reader) ([]byte, error) {
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// The minimal hand-written upgrade used by the raw-TCP ceiling and by our
// frame row until handshake/ is in: the same HTTP/1.1 exchange every peer
// does, on a hijacked net/http connection.

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

func hasToken(v, token string) bool {
	for _, t := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// hijackUpgrade answers a WebSocket upgrade with 101 and returns the raw
// connection and the server's buffered reader over it.
func hijackUpgrade(w http.ResponseWriter, r *http.Request) (net.Conn, *bufio.Reader, error) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if r.Method != http.MethodGet || key == "" ||
		!hasToken(r.Header.Get("Connection"), "upgrade") ||
		!strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "not a websocket upgrade", http.StatusBadRequest)
		return nil, nil, errors.New("bad upgrade request")
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, err
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		acceptKey(key) + "\r\n\r\n"
	if _, err := io.WriteString(conn, resp); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, brw.Reader, nil
}

// dialUpgrade dials addr and performs the client side of the upgrade,
// returning the connection and a reader holding anything read past the
// response.
func dialUpgrade(ctx context.Context, addr string) (net.Conn, *bufio.Reader, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	var k [16]byte
	rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, nil, err
	}
	br := bufio.NewReaderSize(conn, 4096)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key) {
		conn.Close()
		return nil, nil, fmt.Errorf("upgrade refused: %s", resp.Status)
	}
	return conn, br, nil
}

// idleReader starts the goroutine an application keeps per connection to
// receive server pushes; it ends when the connection does.
func idleReader(read func() error) {
	go func() {
		for read() == nil {
		}
	}()
}
