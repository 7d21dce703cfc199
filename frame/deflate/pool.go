package deflate

import (
	"github.com/klauspost/compress/flate"
	"io"
	"sync"
)

// Pools of flate state, which is big (a writer is 0.3–1.4 MiB depending on
// the level, a reader about 35 KiB) and so worth reusing across messages and
// connections. Writers are pooled per level, since a writer
// cannot change level.
var (
	writerPools [flate.BestCompression - flate.HuffmanOnly + 1]sync.Pool
	readerPool  sync.Pool
)

// getWriter returns a flate.Writer at level, reset to write to w.
// flate.NewWriter fails only on a bad level, which New has ruled out.
func getWriter(level int, w io.Writer) (*flate.Writer, error) {
	if fw, ok := writerPools[level-flate.HuffmanOnly].Get().(*flate.Writer); ok {
		fw.Reset(w)
		return fw, nil
	}
	return flate.NewWriter(w, level)
}

// putWriter gives fw back. Its destination still points at the owner's
// sink, a small separate object the owner clears before putting.
func putWriter(level int, fw *flate.Writer) {
	writerPools[level-flate.HuffmanOnly].Put(fw)
}

// inflater is what flate.NewReader returns.
type inflater interface {
	io.Reader
	flate.Resetter
}

// getReader returns an inflater reading src with dict as its history.
func getReader(src io.Reader, dict []byte) inflater {
	if fr, ok := readerPool.Get().(inflater); ok {
		// Reset never fails for flate's reader.
		_ = fr.Reset(src, dict)
		return fr
	}
	return flate.NewReaderDict(src, dict).(inflater)
}

func putReader(fr inflater) { readerPool.Put(fr) }
