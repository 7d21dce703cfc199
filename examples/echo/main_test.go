package main

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wsactor/ws"
	"github.com/wsactor/ws/internal/wstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start runs the program on 127.0.0.1:0 and returns its URL and a
// function that stops it as SIGINT would.
func start(t *testing.T) (url string, stop func() error) {
	t.Helper()
	return wstest.StartProgram(t, run, "-addr", "127.0.0.1:0")
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
