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
	"errors"
	"net"
	"syscall"
)

// minsheng patch: see clientgone.go.

// rawConn returns nc's file descriptor access, or nil if nc is not a socket.
func rawConn(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// peerClosedWait waits, in the runtime's poller, until the socket is
// readable or its read deadline passes, and reports whether the client has
// closed it. It peeks and never consumes: a read of 0 bytes is the client's
// FIN, a reset is a reset; bytes waiting (the next request) mean the client
// is there, and the wait ends without calling it gone.
func peerClosedWait(raw syscall.RawConn) bool {
	closed := false
	err := raw.Read(func(fd uintptr) bool {
		var b [1]byte
		for {
			n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			switch {
			case err == nil:
				closed = n == 0
				return true
			case errors.Is(err, syscall.EINTR):
				continue
			case errors.Is(err, syscall.EAGAIN):
				return false // nothing to read yet: wait for readability
			default:
				closed = true // ECONNRESET, ENOTCONN: nobody to answer
				return true
			}
		}
	})
	// err is the deadline set by stop (the command ended first) or a closed
	// connection; neither is a client gone mid-command.
	return err == nil && closed
}
