package handlers

import (
	"errors"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"minsheng/internal/httpkit"
	"minsheng/internal/idem"
)

const (
	// idemMaxAnswer bounds a stored answer; a bigger one is not kept and a
	// retry runs again (the domain's own idempotency still holds).
	idemMaxAnswer = 256 << 10
	idemLocal     = "idempotency_id"
)

// idempotency serves the Idempotency-Key header of every mutating route
// (sign-in and account routes excepted, see idempotentPath) by the kit's
// one rule (httpkit.Once, as /mobile/v1's routes do).
// A key belongs to its caller (the user, or an anonymous client's address)
// and route and is bound to httpkit.RequestHash: the first request claims a
// record and runs; a repeat with the same body gets the stored answer with
// Idempotency-Replayed: true (waiting up to idem.Config.Wait while the first
// still runs, then 409); a repeat with another body gets 422. Server errors are
// not stored, so a retry runs again.
func (s *Server) idempotency(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch, fiber.MethodDelete:
	default:
		return c.Next()
	}
	if !idempotentPath(c.Path()) {
		return c.Next()
	}
	key, err := httpkit.IdempotencyKey(c)
	if err != nil {
		return err
	}
	if key == "" {
		return c.Next()
	}
	caller := "anon:" + c.IP()
	if p, ok := httpkit.OptionalPrincipal(c); ok {
		caller = "user:" + p.UserID
	}
	route := httpkit.IdempotencyRoute(c)
	id := idem.ID(caller, route, key)
	c.Locals(idemLocal, id)
	if s.idem == nil {
		return c.Next()
	}
	formerly, err := httpkit.FormerWebHash(c)
	if err != nil {
		return err
	}
	ans, err := httpkit.Once(c, s.idem, idem.Request{ID: id, Route: route, Formerly: formerly}, func() (idem.Answer, error) {
		if err := c.Next(); err != nil {
			if herr := s.errorHandler(c, err); herr != nil {
				return idem.Answer{}, herr // not an answer: the key is released
			}
		}
		status, body := c.Response().StatusCode(), c.Response().Body()
		return idem.Answer{Status: status, ContentType: string(c.Response().Header.ContentType()),
			Body: slices.Clone(body), Transient: !storable(status) || len(body) > idemMaxAnswer}, nil
	})
	switch {
	case errors.Is(err, idem.ErrNotStored):
		// The answer stands; the key is released, so a retry runs again
		// (the domain's own idempotency still holds).
		s.logger.ErrorContext(c.UserContext(), "idempotency finish", "err", err)
		return nil
	case err != nil:
		return err
	case !ans.Replayed:
		return nil // this request ran: its answer is already written
	}
	c.Locals(routeLabelKey, "idempotent replay") // one label: paths hold ids
	return httpkit.SendAnswer(c, ans)
}

// idempotentPath reports whether the Idempotency-Key of a request to p is
// served here. Sign-in and account routes are not: their answers are
// credentials and their bodies passwords, neither of which may be kept, not
// even hashed. /mobile/v1 is not either: the cadre app's API requires a key
// on every action and answers replays itself (through the same idem.Store.Do),
// so one request is never recorded twice. Nor the bulk case steps: they keep
// one record per case (cases_bulk.go), so a big answer is never the unit.
func idempotentPath(p string) bool {
	p = strings.ToLower(p)
	return !strings.HasPrefix(p, "/api/v1/auth/") && p != "/api/v1/users" && !strings.HasPrefix(p, "/api/v1/users/") &&
		!strings.HasPrefix(p, "/mobile/") && !strings.HasPrefix(p, "/api/v1/cases/bulk/")
}

// storable reports whether an answer is what every retry should get: not a
// server error, nor one that depends on the moment (credentials, limits).
func storable(status int) bool {
	switch {
	case status >= 500:
		return false
	case status == fiber.StatusUnauthorized, status == fiber.StatusRequestTimeout, status == fiber.StatusTooManyRequests:
		return false
	}
	return true
}

// idempotencyKey is the key domain services store for a request carrying
// Idempotency-Key: bound to the caller and route, so a key reused by another
// caller or on another line never finds the first one's result. "" without
// the header.
func idempotencyKey(c *fiber.Ctx) string {
	id, _ := c.Locals(idemLocal).(string)
	return id
}
