package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"minsheng"
	"minsheng/budgetlink/planning"
	"minsheng/budgetlink/reports"
	"minsheng/internal/httpkit"
)

// AllocationAPI serves priority weights and lists, allocation runs, the
// factor allocation and the completion and rate reports under /api/v1;
// cmd adds it to Config.Groups. Roles and scopes are checked by planning
// and, for the two reports, by reports.
type AllocationAPI struct {
	Planning *planning.Service
	Reports  *reports.Reporter
}

// Routes registers the allocation routes.
func (a AllocationAPI) Routes(api fiber.Router, _ *httpkit.Kit) {
	api.Get("/allocation/weights/:year", a.weights)
	api.Put("/allocation/weights/:year", a.setWeights)
	api.Get("/allocation/priorities", a.priorities)
	api.Get("/allocation/shortfalls", a.shortfalls)
	api.Post("/allocation/runs", withBody(a.Planning.StartRunNamed))
	api.Get("/allocation/runs", a.runs)
	api.Get("/allocation/runs/:id", a.run)
	api.Post("/allocation/runs/:id/transfers", a.applyTransfers)
	api.Get("/allocation/factor", a.factorForm)
	api.Post("/allocation/factor", withBody(a.Planning.AllocateByFactors))
	api.Get("/reports/completion", a.completion)
	api.Get("/reports/rates", a.rates)
}

// allocYearParam reads the :year path parameter.
func allocYearParam(c *fiber.Ctx) (int, error) {
	y, err := strconv.Atoi(c.Params("year"))
	if err != nil {
		return 0, minsheng.Invalid("预算年度无效", map[string]string{"year": "须为整数"})
	}
	return y, nil
}

// allocYearQuery reads the optional ?year= parameter (0 when absent) of a
// route that also takes the parameters in allowed.
func allocYearQuery(c *fiber.Ctx, allowed ...string) (int, error) {
	year, bad := 0, httpkit.RouteQuery(c, append(allowed, "year")...)
	httpkit.QueryInt(c, "year", &year, bad)
	return year, httpkit.BadQuery(bad)
}

func (a AllocationAPI) weights(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	year, err := allocYearParam(c)
	if err != nil {
		return err
	}
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	w, err := a.Planning.Weights(c.UserContext(), p, year)
	if err != nil {
		return err
	}
	return JSON(c, w)
}

func (a AllocationAPI) setWeights(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	// The role first: a caller who may not set weights learns nothing
	// about what a valid body looks like.
	if err := planning.RequireWeightsEditor(p); err != nil {
		return err
	}
	year, err := allocYearParam(c)
	if err != nil {
		return err
	}
	var in planning.WeightsBody
	if err := httpkit.BindJSON(c, &in); err != nil {
		return err
	}
	w, err := a.Planning.SetWeights(c.UserContext(), p, year, in)
	if err != nil {
		return err
	}
	return JSON(c, w)
}

func (a AllocationAPI) priorities(c *fiber.Ctx) error {
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
	list, err := a.Planning.Priorities(c.UserContext(), p, planning.PriorityQuery{
		FiscalYear: year, SubDistrict: c.Query("sub_district"), Cursor: cursor, Limit: limit})
	if err != nil {
		return err
	}
	return JSON(c, list)
}

func (a AllocationAPI) run(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	rep, err := a.Planning.RunNamed(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	return JSON(c, rep)
}

func (a AllocationAPI) completion(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	year, err := allocYearQuery(c, "sub_district")
	if err != nil {
		return err
	}
	rep, err := a.Reports.Completion(c.UserContext(), p, reports.CompletionQuery{FiscalYear: year, SubDistrict: c.Query("sub_district")})
	if err != nil {
		return err
	}
	return JSON(c, rep)
}

func (a AllocationAPI) rates(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := httpkit.BadQuery(httpkit.RouteQuery(c, "from", "to", "sub_district")); err != nil {
		return err
	}
	rep, err := a.Reports.Rates(c.UserContext(), p, reports.RatesQuery{From: c.Query("from"), To: c.Query("to"), SubDistrict: c.Query("sub_district")})
	if err != nil {
		return err
	}
	return JSON(c, rep)
}

// factorForm is the 因素法 form's factors (one label each) and defaults.
func (a AllocationAPI) factorForm(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	form, err := a.Planning.FactorFormOf(p)
	if err != nil {
		return err
	}
	return JSON(c, form)
}
