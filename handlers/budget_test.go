package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"minsheng/budgetlink/catalog"
	"minsheng/budgetlink/ledger"
	"minsheng/budgetlink/reports"
	"minsheng/cases"
	"minsheng/internal/auth"
)

const bulky = "CG-01-02" // 大件垃圾清运处置

// budgetApp is the wired server with the users the budget tests act as.
type budgetApp struct{ *fixture }

func newBudgetApp(t *testing.T) budgetApp {
	t.Helper()
	a := budgetApp{newFixture(t, fixtureOptions{})}
	a.staff(t, "finance", auth.RoleFinance, "")
	a.staff(t, "sxjk", auth.RoleSubdistrict, "xinjiekou")
	a.staff(t, "sds", auth.RoleSubdistrict, "desheng")
	a.staff(t, "cadre", auth.RoleCadre, "xinjiekou-yude")
	a.resident(t, "resident", "13800000009")
	return a
}

type errBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

func (a budgetApp) line(t *testing.T, sub, item, name string, approved int64) ledger.BudgetLine {
	t.Helper()
	var l ledger.BudgetLine
	if st := a.call(t, "finance", "POST", "/api/v1/budget/lines", map[string]any{
		"fiscal_year": 2026, "sub_district": sub, "item_code": item, "project_name": name, "approved_fen": approved,
	}, &l); st != 201 {
		t.Fatalf("create line: status %d", st)
	}
	return l
}

