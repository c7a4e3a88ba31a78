package handlers

import (
	"github.com/gofiber/fiber/v2"

	"minsheng/budgetlink/planning"
	"minsheng/internal/httpkit"
)

// runs lists allocation runs, committed and previews, newest first (the
// console's 历史运行); ?kind=preview|committed picks one kind.
func (a AllocationAPI) runs(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	year, bad := 0, httpkit.ListQuery(c, "year", "sub_district", "kind")
	httpkit.QueryInt(c, "year", &year, bad)
	cursor, limit := httpkit.QueryPage(c, bad)
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	items, next, err := a.Planning.Runs(c.UserContext(), p, planning.RunsQuery{
		FiscalYear: year, SubDistrict: c.Query("sub_district"), Kind: c.Query("kind"), Cursor: cursor, Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

// shortfalls is the 资金不足 queue with its counts (planning.Shortfalls).
func (a AllocationAPI) shortfalls(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	year, bad := 0, httpkit.ListQuery(c, "year", "sub_district")
	httpkit.QueryInt(c, "year", &year, bad)
	cursor, limit := httpkit.QueryPage(c, bad)
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	list, err := a.Planning.Shortfalls(c.UserContext(), p, planning.ShortQuery{
		FiscalYear: year, SubDistrict: c.Query("sub_district"), Cursor: cursor, Limit: limit})
	if err != nil {
		return err
	}
	return JSON(c, list)
}

// applyTransfers applies a committed run's 建议调剂 in one confirmation
// (planning.ApplyTransfers); body {"line_versions": {line id: version}}.
func (a AllocationAPI) applyTransfers(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	var in planning.ApplyTransfersRequest
	if err := httpkit.BindJSON(c, &in); err != nil {
		return err
	}
	in.RunID = c.Params("id")
	res, err := a.Planning.ApplyTransfers(c.UserContext(), p, in)
	if err != nil {
		return err
	}
	return JSON(c, res)
}
