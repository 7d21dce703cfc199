package reconnect

import (
	"context"
	"net/http"
	"time"

	"github.com/wsactor/ws/actor"
	"github.com/wsactor/ws/frame"
	"github.com/wsactor/ws/handshake"
)

// defaultDialer composes handshake and actor the minimal way: no
// subprotocol, no compression, the handshake's default limits, and
// keepalive.
func defaultDialer(interval, timeout time.Duration) DialFunc {
	return func(ctx context.Context, url string, header http.Header) (*actor.Conn, *http.Response, error) {
		hc := &handshake.Client{Header: header}
		acc, err := hc.Dial(ctx, url)
		if err != nil {
			return nil, nil, err
		}
		conn, err := actor.New(acc.Conn, acc.Reader, frame.Client, actor.WithKeepalive(interval, timeout))
		if err != nil {
			acc.Conn.Close()
			return nil, nil, err
		}
		return conn, acc.Response, nil
	}
}
