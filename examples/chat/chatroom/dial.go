package chatroom

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync/atomic"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/reconnect"
)

// DialAny returns a reconnect.DialFunc that dials urls in turn, starting
// at a random one, ignoring the client's own URL: each redial after a node
// goes away tries the next node, and a crowd of clients spreads over the
// nodes instead of all trying the first.
func DialAny(urls ...string) reconnect.DialFunc {
	next := atomic.Uint64{}
	next.Store(rand.Uint64N(uint64(max(len(urls), 1))))
	return func(ctx context.Context, url string, opts ...ws.DialOption) (*ws.Conn, *http.Response, error) {
		if len(urls) > 0 {
			url = urls[(next.Add(1)-1)%uint64(len(urls))]
		}
		return ws.Dial(ctx, url, opts...)
	}
}
