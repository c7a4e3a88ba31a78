package handlers

// Every request's context (c.UserContext(), which handlers pass to every
// store call) ends when the request's deadline passes or its client goes
// away. Fiber v2 on fasthttp never cancels a request's context: without
// this, a list whose client had hung up (a phone losing signal, a console
// tab closed, a load balancer giving up) kept the store busy to the end,
// and under load the abandoned scans piled up (issue 9: 8 staff opening
// lists got 100 % HTTP 500 while memory went from 92 MB to 644 MB).

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// RequestTimeout bounds one request's work; the store's own per-operation
// timeout applies only to operations started without a deadline.
const RequestTimeout = 30 * time.Second

// peerPoll is how often a running request looks whether its client is
// still connected.
const peerPoll = 50 * time.Millisecond

// StatusClientClosed is what the access log and metrics record for a
// request whose client went away before its answer (nginx's 499); nobody
// receives it.
const StatusClientClosed = 499

// errClientGone is the cause of a request context cancelled because the
// client closed its connection.
var errClientGone = errors.New("handlers: client closed the connection")

// abandonMetrics counts requests whose work was stopped.
type abandonMetrics struct {
	abandoned *prometheus.CounterVec
}

func newAbandonMetrics(reg prometheus.Registerer) *abandonMetrics {
	m := &abandonMetrics{abandoned: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "minsheng_http_requests_abandoned_total",
		Help: "Requests whose work was stopped: reason client_gone (the client closed the connection) or deadline (RequestTimeout passed).",
	}, []string{"reason"})}
	reg.MustRegister(m.abandoned)
	return m
}

// requestContext gives a read (GET, HEAD) a context with RequestTimeout
// that is also cancelled when the client closes its connection, so the
// store calls made with it return context.Canceled and the handler stops.
// The database stops too: the driver closes the connection of a cancelled
// operation (after 400 ms for a passed deadline), and the embedded engine
// then cancels the read command it was running (third_party/PATCHES,
// "Client gone"; TestClientGoneStopsTheEngineWork). The engine never stops
// a write that way. Writes keep running to their end, each store call under the store's own
// timeout, as before: a phone that loses signal mid-request must not turn
// every write it sent into a half-done one for `minsheng check` to finish
// (the writes are short; the scans that piled up were reads).
func (s *Server) requestContext(c *fiber.Ctx) error {
	if m := c.Method(); m != fiber.MethodGet && m != fiber.MethodHead {
		return c.Next()
	}
	parent, cancel := context.WithCancelCause(c.UserContext())
	defer cancel(nil)
	ctx, cancelTimeout := context.WithTimeout(parent, RequestTimeout)
	defer cancelTimeout()
	stop := watchPeer(c.Context().Conn(), func() { cancel(errClientGone) })
	c.SetUserContext(ctx)
	err := c.Next()
	stop()
	switch {
	case errors.Is(context.Cause(ctx), errClientGone):
		s.abandon.abandoned.WithLabelValues("client_gone").Inc()
		s.logger.InfoContext(ctx, "client gone, request abandoned", "method", c.Method(), "path", c.Path(), "err", err)
		c.Status(StatusClientClosed)
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		s.abandon.abandoned.WithLabelValues("deadline").Inc()
	}
	return err
}

// watchPeer polls conn, while the request runs, for its client having
// closed it, and calls gone once if so. The returned stop ends the watch
// and returns only once it has ended, before fasthttp reads or closes the
// connection again. A connection that is not a socket (app.Test's) is not
// watched.
func watchPeer(conn net.Conn, gone func()) (stop func()) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return func() {}
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(peerPoll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if peerClosed(raw) {
					gone()
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
