package httpkit

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"minsheng"
	"minsheng/internal/page"
)

// pageParams are the parameters QueryPage reads; list routes declare them
// with ListQuery.
var pageParams = []string{"cursor", "limit"}

// RouteQuery starts reading a route's query string: allowed names every
// parameter the route takes, and each other one is recorded in the
// returned map (which QueryInt and QueryPage also fill), so BadQuery
// answers 400 naming it instead of the filter being silently ignored. An
// allowed one given twice is refused too: only its first value would be
// read.
func RouteQuery(c *fiber.Ctx, allowed ...string) map[string]string {
	bad := map[string]string{}
	seen := map[string]bool{}
	c.Request().URI().QueryArgs().VisitAll(func(k, _ []byte) {
		switch name := string(k); {
		case !slices.Contains(allowed, name):
			bad[name] = "未知查询参数"
		case seen[name]:
			bad[name] = "只能出现一次"
		default:
			seen[name] = true
		}
	})
	return bad
}

// ListQuery is RouteQuery for a list: cursor and limit are allowed too.
func ListQuery(c *fiber.Ctx, allowed ...string) map[string]string {
	return RouteQuery(c, append(allowed, pageParams...)...)
}

// QueryPage reads ?cursor= (the next_cursor of the previous page, opaque
// here: the list decodes it) and ?limit= under the one paging rule
// (internal/page): 1 to page.MaxLimit, page.DefaultLimit when absent; a
// limit out of range or not a number is recorded in bad.
func QueryPage(c *fiber.Ctx, bad map[string]string) (cursor string, limit int) {
	limit = page.DefaultLimit
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n == 0 {
			bad["limit"] = page.LimitHint()
		} else {
			limit = page.Limit(n, bad)
		}
	}
	return c.Query("cursor"), limit
}

// QueryInt reads an optional integer query parameter into *dst, recording
// a message in bad when it is not one.
func QueryInt(c *fiber.Ctx, name string, dst *int, bad map[string]string) {
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

// BadQuery turns the messages recorded in bad into one EINVALID; unknown
// parameters are named in the message too.
func BadQuery(bad map[string]string) error {
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

// NoQuery refuses any query parameter on a route that takes none.
func NoQuery(c *fiber.Ctx) error { return BadQuery(RouteQuery(c)) }

// OnlyQuery refuses any query parameter but allowed, for a route whose
// parameters need no checks of their own.
func OnlyQuery(c *fiber.Ctx, allowed ...string) error { return BadQuery(RouteQuery(c, allowed...)) }

// RequireVersion is the one check of the version a request states it read
// (optimistic concurrency), for every entity of both APIs: missing is 400
// "version 必填", a negative one 400 too; any other is the domain's to
// compare, which answers a stale one with 409. Zero is a version: a budget
// line starts at 0, a case at 1 (where 0 is merely stale).
func RequireVersion(v *int64) (int64, error) {
	switch {
	case v == nil:
		return 0, minsheng.Invalid("version 必填", map[string]string{"version": "必填，须为读取时的版本号"})
	case *v < 0:
		return 0, minsheng.Invalid("version 无效", map[string]string{"version": "须为读取时的版本号（不小于 0 的整数）"})
	}
	return *v, nil
}

// BindVersioned decodes a versioned write's body into dst (BindJSON) and
// checks the version it states, the field version points at
// (RequireVersion): the two checks every versioned step makes, in order.
func BindVersioned(c *fiber.Ctx, dst any, version **int64) (int64, error) {
	if err := BindJSON(c, dst); err != nil {
		return 0, err
	}
	return RequireVersion(*version)
}
