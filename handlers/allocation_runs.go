package handlers

import (
	"github.com/gofiber/fiber/v2"

	"minsheng/budgetlink/planning"
)

// runs lists committed allocation runs, newest first (the console's 历史运行).
func (a AllocationAPI) runs(c *fiber.Ctx) error {
	p, err := Principal(c)
	if err != nil {
		return err
	}
	year, bad := 0, listQuery(c, "year", "sub_district")
	queryInt(c, "year", &year, bad)
	cursor, limit := queryPage(c, bad)
	if err := badQuery(bad); err != nil {
		return err
	}
	items, next, err := a.Planning.Runs(c.UserContext(), p, planning.RunsQuery{
		FiscalYear: year, SubDistrict: c.Query("sub_district"), Cursor: cursor, Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}
