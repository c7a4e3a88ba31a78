package handlers

import (
	"github.com/gofiber/fiber/v2"

	"minsheng/internal/httpkit"
)

type voidInput struct {
	Version *int64 `json:"version"`
}

// voidLine removes a line that never moved money (作废).
func (a BudgetAPI) voidLine(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	var in voidInput
	v, err := httpkit.BindVersioned(c, &in, &in.Version) // a line's first version is 0
	if err != nil {
		return err
	}
	if err := a.Budget.VoidLine(c.UserContext(), p, c.Params("id"), v); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
