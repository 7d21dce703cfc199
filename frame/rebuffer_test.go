package frame_test

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wsactor/ws/frame"
)

// Rebuffer hands over what the old reader had read ahead, then the source:
// every byte once, in order, through a buffer of the size asked for (or of
// the leftover, if larger).
func TestRebuffer(t *testing.T) {
	const all = "0123456789abcdefXYZ" // the old reader buffers the first 16 bytes
	for _, tt := range []struct {
		name     string
		leftover int // bytes still buffered in the old reader
		size     int
		wantSize int
	}{
		{"nothing buffered", 0, 64, 64},
		{"leftover carried", 13, 64, 64},
		{"leftover larger than size", 16, 4, 16},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.NewReader(all)
			old := bufio.NewReaderSize(src, 16)
			_, err := old.Peek(16)
			require.NoError(t, err)
			_, err = old.Discard(16 - tt.leftover)
			require.NoError(t, err)
			br := frame.Rebuffer(src, old, tt.size)
			require.Equal(t, tt.wantSize, br.Size())
			rest, err := io.ReadAll(br)
			require.NoError(t, err)
			require.Equal(t, all[16-tt.leftover:], string(rest))
		})
	}
}
