package handlers

import (
	"github.com/gofiber/fiber/v2"

	"minsheng"
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
	if err := httpkit.BindJSON(c, &in); err != nil {
		return err
	}
	// A line's first version is 0 (a case's is 1), so httpkit.RequireVersion does not fit.
	if in.Version == nil || *in.Version < 0 {
		return minsheng.Invalid("version 必填", map[string]string{"version": "必填，须为读取时的版本号"})
	}
	if err := a.Budget.VoidLine(c.UserContext(), p, c.Params("id"), *in.Version); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
