package reconnect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/handshake"
)

// dial opens one connection with the configured options, and the header
// of this attempt after them so that it wins over a ws.WithHeader among
// them.
func (c *Client) dial(ctx context.Context, h http.Header) (*ws.Conn, *http.Response, error) {
	opts := c.cfg.allDialOpts()
	if c.cfg.header != nil {
		opts = append(opts[:len(opts):len(opts)], ws.WithHeader(h))
	}
	return c.cfg.dial(ctx, c.url, opts...)
}

// allDialOpts is WithDialOptions' options, then the layer's.
func (c *config) allDialOpts() []ws.DialOption {
	if c.layer == nil {
		return c.dialOpts
	}
	opts := c.dialOpts
	return append(opts[:len(opts):len(opts)], c.layer.DialOptions()...)
}

// errProbe ends checkDialOptions' dial before any I/O.
var errProbe = errors.New("reconnect: option check")

// checkDialOptions reports an invalid ws option at New, where every dial
// would otherwise fail with it and be retried for ever. ws.Dial validates
// its options before it connects; the probe's proxy and net dial functions
// stop it right after, so nothing is opened and no function of the user's
// runs. An invalid URL is left to Run, where Classify stops on it.
func checkDialOptions(url string, opts []ws.DialOption) error {
	probe := append(opts[:len(opts):len(opts)],
		ws.WithProxy(func(*http.Request) (*neturl.URL, error) { return nil, nil }),
		ws.WithNetDial(func(context.Context, string, string) (net.Conn, error) { return nil, errProbe }))
	_, _, err := ws.Dial(context.Background(), url, probe...)
	if err == nil || errors.Is(err, errProbe) || errors.Is(err, handshake.ErrBadURL) {
		return nil
	}
	return fmt.Errorf("reconnect: WithDialOptions: %w", err)
}
