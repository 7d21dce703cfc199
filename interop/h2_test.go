package interop

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	mathbig "math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/internal/h2test"
	"github.com/wsactor/ws/internal/wstest"
)

// nodeH2 runs testdata/h2peer.js (Node's own HTTP/2 stack) with args and
// returns its stdout lines; the process is killed and waited for at the
// end of the test.
func nodeH2(t *testing.T, ctx context.Context, args ...string) <-chan string {
	t.Helper()
	wstest.RequirePeer(t, wstest.PeerNode)
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join("testdata", "h2peer.js")}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	lines := make(chan string, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		_ = cmd.Wait()
	})
	return lines
}

// TestNodeHTTP2ClientOurServer: Node's http2 client opens a WebSocket to
// ws.Handler with an extended CONNECT (RFC 8441), exchanges a message and
// the close handshake. It re-runs itself with GODEBUG=http2xconnect=1.
func TestNodeHTTP2ClientOurServer(t *testing.T) {
	wstest.RequirePeer(t, wstest.PeerNode)
	if !h2test.ReexecWithXConnect(t) {
		return
	}
	ctx := wstest.DeadlineAfter(t, 30*time.Second)
	protos := make(chan string, 1)
	wsSrv := ws.Handler(func(ctx context.Context, c *ws.Conn) {
		r := ws.RequestFromContext(ctx)
		protos <- r.Proto + " " + r.Method + " " + c.Subprotocol()
		for m := range c.Incoming() {
			if c.Send(ctx, m) != nil {
				return
			}
		}
	}, ws.WithSubprotocols("chat"))
	srv := httptest.NewUnstartedServer(wsSrv)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	defer wsSrv.Shutdown(context.Background())

	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	line, ok := <-nodeH2(t, ctx, "client", port)
	require.True(t, ok, "h2peer.js client printed nothing")
	var res struct {
		OK       *bool           `json:"ok"`
		Error    string          `json:"error"`
		Status   int             `json:"status"`
		Protocol string          `json:"protocol"`
		Settings map[string]any  `json:"settings"`
		Echo     string          `json:"echo"`
		Close    int             `json:"close"`
		Ended    bool            `json:"ended"`
		Partial  json.RawMessage `json:"partial"`
	}
	require.NoError(t, json.Unmarshal([]byte(line), &res), line)
	require.Nil(t, res.OK, "h2peer.js: %s", line)
	assert.Equal(t, true, res.Settings["enableConnectProtocol"], "SETTINGS_ENABLE_CONNECT_PROTOCOL as Node read it")
	assert.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "chat", res.Protocol)
	assert.Equal(t, "hello from node http2", res.Echo)
	assert.Equal(t, 1000, res.Close)
	assert.True(t, res.Ended, "our server ended the stream (END_STREAM) after the close handshake")
	assert.Equal(t, "HTTP/2.0 CONNECT chat", <-protos)
}

// TestOurClientNodeHTTP2Server: ws.Dial with WithHTTP2 against Node's
// http2 server with enableConnectProtocol: three WebSockets share one
// connection, each echoes text and a 100 KiB binary message, pings and
// closes with 1000.
func TestOurClientNodeHTTP2Server(t *testing.T) {
	ctx := wstest.DeadlineAfter(t, 30*time.Second)
	dir := t.TempDir()
	pool := writeTestCert(t, dir)
	lines := nodeH2(t, ctx, "server", filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	line, ok := <-lines
	require.True(t, ok, "h2peer.js server printed nothing")
	var started struct{ Port int }
	require.NoError(t, json.Unmarshal([]byte(line), &started), line)
	url := "wss://127.0.0.1:" + strconv.Itoa(started.Port) + "/echo"

	tc := &tls.Config{RootCAs: pool}
	conns := make([]*ws.Conn, 3)
	for i := range conns {
		c, resp, err := ws.Dial(ctx, url, ws.WithHTTP2(), ws.WithTLSConfig(tc), ws.WithSubprotocols("chat"))
		require.NoError(t, err)
		assert.Equal(t, 2, resp.ProtoMajor)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "chat", c.Subprotocol())
		conns[i] = c
	}
	payload := make([]byte, 100<<10)
	for i := range payload {
		payload[i] = byte(i)
	}
	for _, c := range conns {
		for _, m := range []ws.Message{ws.Text("hello node"), ws.Binary(payload)} {
			require.NoError(t, c.Send(ctx, m))
			got := recv(t, ctx, c)
			assert.Equal(t, m.Type, got.Type)
			assert.Equal(t, m.Data, got.Data)
		}
		_, err := c.Ping(ctx)
		require.NoError(t, err)
	}
	for _, c := range conns {
		require.NoError(t, c.Close(ctx, ws.StatusNormalClosure, "bye"))
	}
	// Node saw three extended CONNECTs, all on one connection.
	var peers []string
	for range conns {
		line, ok := <-lines
		require.True(t, ok)
		var ev struct {
			Headers map[string]string `json:"headers"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &ev), line)
		assert.Equal(t, "CONNECT", ev.Headers[":method"])
		assert.Equal(t, "websocket", ev.Headers[":protocol"])
		assert.Equal(t, "/echo", ev.Headers[":path"])
		assert.Empty(t, ev.Headers["sec-websocket-key"], "RFC 8441 §5: no key")
		peers = append(peers, ev.Headers[":authority"])
	}
	assert.Len(t, peers, 3)
	assert.Equal(t, conns[0].LocalAddr().String(), conns[2].LocalAddr().String(), "one TCP connection")
}

// writeTestCert writes a self-signed certificate for 127.0.0.1 to dir
// (cert.pem, key.pem) and returns a pool that trusts it.
func writeTestCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: mathbig.NewInt(1),
		Subject:      pkix.Name{CommonName: "wsactor interop"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}
