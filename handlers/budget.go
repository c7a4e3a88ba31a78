package handlers

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"path"
	"time"

	"github.com/gofiber/fiber/v2"

	"minsheng"
	"minsheng/budgetlink"
	"minsheng/budgetlink/catalog"
	"minsheng/budgetlink/ledger"
	"minsheng/internal/auth"
	"minsheng/internal/httpkit"
)

// BudgetAPI serves the catalog, budget lines, case↔line links and the
// budget reports under /api/v1; cmd adds it to Config.Groups.
type BudgetAPI struct {
	Budget *budgetlink.Service
}

// mimeXLSX is the content type of an XLSX workbook.
const mimeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Routes registers the budget routes. Fixed paths come before :id ones.
func (a BudgetAPI) Routes(api fiber.Router, _ *httpkit.Kit) {
	api.Get("/catalog", a.catalog)
	api.Get("/catalog/suggest", a.suggest)
	api.Get("/budget/labels", a.labels)
	api.Get("/budget/lines", a.lines)
	api.Post("/budget/lines", a.createLine)
	api.Get("/budget/lines/:id", a.line)
	api.Post("/budget/lines/:id/adjustments", a.adjust)
	api.Post("/budget/lines/:id/review", a.review)
	api.Post("/budget/lines/:id/void", a.voidLine)
	api.Post("/budget/import", a.importLines)
	api.Get("/budget/export", a.export)
	api.Get("/budget/audit", a.audit)
	api.Get("/budget/adjustments", a.adjustments)
	api.Post("/cases/:id/catalog-item", a.confirmItem)
	api.Post("/cases/:id/budget-link", a.link)
	api.Patch("/cases/:id/budget-link", a.reestimate)
	api.Delete("/cases/:id/budget-link", a.unlink)
	api.Get("/reports/execution", yearReport(a.Budget.ExecutionReport))
	api.Get("/reports/adjustments", yearReport(a.Budget.AdjustmentReport))
	api.Get("/reports/demand", yearReport(a.Budget.DemandReport))
	api.Get("/reports/consistency", a.consistency)
}

// catalog is public: residents and staff read the same classification.
func (a BudgetAPI) catalog(c *fiber.Ctx) error {
	year := catalog.CatalogYearAt(time.Now(), a.Budget.Zone())
	bad := httpkit.RouteQuery(c, "year", "format")
	httpkit.QueryInt(c, "year", &year, bad)
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	cat, err := a.Budget.Catalog(year)
	if err != nil {
		return err
	}
	switch c.Query("format") {
	case "", "json":
		return c.JSON(cat)
	case "csv":
		var buf bytes.Buffer
		if err := cat.WriteCSV(&buf); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, attachment(fmt.Sprintf("街道支出分类-%d.csv", year)))
		return c.Send(buf.Bytes())
	}
	return minsheng.Invalid("查询条件无效", map[string]string{"format": "应为 json 或 csv"})
}

// attachment builds a Content-Disposition with an ASCII fallback and the
// UTF-8 name (RFC 6266), since the names are Chinese.
// The ASCII fallback keeps the extension (export.xlsx), so a browser or
// client that ignores filename* still saves a file Excel opens.
func attachment(name string) string {
	return fmt.Sprintf(`attachment; filename="export%s"; filename*=UTF-8''%s`, path.Ext(name), url.PathEscape(name))
}

func (a BudgetAPI) suggest(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	bad := httpkit.RouteQuery(c, "case_id", "n")
	id := c.Query("case_id")
	if id == "" {
		bad["case_id"] = "必填"
	}
	n := 3
	httpkit.QueryInt(c, "n", &n, bad)
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	if n > 10 {
		n = 10
	}
	items, err := a.Budget.SuggestItems(c.UserContext(), p, id, n)
	if err != nil {
		return err
	}
	if items == nil {
		items = []catalog.Suggestion{}
	}
	return c.JSON(fiber.Map{"items": items})
}

