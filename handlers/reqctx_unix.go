//go:build unix

package handlers

import (
	"errors"
	"syscall"
)

// peerClosed peeks at the socket without consuming anything or blocking:
// a read of 0 bytes is the client's FIN, a reset is a reset. Bytes waiting
// (a pipelined request) or nothing to read (EAGAIN) mean it is still there.
// A client that half-closes after its request (shutdown(SHUT_WR)) reads as
// gone; browsers, curl and Go's client do not do that.
func peerClosed(raw syscall.RawConn) bool {
	closed := false
	err := raw.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == nil:
			closed = n == 0
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
		default:
			closed = true // ECONNRESET, ENOTCONN, EBADF: nobody to answer
		}
	})
	return closed || err != nil
}
