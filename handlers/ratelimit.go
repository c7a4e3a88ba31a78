package handlers

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"minsheng/internal/auth"
)

// retryAfter is the Retry-After value of an ERATELIMITED error: the real
// wait its cause carries (auth.RetryAfter, media.Busy), in whole seconds
// rounded up, as the message states it; 1 when it carries none.
func retryAfter(err error) string {
	var w interface{ RetryAfterDuration() time.Duration }
	if errors.As(err, &w) {
		return strconv.Itoa((&auth.RetryAfter{Wait: w.RetryAfterDuration()}).Seconds())
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
