package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"minsheng"
)

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

// badQuery turns the messages queryInt recorded into one EINVALID.
func badQuery(bad map[string]string) error {
	if len(bad) > 0 {
		return minsheng.Invalid("查询条件无效", bad)
	}
	return nil
}
