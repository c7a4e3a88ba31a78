package handlers

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"minsheng"
)

// The one paging rule of every list: ?cursor= (the next_cursor of the
// previous page) and ?limit= from 1 to MaxPageLimit, DefaultPageLimit when
// absent; a limit out of range is 400 naming limit.
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 100
)

// pageParams are the parameters queryPage reads; list routes declare them
// with listQuery.
var pageParams = []string{"cursor", "limit"}

// routeQuery starts reading a route's query string: allowed names every
// parameter the route takes, and each other one is recorded in the
// returned map (which queryInt and queryPage also fill), so badQuery
// answers 400 naming it instead of the filter being silently ignored.
func routeQuery(c *fiber.Ctx, allowed ...string) map[string]string {
	bad := map[string]string{}
	c.Request().URI().QueryArgs().VisitAll(func(k, _ []byte) {
		if name := string(k); !slices.Contains(allowed, name) {
			bad[name] = "未知查询参数"
		}
	})
	return bad
}

// listQuery is routeQuery for a list: cursor and limit are allowed too.
func listQuery(c *fiber.Ctx, allowed ...string) map[string]string {
	return routeQuery(c, append(allowed, pageParams...)...)
}

// queryPage reads cursor and limit under the one paging rule.
func queryPage(c *fiber.Ctx, bad map[string]string) (cursor string, limit int) {
	limit = DefaultPageLimit
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageLimit {
			bad["limit"] = "须为 1 到 " + strconv.Itoa(MaxPageLimit) + " 的整数"
		} else {
			limit = n
		}
	}
	return c.Query("cursor"), limit
}

// queryInt reads an optional integer query parameter into *dst, recording
// a message in bad when it is not one.
func queryInt(c *fiber.Ctx, name string, dst *int, bad map[string]string) {
	v := c.Query(name)
	if v == "" {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		bad[name] = "须为整数"
		return
	}
	*dst = n
}

// badQuery turns the messages recorded in bad into one EINVALID; unknown
// parameters are named in the message too.
func badQuery(bad map[string]string) error {
	if len(bad) == 0 {
		return nil
	}
	var unknown []string
	for k, v := range bad {
		if v == "未知查询参数" {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return minsheng.Invalid("未知查询参数："+strings.Join(unknown, "、"), bad)
	}
	return minsheng.Invalid("查询条件无效", bad)
}

// noQuery refuses any query parameter on a route that takes none.
func noQuery(c *fiber.Ctx) error { return badQuery(routeQuery(c)) }

// requireVersion is the one check of the version a step states it read:
// missing is 400 here, a stale one 409 from the domain.
func requireVersion(v *int64) (int64, error) {
	if v == nil || *v < 1 {
		return 0, minsheng.Invalid("version 必填", map[string]string{"version": "必填，须为读取时的版本号"})
	}
	return *v, nil
}