func TestBudgetLinesOverHTTP(t *testing.T) {
	a := newBudgetApp(t)
	line := func(sub string) map[string]any {
		return map[string]any{"fiscal_year": 2026, "sub_district": sub, "item_code": bulky, "project_name": "大件垃圾清运", "approved_fen": 1_000_000}
	}
	t.Run("create", func(t *testing.T) {
		tests := []struct {
			who, sub string
			want     int
		}{
			{"", "xinjiekou", 401},
			{"resident", "xinjiekou", 403},
			{"cadre", "xinjiekou", 403},
			{"sds", "xinjiekou", 403}, // another sub-district's staff
			{"sxjk", "xinjiekou", 201},
			{"finance", "desheng", 201},
			{"finance", "desheng", 409}, // the same line again
		}
		for _, tt := range tests {
			var e errBody
			if got := a.call(t, tt.who, "POST", "/api/v1/budget/lines", line(tt.sub), &e); got != tt.want {
				t.Errorf("%q creating in %s: status %d (%+v), want %d", tt.who, tt.sub, got, e, tt.want)
			}
		}
		var e errBody
		if got := a.call(t, "finance", "POST", "/api/v1/budget/lines", map[string]any{"fiscal_year": 2026, "sub_district": "xinjiekou", "item_code": "ZZ-00-00", "project_name": "x", "approved_fen": -1}, &e); got != 400 ||
			e.Error.Fields["item_code"] == "" || e.Error.Fields["approved_fen"] == "" {
			t.Errorf("invalid line: status %d, %+v", got, e)
		}
	})
	t.Run("list scoped", func(t *testing.T) {
		var page struct {
			Items []ledger.BudgetLine `json:"items"`
		}
		if st := a.call(t, "sds", "GET", "/api/v1/budget/lines?year=2026", nil, &page); st != 200 || len(page.Items) != 1 || page.Items[0].SubDistrict != "desheng" {
			t.Errorf("desheng staff list: status %d, %+v", st, page.Items)
		}
		if st := a.call(t, "sds", "GET", "/api/v1/budget/lines?sub_district=xinjiekou", nil, nil); st != 403 {
			t.Errorf("desheng staff listing xinjiekou: status %d, want 403", st)
		}
		if st := a.call(t, "finance", "GET", "/api/v1/budget/lines?year=2026&limit=1", nil, &page); st != 200 || len(page.Items) != 1 {
			t.Errorf("finance page: status %d, %d items", st, len(page.Items))
		}
		if st := a.call(t, "finance", "GET", "/api/v1/budget/lines?year=abc", nil, nil); st != 400 {
			t.Errorf("bad year: status %d, want 400", st)
		}
	})
	t.Run("sorted on the server", func(t *testing.T) {
		var page struct {
			Items      []ledger.BudgetLine `json:"items"`
			NextCursor string              `json:"next_cursor"`
		}
		if st := a.call(t, "finance", "GET", "/api/v1/budget/lines?year=2026&sort=-sub_district&limit=1", nil, &page); st != 200 || len(page.Items) != 1 || page.NextCursor == "" {
			t.Fatalf("sorted page: status %d, %+v", st, page)
		}
		first := page.Items[0].SubDistrict
		if st := a.call(t, "finance", "GET", "/api/v1/budget/lines?year=2026&sort=-sub_district&limit=1&cursor="+page.NextCursor, nil, &page); st != 200 || len(page.Items) != 1 || page.Items[0].SubDistrict == first {
			t.Errorf("second page: status %d, %+v (first was %s)", st, page.Items, first)
		}
		var e errBody
		if st := a.call(t, "finance", "GET", "/api/v1/budget/lines?sort=population", nil, &e); st != 400 || e.Error.Fields["sort"] == "" {
			t.Errorf("unknown sort key: status %d, %+v", st, e)
		}
	})
	t.Run("adjust and review", func(t *testing.T) {
		var page struct {
			Items []ledger.BudgetLine `json:"items"`
		}
		a.call(t, "finance", "GET", "/api/v1/budget/lines?sub_district=xinjiekou", nil, &page)
		id := page.Items[0].ID
		body := map[string]any{"kind": "decrease", "amount_fen": 200_000, "reason": "压减"}
		if st := a.call(t, "sxjk", "POST", "/api/v1/budget/lines/"+id+"/adjustments", body, nil); st != 403 {
			t.Errorf("sub-district staff adjusting: status %d, want 403", st)
		}
		var adj ledger.Adjustment
		if st := a.call(t, "finance", "POST", "/api/v1/budget/lines/"+id+"/adjustments", body, &adj, "Idempotency-Key", "adj-key-1"); st != 201 || adj.State != ledger.AdjustmentApplied {
			t.Errorf("adjust: status %d, %+v", st, adj)
		}
		if st := a.call(t, "finance", "POST", "/api/v1/budget/lines/"+id+"/adjustments", body, nil, "Idempotency-Key", "adj-key-1"); st != 201 {
			t.Errorf("repeat: status %d", st)
		}
		var e errBody
		if st := a.call(t, "finance", "POST", "/api/v1/budget/lines/"+id+"/adjustments", map[string]any{"kind": "decrease", "amount_fen": 900_000, "reason": "压减"}, &e); st != 409 || !strings.Contains(e.Error.Message, "可用额度不足") {
			t.Errorf("decrease beyond available: status %d, %+v", st, e)
		}
		var l ledger.BudgetLine
		if st := a.call(t, "finance", "GET", "/api/v1/budget/lines/"+id, nil, &l); st != 200 || l.AdjustedFen != -200_000 || l.AvailableFen != 800_000 {
			t.Errorf("line after adjustments: status %d, %+v", st, l.Totals())
		}
		if st := a.call(t, "sxjk", "POST", "/api/v1/budget/lines/"+id+"/review", map[string]any{"stage": "during", "note": "事中检查：进度正常"}, &l); st != 200 || l.ReviewStage != "during" {
			t.Errorf("review: status %d, stage %q", st, l.ReviewStage)
		}
		if st := a.call(t, "sds", "GET", "/api/v1/budget/lines/"+id, nil, nil); st != 403 {
			t.Errorf("other sub-district reading the line: status %d, want 403", st)
		}
	})
	t.Run("adjustments are paged like every list", func(t *testing.T) {
		var page struct {
			Items []ledger.BudgetLine `json:"items"`
		}
		a.call(t, "finance", "GET", "/api/v1/budget/lines?sub_district=xinjiekou", nil, &page)
		id := page.Items[0].ID
		for i := range 4 {
			body := map[string]any{"kind": "increase", "amount_fen": 100 + i, "reason": "追加"}
			if st := a.call(t, "finance", "POST", "/api/v1/budget/lines/"+id+"/adjustments", body, nil); st != 201 {
				t.Fatalf("increase %d: status %d", i, st)
			}
		}
		// Six adjustments on the line now (the applied and the refused
		// decrease above, which is kept as failed, and four increases);
		// pages of two give 2, 2, 2 with no repeat.
		seen := map[string]bool{}
		var sizes []int
		cursor := ""
		for range 6 {
			var p struct {
				Items      []ledger.Adjustment `json:"items"`
				NextCursor string              `json:"next_cursor"`
			}
			url := "/api/v1/budget/adjustments?line_id=" + id + "&limit=2"
			if cursor != "" {
				url += "&cursor=" + cursor
			}
			if st := a.call(t, "finance", "GET", url, nil, &p); st != 200 {
				t.Fatalf("page: status %d", st)
			}
			sizes = append(sizes, len(p.Items))
			for _, adj := range p.Items {
				if seen[adj.ID] {
					t.Errorf("adjustment %s on two pages", adj.ID)
				}
				seen[adj.ID] = true
			}
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if fmt.Sprint(sizes) != "[2 2 2]" || len(seen) != 6 {
			t.Errorf("page sizes %v over %d adjustments, want [2 2 2] over 6", sizes, len(seen))
		}
		for _, q := range []string{"limit=101", "limit=0", "cursor=nope", "page=2"} {
			if st := a.call(t, "finance", "GET", "/api/v1/budget/adjustments?"+q, nil, nil); st != 400 {
				t.Errorf("%s: status %d, want 400", q, st)
			}
		}
	})
}

func TestCatalogOverHTTP(t *testing.T) {
	a := newBudgetApp(t)
	var cat catalog.Catalog
	if st := a.call(t, "", "GET", "/api/v1/catalog", nil, &cat); st != 200 || cat.FiscalYear != 2026 || len(cat.Items) < 140 {
		t.Fatalf("catalog: status %d, year %d, %d items", st, cat.FiscalYear, len(cat.Items))
	}
	var raw []byte
	req := httptest.NewRequest("GET", "/api/v1/catalog?format=csv", nil)
	if st := a.send(t, req, "", &raw); st != 200 || !bytes.HasPrefix(raw, []byte("\uFEFF编码,名称")) {
		t.Errorf("csv: status %d, starts %q", st, raw[:min(len(raw), 40)])
	}
	if st := a.call(t, "", "GET", "/api/v1/catalog?year=1999", nil, nil); st != 404 {
		t.Errorf("unknown year: status %d, want 404", st)
	}
}

// TestBudgetLabelsOverHTTP: the board (no sign-in) and the console read
// the same words for a line's figures (issue 23: 已安排 vs 已预留).
func TestBudgetLabelsOverHTTP(t *testing.T) {
	a := newBudgetApp(t)
	var got ledger.MoneyLabels
	if st := a.call(t, "", "GET", "/api/v1/budget/labels", nil, &got); st != 200 {
		t.Fatalf("labels: status %d", st)
	}
	want := map[string]string{"approved_fen": "批复", "adjusted_fen": "调整", "committed_fen": "已预留", "spent_fen": "已支出", "available_fen": "可用"}
	for _, f := range got.Figures {
		if w, ok := want[f.Key]; ok && f.Label != w {
			t.Errorf("%s = %q, want %q", f.Key, f.Label, w)
		}
		delete(want, f.Key)
	}
	if len(want) > 0 || got.ReservationStates["reserved"] != "已预留" || got.AuditKinds["spend"] != "支出" {
		t.Errorf("labels = %+v (missing %v)", got, want)
	}
	if st := a.call(t, "", "GET", "/api/v1/budget/labels?x=1", nil, nil); st != 400 {
		t.Errorf("unknown query: status %d, want 400", st)
	}
}

func TestCaseBudgetLinkOverHTTP(t *testing.T) {
	a := newBudgetApp(t)
	ctx := context.Background()
	l := a.line(t, "xinjiekou", bulky, "大件垃圾清运", 100_000)
	resident := auth.Principal{UserID: a.ids["resident"], Role: auth.RoleResident}
	c, _, err := a.cases.Submit(ctx, resident, cases.NewCase{Area: cases.AreaUrban, Title: "楼道旧沙发和床垫要清运", Description: "大件垃圾堵住楼道", Community: "xinjiekou-yude", Address: "3号楼"})
	if err != nil {
		t.Fatal(err)
	}
	staff := auth.Principal{UserID: a.ids["sxjk"], Role: auth.RoleSubdistrict, SubDistrict: "xinjiekou"}
	if c, err = a.cases.Accept(ctx, staff, c.ID, c.Version, ""); err != nil {
		t.Fatal(err)
	}

	var sug struct {
		Items []catalog.Suggestion `json:"items"`
	}
	if st := a.call(t, "sxjk", "GET", "/api/v1/catalog/suggest?case_id="+c.ID, nil, &sug); st != 200 || len(sug.Items) != 3 || sug.Items[0].Code != bulky {
		t.Fatalf("suggest: status %d, %+v", st, sug.Items)
	}
	if st := a.call(t, "resident", "GET", "/api/v1/catalog/suggest?case_id="+c.ID, nil, nil); st != 403 {
		t.Errorf("resident asking for suggestions: status %d, want 403", st)
	}
	var classified cases.Case
	if st := a.call(t, "sxjk", "POST", "/api/v1/cases/"+c.ID+"/catalog-item", map[string]any{"version": c.Version, "item_code": bulky}, &classified); st != 200 || classified.CatalogItem != bulky {
		t.Fatalf("confirm: status %d, %+v", st, classified.CatalogItem)
	}
	if st := a.call(t, "sxjk", "POST", "/api/v1/cases/"+c.ID+"/catalog-item", map[string]any{"version": c.Version, "item_code": bulky}, nil); st != 409 {
		t.Errorf("confirm with a stale version: status %d, want 409", st)
	}

	path := "/api/v1/cases/" + c.ID + "/budget-link"
	var e errBody
	if st := a.call(t, "sxjk", "POST", path, map[string]any{"line_id": l.ID, "estimate_fen": 100_001}, &e); st != 409 || !strings.Contains(e.Error.Message, "可用 1,000.00 元") {
		t.Errorf("link beyond available: status %d, %+v", st, e)
	}
	if st := a.call(t, "cadre", "POST", path, map[string]any{"line_id": l.ID, "estimate_fen": 40_000}, nil); st != 403 {
		t.Errorf("cadre linking: status %d, want 403", st)
	}
	var link cases.BudgetLink
	for i := 0; i < 2; i++ {
		if st := a.call(t, "sxjk", "POST", path, map[string]any{"line_id": l.ID, "estimate_fen": 40_000}, &link); st != 201 || link.ReservedFen != 40_000 {
			t.Fatalf("link #%d: status %d, %+v", i+1, st, link)
		}
	}
	if st := a.call(t, "sxjk", "PATCH", path, map[string]any{"estimate_fen": 55_000}, &link); st != 200 || link.ReservedFen != 55_000 {
		t.Errorf("re-estimate: status %d, %+v", st, link)
	}
	var got cases.Case
	a.call(t, "sxjk", "GET", "/api/v1/cases/"+c.ID, nil, &got)
	if got.Budget == nil || got.Budget.LineID != l.ID || got.Budget.ReservedFen != 55_000 {
		t.Errorf("case budget copy = %+v", got.Budget)
	}
	var audit struct {
		Items []ledger.AuditEntry `json:"items"`
	}
	if st := a.call(t, "finance", "GET", "/api/v1/budget/audit?case_id="+c.ID, nil, &audit); st != 200 || len(audit.Items) != 2 || audit.Items[0].Kind != ledger.AuditReestimate {
		t.Errorf("audit: status %d, %+v", st, audit.Items)
	}
	if st := a.call(t, "sxjk", "DELETE", path, nil, nil); st != 204 {
		t.Errorf("unlink: status %d, want 204", st)
	}
	var after ledger.BudgetLine
	a.call(t, "finance", "GET", "/api/v1/budget/lines/"+l.ID, nil, &after)
	if after.CommittedFen != 0 || after.AvailableFen != 100_000 {
		t.Errorf("line after unlink = %+v", after.Totals())
	}

	t.Run("reports", func(t *testing.T) {
		tests := []struct {
			who, path string
			want      int
		}{
			{"finance", "/api/v1/reports/execution?year=2026", 200},
			{"sxjk", "/api/v1/reports/execution?year=2026", 200},
			{"sxjk", "/api/v1/reports/execution?year=2026&sub_district=desheng", 403},
			{"cadre", "/api/v1/reports/execution?year=2026", 403},
			{"finance", "/api/v1/reports/execution", 400},
			{"finance", "/api/v1/reports/adjustments?year=2026", 200},
			{"finance", "/api/v1/reports/demand?year=2026", 200},
			{"resident", "/api/v1/reports/demand?year=2026", 403},
			{"finance", "/api/v1/reports/consistency?year=2026", 200},
			{"sxjk", "/api/v1/reports/consistency?year=2026", 403},
		}
		for _, tt := range tests {
			if got := a.call(t, tt.who, "GET", tt.path, nil, nil); got != tt.want {
				t.Errorf("%s GET %s: status %d, want %d", tt.who, tt.path, got, tt.want)
			}
		}
		var rep reports.DemandReport
		a.call(t, "sxjk", "GET", "/api/v1/reports/demand?year=2026", nil, &rep)
		if len(rep.Items) != 1 || rep.Items[0].Cases != 1 || rep.Items[0].FundedCases != 0 {
			t.Errorf("demand = %+v", rep.Items)
		}
	})
}

func multipartXLSX(t *testing.T, data []byte) *http.Request {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("file", "budget.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	w.Close()
	req := httptest.NewRequest("POST", "/api/v1/budget/import", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return req
}

func xlsxRows(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBudgetImportExportOverHTTP(t *testing.T) {
	a := newBudgetApp(t)
	header := []any{"财年", "街道编码", "支出分类编码", "项目名称", "批复金额（分）"}
	bad := xlsxRows(t, [][]any{header,
		{2026, "xinjiekou", bulky, "大件垃圾清运", 500_000},
		{2026, "xinjiekou", "CG-01-01", "道路清扫", -10},
		{2026, "xinjiekou", "QQ-01-01", "未知", 10},
		{2026, "xinjiekou", bulky, "大件垃圾清运", 500_000},
	})
	var e errBody
	if st := a.send(t, multipartXLSX(t, bad), "finance", &e); st != 400 {
		t.Fatalf("bad file: status %d, %+v", st, e)
	}
	for cell, part := range map[string]string{"E3": "负数", "C4": "不存在", "D5": "与第 2 行重复"} {
		if !strings.Contains(e.Error.Fields[cell], part) {
			t.Errorf("fields[%s] = %q, want %q", cell, e.Error.Fields[cell], part)
		}
	}
	if !strings.Contains(e.Error.Message, "未导入任何数据") {
		t.Errorf("message = %q", e.Error.Message)
	}
	if st := a.send(t, multipartXLSX(t, []byte("not a workbook")), "finance", &e); st != 400 || e.Error.Fields["file"] == "" {
		t.Errorf("broken file: status %d, %+v", st, e)
	}
	good := xlsxRows(t, [][]any{header,
		{2026, "xinjiekou", bulky, "大件垃圾清运", 500_000},
		{2026, "desheng", bulky, "大件垃圾清运", 400_000},
	})
	if st := a.send(t, multipartXLSX(t, good), "sxjk", nil); st != 403 {
		t.Errorf("sub-district staff importing: status %d, want 403", st)
	}
	var res ledger.ImportResult
	if st := a.send(t, multipartXLSX(t, good), "finance", &res); st != 201 || res.Imported != 2 {
		t.Fatalf("good file: status %d, %+v", st, res)
	}

	req := httptest.NewRequest("GET", "/api/v1/budget/export?year=2026&sub_district=xinjiekou", nil)
	req.Header.Set("Authorization", "Bearer "+a.tokens["sxjk"])
	resp, err := a.app.Test(req, 30_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="export.xlsx"`) ||
		!strings.Contains(cd, ".xlsx") {
		t.Errorf("Content-Disposition = %q, want both filenames ending .xlsx", cd)
	}
	f, err := excelize.OpenReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("预算项目")
	if len(rows) != 3 || rows[0][0] != "街道" || rows[1][0] != "新街口街道" || rows[1][4] != "5,000.00元" || rows[2][0] != "合计" || rows[2][4] != "5,000.00元" {
		t.Errorf("export rows = %v", rows)
	}
	if imp, _ := f.GetRows("导入格式"); len(imp) != 2 || imp[1][1] != "xinjiekou" || imp[1][4] != "500000" {
		t.Errorf("import sheet rows = %v", imp)
	}
	if st := a.call(t, "sxjk", "GET", "/api/v1/budget/export?year=2026&sub_district=desheng", nil, nil); st != 403 {
		t.Errorf("exporting another sub-district: status %d, want 403", st)
	}
}
