package httpkit

import (
	"github.com/gofiber/fiber/v2"

	"minsheng/internal/auth"
)

// ThrottleSearch counts a request against the search limits
// (auth.Service.AllowSearch) before the route runs: every request when no
// params are named (a similar-case search), else only those whose query
// sets one of them (a case list filtered by free text), so that paging
// through a queue is not a search.
func (k *Kit) ThrottleSearch(params ...string) fiber.Handler {
	throttle := k.Throttle((*auth.Service).AllowSearch)
	return func(c *fiber.Ctx) error {
		if len(params) == 0 {
			return throttle(c)
		}
		for _, name := range params {
			if c.Query(name) != "" {
				return throttle(c)
			}
		}
		return c.Next()
	}
}
