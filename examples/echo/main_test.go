package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsactor/ws"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start runs the program on 127.0.0.1:0 and returns its URL, a function
// that stops it as SIGINT would, and its result.
func start(t *testing.T) (url string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-addr", "127.0.0.1:0"}, pw)
		pw.CloseWithError(errors.New("run returned"))
		errc <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	require.True(t, ok, "first line %q", line)
	return url, func() error { cancel(); return <-errc }
}

func TestEcho(t *testing.T) {
	url, stop := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := ws.Dial(ctx, url)
	require.NoError(t, err)
	for _, m := range []ws.Message{ws.Text("hello"), ws.Binary([]byte{1, 2, 3}), ws.Text(""), ws.Binary(make([]byte, 1<<20))} {
		require.NoError(t, c.Send(ctx, m))
		got := <-c.Incoming()
		require.Equal(t, m.Type, got.Type, "text stays text, binary stays binary")
		require.True(t, bytes.Equal(m.Data, got.Data))
	}

	// SIGINT: the server closes the connection with 1001 and run returns nil.
	require.NoError(t, stop())
	<-c.Done()
	var ce *ws.CloseError
	require.ErrorAs(t, c.Err(), &ce)
	require.Equal(t, ws.StatusGoingAway, ce.Code)
}

func TestEchoBadFlag(t *testing.T) {
	require.Error(t, run(context.Background(), []string{"-nope"}, io.Discard))
}
