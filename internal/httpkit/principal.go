package httpkit

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"minsheng"
	"minsheng/internal/auth"
)

const principalKey = "principal"

// Authenticate reads a Bearer token when one is sent. A bad token is an
// error even on routes that allow anonymous use, so a client learns that its
// session expired instead of silently acting anonymously.
func (k *Kit) Authenticate(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	if h == "" {
		return c.Next()
	}
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		return minsheng.Errorf(minsheng.EUNAUTHORIZED, "Authorization 头格式应为 Bearer <token>")
	}
	p, err := k.Auth.Authenticate(c.UserContext(), token)
	if err != nil {
		return err
	}
	c.Locals(principalKey, p)
	return c.Next()
}

// Principal returns the signed-in caller, or EUNAUTHORIZED.
func Principal(c *fiber.Ctx) (auth.Principal, error) {
	p, ok := OptionalPrincipal(c)
	if !ok {
		return auth.Principal{}, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	return p, nil
}

// OptionalPrincipal returns the caller if signed in (anonymous filing,
// logs, limits).
func OptionalPrincipal(c *fiber.Ctx) (auth.Principal, bool) {
	p, ok := c.Locals(principalKey).(auth.Principal)
	return p, ok
}
