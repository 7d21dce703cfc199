package chatroom

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/reconnect"
)

// DialAny returns a reconnect.DialFunc for a service served by several
// nodes: it ignores the client's own URL and dials one of urls, a random
// one first and then, on each redial, a random one other than the last.
// A node that goes away (1001 on a rolling restart) is not retried while
// the others are there, and its clients spread over the remaining nodes
// rather than all moving to the same next one — which, restart after
// restart, would pile every client onto the last node restarted.
func DialAny(urls ...string) reconnect.DialFunc { return DialAnyResume(nil, urls...) }

// DialAnyResume is DialAny adding r's ?since= to every URL it dials (r
// may be nil: no resume), so that a client moved to another node receives
// the lines it missed. The client passes each message it receives through
// r.See.
func DialAnyResume(r *Resume, urls ...string) reconnect.DialFunc {
	var (
		mu   sync.Mutex
		last = -1
	)
	return func(ctx context.Context, url string, opts ...ws.DialOption) (*ws.Conn, *http.Response, error) {
		if len(urls) > 0 {
			mu.Lock()
			last = pickOther(len(urls), last)
			url = urls[last]
			mu.Unlock()
		}
		if r != nil {
			url = r.URL(url)
		}
		return ws.Dial(ctx, url, opts...)
	}
}

// pickOther returns a random index in [0, n) other than last, when n > 1.
func pickOther(n, last int) int {
	if last < 0 || n < 2 {
		return rand.IntN(n)
	}
	i := rand.IntN(n - 1)
	if i >= last {
		i++
	}
	return i
}
