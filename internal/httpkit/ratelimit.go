package httpkit

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
// Idempotency-Key. Both APIs throttle through it, so one action has one
// limit whichever API is used.
func (k *Kit) Throttle(allow func(*auth.Service, context.Context, auth.Attempt) error) fiber.Handler {
	return k.ThrottleBy(allow, func(c *fiber.Ctx) string { return c.Get(HeaderIdempotencyKey) })
}

// ThrottleBy is Throttle for routes whose replay key is not the
// Idempotency-Key header but, say, the client UUID in the path (PUT
// /mobile/v1/cases/:id): key returns it, and a replay of a key already
// counted is not counted again.
func (k *Kit) ThrottleBy(allow func(*auth.Service, context.Context, auth.Attempt) error, key func(*fiber.Ctx) string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, _ := OptionalPrincipal(c)
		a := auth.Attempt{Principal: p, IP: c.IP(), IdempotencyKey: key(c)}
		if err := allow(k.Auth, c.UserContext(), a); err != nil {
			return err
		}
		return c.Next()
	}
}
