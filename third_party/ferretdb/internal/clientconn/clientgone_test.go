// Copyright 2021 FerretDB Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//go:build unix

package clientconn

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/FerretDB/wire"
	"github.com/FerretDB/wire/wirebson"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// minsheng patch: tests of clientgone.go.

// unixPair returns the server and client ends of a Unix socket connection.
func unixPair(t *testing.T) (server, client net.Conn) {
	t.Helper()

	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })

	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()

	client, err = net.Dial("unix", l.Addr().String())
	require.NoError(t, err)
	server = <-accepted
	require.NotNil(t, server)
	t.Cleanup(func() { _ = server.Close(); _ = client.Close() })

	return server, client
}

func TestWatchClient(t *testing.T) {
	t.Parallel()

	t.Run("client closes mid-command", func(t *testing.T) {
		t.Parallel()

		server, client := unixPair(t)
		gone := make(chan struct{})
		stop := watchClient(context.Background(), server, 0, func() { close(gone) })

		require.NoError(t, client.Close())

		select {
		case <-gone:
		case <-time.After(10 * time.Second):
			t.Fatal("gone not called 10 s after the client closed")
		}
		stop()
	})

	t.Run("command ends first", func(t *testing.T) {
		t.Parallel()

		server, client := unixPair(t)
		called := false
		stop := watchClient(context.Background(), server, 0, func() { called = true })
		stop()
		assert.False(t, called, "gone called without the client closing")

		// the read deadline is cleared: the next request is read
		_, err := client.Write([]byte("next"))
		require.NoError(t, err)
		b := make([]byte, 4)
		_, err = io.ReadFull(server, b)
		require.NoError(t, err)
		assert.Equal(t, "next", string(b))
	})

	t.Run("next request arrives", func(t *testing.T) {
		t.Parallel()

		server, client := unixPair(t)
		called := make(chan struct{}, 1)
		stop := watchClient(context.Background(), server, 0, func() { called <- struct{}{} })

		_, err := client.Write([]byte("next"))
		require.NoError(t, err)
		time.Sleep(50 * time.Millisecond)
		stop()

		assert.Empty(t, called, "gone called for a client that sent a request")

		// nothing was consumed
		b := make([]byte, 4)
		_, err = io.ReadFull(server, b)
		require.NoError(t, err)
		assert.Equal(t, "next", string(b))
	})

	t.Run("connection context ends", func(t *testing.T) {
		t.Parallel()

		server, _ := unixPair(t)
		ctx, cancel := context.WithCancel(context.Background())
		stop := watchClient(ctx, server, 0, func() {})
		cancel()
		stop()

		// run's shutdown deadline is kept, so its next read returns
		_, err := server.Read(make([]byte, 1))
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	})

	t.Run("bytes buffered", func(t *testing.T) {
		t.Parallel()

		server, client := unixPair(t)
		called := false
		stop := watchClient(context.Background(), server, 1, func() { called = true })
		require.NoError(t, client.Close())
		time.Sleep(50 * time.Millisecond)
		stop()
		assert.False(t, called, "watched although the next request was buffered")
	})
}

func TestWatchedCommand(t *testing.T) {
	msg := func(pairs ...any) *wire.OpMsg {
		t.Helper()

		m, err := wire.NewOpMsg(wirebson.MustDocument(pairs...))
		require.NoError(t, err)

		return m
	}

	for name, tc := range map[string]struct {
		command string
		msg     *wire.OpMsg
		want    bool
	}{
		"find":          {"find", msg("find", "c"), true},
		"insert":        {"insert", msg("insert", "c"), false},
		"update":        {"update", msg("update", "c"), false},
		"findAndModify": {"findAndModify", msg("findAndModify", "c"), false},
		"aggregate": {"aggregate", msg("aggregate", "c", "pipeline", wirebson.MustArray(
			wirebson.MustDocument("$match", wirebson.MustDocument("a", int32(1))),
		)), true},
		"aggregate $out": {"aggregate", msg("aggregate", "c", "pipeline", wirebson.MustArray(
			wirebson.MustDocument("$out", "d"),
		)), false},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, watchedCommand(tc.command, tc.msg))
		})
	}
}
