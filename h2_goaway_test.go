//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsactor/ws"
)

// frameServer is a frame-level HTTP/2 server for what net/http's server
// never does on demand, such as a GOAWAY that leaves an open stream out:
// it advertises extended CONNECT, answers every HEADERS with 200 and
// reports the stream, and otherwise only writes what the test asks.
type frameServer struct {
	url    string
	tls    *tls.Config // the client's, trusting the certificate
	opened chan uint32

	mu   sync.Mutex // guards fr's writes and henc
	fr   *http2.Framer
	henc *hpack.Encoder
	hbuf bytes.Buffer
}

func startFrameServer(t *testing.T) *frameServer {
	t.Helper()
	// httptest's certificate, for a listener of our own.
	hs := httptest.NewUnstartedServer(http.NotFoundHandler())
	hs.StartTLS()
	certs := hs.TLS.Certificates
	clientTLS := hs.Client().Transport.(*http.Transport).TLSClientConfig
	hs.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: certs, NextProtos: []string{"h2"}})
	require.NoError(t, err)
	s := &frameServer{url: "wss://" + ln.Addr().String() + "/", tls: clientTLS, opened: make(chan uint32, 10)}
	s.henc = hpack.NewEncoder(&s.hbuf)
	done := make(chan struct{})
	var conn net.Conn
	var connMu sync.Mutex
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		connMu.Lock()
		conn = c
		connMu.Unlock()
		s.serve(c)
	}()
	t.Cleanup(func() {
		ln.Close()
		connMu.Lock()
		if conn != nil {
			conn.Close()
		}
		connMu.Unlock()
		<-done
	})
	return s
}

func (s *frameServer) serve(c net.Conn) {
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil {
		return
	}
	s.fr = http2.NewFramer(c, c)
	s.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	s.write(func() error { return s.fr.WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1}) })
	for {
		f, err := s.fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				s.write(s.fr.WriteSettingsAck)
			}
		case *http2.MetaHeadersFrame:
			s.write(func() error {
				s.hbuf.Reset()
				_ = s.henc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
				return s.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: s.hbuf.Bytes(), EndHeaders: true})
			})
			s.opened <- f.StreamID
		}
	}
}

func (s *frameServer) write(f func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = f()
}

// TestHTTP2DialGoAway: a GOAWAY whose last stream ID leaves a WebSocket's
// stream out ends that WebSocket with ErrConnectionLost (the server never
// processed it, RFC 9113 §6.8), while the covered one goes on receiving.
func TestHTTP2DialGoAway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := startFrameServer(t)
	dial := func() (*ws.Conn, uint32) {
		c, resp, err := ws.Dial(ctx, s.url, ws.WithHTTP2(), ws.WithTLSConfig(s.tls))
		require.NoError(t, err)
		require.Equal(t, 2, resp.ProtoMajor)
		return c, <-s.opened
	}
	covered, id1 := dial()
	defer covered.CloseNow()
	left, id2 := dial()
	defer left.CloseNow()
	require.Less(t, id1, id2)

	s.write(func() error { return s.fr.WriteGoAway(id1, http2.ErrCodeNo, nil) })
	<-left.Done()
	assert.ErrorIs(t, left.Err(), ws.ErrConnectionLost)
	t.Log(left.Err())

	// An unmasked text frame "hi" on the covered stream.
	s.write(func() error { return s.fr.WriteData(id1, false, []byte{0x81, 2, 'h', 'i'}) })
	m, err := covered.Receive(ctx)
	require.NoError(t, err)
	assert.Equal(t, "hi", string(m.Data))
}