// labels is public, like the catalog: the board (no sign-in) and the
// console name a line's figures with the same words (ledger.Labelled).
func (a BudgetAPI) labels(c *fiber.Ctx) error {
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	return c.JSON(ledger.Labelled())
}

func (a BudgetAPI) lines(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	f := ledger.LineFilter{SubDistrict: c.Query("sub_district"), ItemCode: c.Query("item_code")}
	bad := httpkit.ListQuery(c, "year", "sub_district", "item_code", "sort")
	httpkit.QueryInt(c, "year", &f.FiscalYear, bad)
	f.Cursor, f.Limit = httpkit.QueryPage(c, bad)
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	if f.Sort, err = ledger.ParseLineSort(c.Query("sort")); err != nil {
		return err
	}
	items, next, err := a.Budget.Lines(c.UserContext(), p, f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []*ledger.BudgetLine{}
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

func (a BudgetAPI) createLine(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	var in ledger.NewLine
	if err := httpkit.BindJSON(c, &in); err != nil {
		return err
	}
	l, err := a.Budget.CreateLine(c.UserContext(), p, in)
	if err != nil {
		return err
	}
	return JSON(c, l, fiber.StatusCreated)
}

func (a BudgetAPI) line(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	l, err := a.Budget.LineWithCases(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(l)
}

type adjustInput struct {
	Kind      string `json:"kind"`
	ToLineID  string `json:"to_line_id"`
	AmountFen int64  `json:"amount_fen"`
	Reason    string `json:"reason"`
}

func (a BudgetAPI) adjust(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	var in adjustInput
	if err := httpkit.BindJSON(c, &in); err != nil {
		return err
	}
	adj, err := a.Budget.Adjust(c.UserContext(), p, ledger.AdjustmentRequest{
		Kind: in.Kind, LineID: c.Params("id"), ToLineID: in.ToLineID, AmountFen: in.AmountFen, Reason: in.Reason,
		IdempotencyKey: idempotencyKey(c),
	})
	if err != nil {
		return err
	}
	return JSON(c, adj, fiber.StatusCreated)
}

type reviewInput struct {
	Stage string `json:"stage"`
	Note  string `json:"note"`
}

func (a BudgetAPI) review(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	var in reviewInput
	if err := httpkit.BindJSON(c, &in); err != nil {
		return err
	}
	l, err := a.Budget.Review(c.UserContext(), p, c.Params("id"), in.Stage, in.Note)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

// importLines takes the workbook as the multipart field "file". A refused
// file answers 400 with every problem in error.fields, keyed by cell
// ("E7"), row ("row 7") or "file".
func (a BudgetAPI) importLines(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return minsheng.Invalid("请以 multipart/form-data 上传 XLSX 文件（字段名 file）", map[string]string{"file": "必填"})
	}
	f, err := fh.Open()
	if err != nil {
		return minsheng.Invalid("上传的文件无法读取", map[string]string{"file": "无法读取"})
	}
	defer f.Close()
	res, err := a.Budget.ImportLines(c.UserContext(), p, f)
	if err != nil {
		return err
	}
	return JSON(c, res, fiber.StatusCreated)
}

func (a BudgetAPI) export(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	year := 0
	bad := httpkit.RouteQuery(c, "year", "sub_district")
	httpkit.QueryInt(c, "year", &year, bad)
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	sub := c.Query("sub_district")
	var buf bytes.Buffer
	if err := a.Budget.ExportLines(c.UserContext(), p, year, sub, &buf); err != nil {
		return err
	}
	name := fmt.Sprintf("预算执行-%d.xlsx", year)
	if sub != "" {
		name = fmt.Sprintf("预算执行-%d-%s.xlsx", year, sub)
	}
	c.Set(fiber.HeaderContentType, mimeXLSX)
	c.Set(fiber.HeaderContentDisposition, attachment(name))
	return c.Send(buf.Bytes())
}

func (a BudgetAPI) audit(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	f := ledger.AuditFilter{LineID: c.Query("line_id"), CaseID: c.Query("case_id"), SubDistrict: c.Query("sub_district")}
	bad := httpkit.ListQuery(c, "line_id", "case_id", "sub_district")
	f.Cursor, f.Limit = httpkit.QueryPage(c, bad)
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	items, refs, next, err := a.Budget.AuditWithCases(c.UserContext(), p, f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []ledger.AuditEntry{}
	}
	return c.JSON(fiber.Map{"items": items, "cases": refs, "next_cursor": next})
}

func (a BudgetAPI) adjustments(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	f := ledger.AdjustmentFilter{SubDistrict: c.Query("sub_district"), LineID: c.Query("line_id"), State: c.Query("state")}
	bad := httpkit.ListQuery(c, "year", "sub_district", "line_id", "state")
	httpkit.QueryInt(c, "year", &f.FiscalYear, bad)
	f.Cursor, f.Limit = httpkit.QueryPage(c, bad)
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	items, next, err := a.Budget.Adjustments(c.UserContext(), p, f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []ledger.Adjustment{}
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

type confirmItemInput struct {
	Version  *int64 `json:"version"`
	ItemCode string `json:"item_code"`
}

func (a BudgetAPI) confirmItem(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	var in confirmItemInput
	v, err := httpkit.BindVersioned(c, &in, &in.Version)
	if err != nil {
		return err
	}
	out, err := a.Budget.ConfirmItem(c.UserContext(), p, c.Params("id"), v, in.ItemCode)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

type linkInput struct {
	LineID      string `json:"line_id"`
	EstimateFen int64  `json:"estimate_fen"`
}

func (a BudgetAPI) link(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	var in linkInput
	if err := httpkit.BindJSON(c, &in); err != nil {
		return err
	}
	if in.LineID == "" {
		return minsheng.Invalid("请选择预算项目", map[string]string{"line_id": "必填"})
	}
	out, err := a.Budget.LinkCase(c.UserContext(), p, c.Params("id"), in.LineID, in.EstimateFen)
	if err != nil {
		return err
	}
	return JSON(c, out, fiber.StatusCreated)
}

type reestimateInput struct {
	EstimateFen int64 `json:"estimate_fen"`
}

func (a BudgetAPI) reestimate(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	var in reestimateInput
	if err := httpkit.BindJSON(c, &in); err != nil {
		return err
	}
	out, err := a.Budget.ReestimateCase(c.UserContext(), p, c.Params("id"), in.EstimateFen)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (a BudgetAPI) unlink(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := a.Budget.UnlinkCase(c.UserContext(), p, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// reportArgs reads the year and sub-district every report takes.
func reportArgs(c *fiber.Ctx) (year int, sub string, err error) {
	bad := httpkit.RouteQuery(c, "year", "sub_district")
	httpkit.QueryInt(c, "year", &year, bad)
	return year, c.Query("sub_district"), httpkit.BadQuery(bad)
}

// yearReport serves a report that takes the caller, a fiscal year and an
// optional sub-district; the service checks the caller's scope.
func yearReport[T any](report func(context.Context, auth.Principal, int, string) (T, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := httpkit.Principal(c)
		if err != nil {
			return err
		}
		year, sub, err := reportArgs(c)
		if err != nil {
			return err
		}
		rep, err := report(c.UserContext(), p, year, sub)
		if err != nil {
			return err
		}
		return c.JSON(rep)
	}
}

func (a BudgetAPI) consistency(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	year, threshold := 0, 0
	bad := httpkit.RouteQuery(c, "year", "threshold")
	httpkit.QueryInt(c, "year", &year, bad)
	httpkit.QueryInt(c, "threshold", &threshold, bad)
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	rep, err := a.Budget.ConsistencyReport(c.UserContext(), p, year, threshold)
	if err != nil {
		return err
	}
	return c.JSON(rep)
}
