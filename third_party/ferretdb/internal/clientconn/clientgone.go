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

package clientconn

// minsheng patch: a read command whose client closed the connection stops.
//
// Stock FerretDB reads a request, runs it to its end and only then writes
// the reply, so a find whose client had given up (the Go driver closes the
// connection when an operation's context is cancelled) kept decoding the
// whole collection. While a read-only command runs, watchClient waits for
// the socket to become readable, peeks at it without consuming anything and,
// if the client has closed it, cancels the connection's context: the
// backend iterators check it on every row, database/sql closes the rows and
// modernc.org/sqlite interrupts a running statement. Nothing else can use a
// connection whose client has gone, so cancelling all of its context
// (cursors included, which die with the connection anyway) is what the
// connection's end would do a little later.

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"time"

	"github.com/FerretDB/wire"
)

// errClientGone is the cause of a connection context cancelled because the
// client closed the connection while a command ran.
var errClientGone = errors.New("client closed the connection")

// readOnlyCommands are the commands that are stopped when their client goes
// away. Writes always run to their end, as stock does: stopping one halfway
// (an insert of many documents, an update between its read and its write)
// would leave a partial result nobody asked for.
var readOnlyCommands = map[string]bool{
	"find":      true,
	"getMore":   true,
	"aggregate": true, // unless it writes: see watchedCommand
	"count":     true,
	"distinct":  true,
	"explain":   true,
}

// watchedCommand reports whether the command in msg may be stopped when its
// client goes away. An aggregate that mentions $out or $merge anywhere is
// treated as a write.
func watchedCommand(command string, msg *wire.OpMsg) bool {
	if os.Getenv("FERRETDB_STOCK_CLIENTCONN") != "" {
		return false
	}
	if !readOnlyCommands[command] {
		return false
	}
	if command == "aggregate" {
		raw := msg.RawSection0()
		return !bytes.Contains(raw, []byte("$out")) && !bytes.Contains(raw, []byte("$merge"))
	}
	return true
}

// watchClient watches nc, while a command runs, for its client closing the
// connection, and calls gone once if so. The returned stop ends the watch
// and returns only once it has ended, with nc's read deadline cleared so
// that the connection loop can read the next request, or in the past if
// ctx (the connection's) has ended meanwhile, as run's own goroutine sets
// it. buffered is the number of bytes of the next request already read;
// with some, the client is there and nothing is watched. Connections that
// are not sockets (TLS, pipes in tests) are not watched.
func watchClient(ctx context.Context, nc net.Conn, buffered int, gone func()) (stop func()) {
	if buffered > 0 {
		return func() {}
	}
	raw := rawConn(nc)
	if raw == nil {
		return func() {}
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		if peerClosedWait(raw) {
			gone()
		}
	}()
	return func() {
		// unblocks the wait above; any non-zero past value will do
		_ = nc.SetReadDeadline(time.Unix(0, 0))
		<-finished
		_ = nc.SetReadDeadline(time.Time{})
		if ctx.Err() != nil {
			_ = nc.SetReadDeadline(time.Unix(0, 0))
		}
	}
}
