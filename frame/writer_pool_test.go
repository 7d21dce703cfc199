package frame

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// countingWriter records the size of every Write call.
type countingWriter struct {
	bytes.Buffer
	writes []int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes = append(c.writes, len(p))
	return c.Buffer.Write(p)
}

func TestWriterPooledBuffer(t *testing.T) {
	t.Run("5.3/idle writer holds no buffer after Flush", func(t *testing.T) {
		var out bytes.Buffer
		w := NewWriter(&out, Client, WriterConfig{})
		require.Nil(t, w.buf)
		require.NoError(t, w.WriteMessage(OpText, []byte("hello")))
		require.NotNil(t, w.buf, "a batch borrows the buffer")
		require.NoError(t, w.Flush())
		require.Nil(t, w.buf, "Flush gives it back")
		require.Zero(t, w.Buffered())
	})
	t.Run("5.3/custom size buffer is the writer's own", func(t *testing.T) {
		var out bytes.Buffer
		w := NewWriter(&out, Server, WriterConfig{BufferSize: 4096})
		require.Equal(t, 4096, cap(w.buf))
		require.NoError(t, w.WriteMessage(OpText, []byte("hello")))
		require.NoError(t, w.Flush())
		require.Equal(t, 4096, cap(w.buf))
	})
	t.Run("5.3/large masked frame is masked in one piece per MiB", func(t *testing.T) {
		for _, size := range []int{DefaultWriteBufferSize + 1, 64 << 10, 1 << 20, 3<<20 + 100} {
			var cw countingWriter
			w := NewWriter(&cw, Client, WriterConfig{})
			payload := bytes.Repeat([]byte{0xA5}, size)
			orig := bytes.Clone(payload)
			require.NoError(t, w.WriteMessage(OpBinary, payload))
			require.NoError(t, w.Flush())
			require.Equal(t, orig, payload, "the caller's bytes are never masked in place")
			// net.Buffers writes header and piece with one writev on a
			// socket; on a plain io.Writer it calls Write per slice, so
			// count the writes that carry payload: one per 1 MiB piece.
			var pieces int
			for _, n := range cw.writes {
				if n > MaxHeaderSize {
					pieces++
				}
			}
			require.Equal(t, (size+maxPooledBuf-1)/maxPooledBuf, pieces, "size %d: writes %v", size, cw.writes)

			r := NewReader(bufio.NewReader(&cw.Buffer), Server, ReaderConfig{})
			op, got, err := r.ReadMessage(nil)
			require.NoError(t, err)
			require.Equal(t, OpBinary, op)
			require.Equal(t, orig, got)
		}
	})
}
