package handlers

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"minsheng/internal/auth"
)

// retryAfter is the Retry-After value of an ERATELIMITED error: the real
// wait the error carries, in whole seconds rounded up (the message states
// the same wait); 1 when it carries none (a busy server, not a limit).
func retryAfter(err error) string {
	if wait, ok := auth.RetryAfterOf(err); ok {
		return strconv.Itoa((&auth.RetryAfter{Wait: wait}).Seconds())
	}
	return "1"
}

// Throttle counts a request against the caller's limits before the route
// runs: allow is an auth.Service method expression such as
// (*auth.Service).AllowFiling, given the caller (if signed in), the client
// address (the trusted proxy's header when one is configured) and the
// Idempotency-Key.
func (s *Server) Throttle(allow func(*auth.Service, context.Context, auth.Attempt) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, _ := principalOf(c)
		a := auth.Attempt{Principal: p, IP: c.IP(), IdempotencyKey: c.Get("Idempotency-Key")}
		if err := allow(s.Auth, c.UserContext(), a); err != nil {
			return err
		}
		return c.Next()
	}
}
