package handlers

import (
	"github.com/gofiber/fiber/v2"

	"minsheng/internal/httpkit"
)

// byNumber finds a case by its number (XC2026-000123) for staff.
func (a CasesAPI) byNumber(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	out, err := a.Cases.GetByNumber(c.UserContext(), p, c.Params("number"))
	if err != nil {
		return err
	}
	return c.JSON(out)
}
