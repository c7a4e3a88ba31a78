//go:build !unix

package handlers

import "syscall"

// peerClosed cannot peek at a socket here; only RequestTimeout ends a
// request whose client is gone.
func peerClosed(syscall.RawConn) bool { return false }
