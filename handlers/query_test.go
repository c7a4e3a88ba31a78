package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"minsheng/budgetlink/ledger"
	"minsheng/internal/auth"
)

// listRoutes are the GET routes that take query parameters, each with the
// parameters a valid call needs; lists page by cursor and limit.
var listRoutes = []struct {
	path   string
	list   bool // takes cursor and limit
	subDis bool // takes sub_district
}{
	{"/api/v1/cases?", true, true},
	{"/api/v1/cases/similar?community=xinjiekou-yude&area=CG&", false, false},
	{"/api/v1/catalog?", false, false},
	{"/api/v1/budget/lines?", true, true},
	{"/api/v1/budget/audit?", true, true},
	{"/api/v1/budget/adjustments?", false, true},
	{"/api/v1/budget/export?year=2026&", false, true},
	{"/api/v1/reports/execution?year=2026&", false, true},
	{"/api/v1/reports/adjustments?year=2026&", false, true},
	{"/api/v1/reports/demand?year=2026&", false, true},
	{"/api/v1/reports/consistency?year=2026&", false, false},
	{"/api/v1/allocation/priorities?year=2026&", true, true},
	{"/api/v1/reports/completion?year=2026&", false, true},
	{"/api/v1/reports/rates?", false, true},
}

// TestQueryRules: every route rejects parameters it does not take, every
// list pages by one rule, and every sub_district goes through the one scope
// rule of auth.Principal.
func TestQueryRules(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.staff(t, "finance", auth.RoleFinance, "")
	f.staff(t, "sxjk", auth.RoleSubdistrict, "xinjiekou")
	f.staff(t, "cadre", auth.RoleCadre, "xinjiekou-yude")
	b := budgetApp{f}

	t.Run("unknown parameters are 400 naming them", func(t *testing.T) {
		for _, r := range listRoutes {
			who := "finance"
			if strings.Contains(r.path, "similar") {
				who = "cadre"
			}
			var e errBody
			if got := f.call(t, who, "GET", r.path+"bogus=1&sub_districts=x", nil, &e); got != 400 ||
				e.Error.Fields["bogus"] == "" || e.Error.Fields["sub_districts"] == "" || !strings.Contains(e.Error.Message, "bogus") {
				t.Errorf("%s: status %d %+v, want 400 naming bogus and sub_districts", r.path, got, e.Error)
			}
		}
		for _, path := range []string{"/api/v1/me?x=1", "/api/v1/budget/lines/L1?x=1", "/api/v1/allocation/weights/2026?x=1"} {
			if got := f.call(t, "finance", "GET", path, nil, nil); got != 400 {
				t.Errorf("%s: status %d, want 400", path, got)
			}
		}
	})
	t.Run("limit out of range is 400 on every list", func(t *testing.T) {
		for _, r := range listRoutes {
			if !r.list {
				continue
			}
			for _, limit := range []string{"0", "101", "-1", "abc"} {
				var e errBody
				if got := f.call(t, "finance", "GET", r.path+"limit="+limit, nil, &e); got != 400 || e.Error.Fields["limit"] == "" {
					t.Errorf("%slimit=%s: status %d %+v, want 400 naming limit", r.path, limit, got, e.Error)
				}
			}
			if got := f.call(t, "finance", "GET", r.path+"limit=100", nil, nil); got != 200 {
				t.Errorf("%slimit=100: status %d, want 200", r.path, got)
			}
		}
	})
	t.Run("unknown sub-district is 400 everywhere", func(t *testing.T) {
		for _, r := range listRoutes {
			if !r.subDis {
				continue
			}
			for _, who := range []string{"finance", "sxjk"} {
				var e errBody
				if got := f.call(t, who, "GET", r.path+"sub_district=nowhere", nil, &e); got != 400 || e.Error.Code != "invalid" || e.Error.Fields["sub_district"] == "" {
					t.Errorf("%s as %s: status %d %+v, want 400 naming sub_district", r.path, who, got, e.Error)
				}
			}
			if got := f.call(t, "sxjk", "GET", r.path+"sub_district=desheng", nil, nil); got != 403 {
				t.Errorf("%s: another sub-district's staff: status %d, want 403", r.path, got)
			}
		}
	})
	t.Run("default page is 20", func(t *testing.T) {
		ctx := context.Background()
		p := auth.Principal{UserID: f.ids["finance"], Role: auth.RoleFinance}
		for i := range 25 {
			if _, err := f.budget.CreateLine(ctx, p, ledger.NewLine{FiscalYear: 2026, SubDistrict: "xinjiekou", ItemCode: bulky,
				ProjectName: fmt.Sprintf("大件垃圾清运%02d", i), ApprovedFen: 1_000}); err != nil {
				t.Fatal(err)
			}
		}
		b.line(t, "desheng", bulky, "德胜大件垃圾清运", 1_000)
		var page struct {
			Items      []ledger.BudgetLine `json:"items"`
			NextCursor string              `json:"next_cursor"`
		}
		if st := f.call(t, "finance", "GET", "/api/v1/budget/lines", nil, &page); st != 200 || len(page.Items) != 20 || page.NextCursor == "" {
			t.Errorf("first page: status %d, %d items, next %q; want 20 and a cursor", st, len(page.Items), page.NextCursor)
		}
		var rest struct {
			Items      []ledger.BudgetLine `json:"items"`
			NextCursor string              `json:"next_cursor"`
		}
		if st := f.call(t, "finance", "GET", "/api/v1/budget/lines?cursor="+page.NextCursor, nil, &rest); st != 200 || len(rest.Items) != 6 || rest.NextCursor != "" {
			t.Errorf("second page: status %d, %d items, next %q; want 6 and no cursor", st, len(rest.Items), rest.NextCursor)
		}
		// Sub-district staff default to their own sub-district.
		if st := f.call(t, "sxjk", "GET", "/api/v1/budget/lines?limit=100", nil, &page); st != 200 || len(page.Items) != 25 {
			t.Errorf("sub-district staff: status %d, %d items, want their 25", st, len(page.Items))
		}
	})
}

// TestVersionRule: every step that takes a version answers 400 "version 必填"
// without one and 409 with a stale one.
func TestVersionRule(t *testing.T) {
	a := newCasesApp(t)
	c := a.file(t)
	steps := []struct {
		path string
		body map[string]any
	}{
		{"/accept", map[string]any{"note": "受理"}},
		{"/reject", map[string]any{"reason": "重复"}},
		{"/cancel", map[string]any{"reason": "撤回"}},
		{"/catalog-item", map[string]any{"item_code": bulky}},
	}
	for _, s := range steps {
		t.Run(s.path, func(t *testing.T) {
			var e errBody
			if got := a.call(t, "staff", "POST", "/api/v1/cases/"+c.ID+s.path, s.body, &e); got != 400 || e.Error.Message != "version 必填" || e.Error.Fields["version"] == "" {
				t.Errorf("without version: status %d %+v, want 400 version 必填", got, e.Error)
			}
			s.body["version"] = c.Version + 5
			if got := a.call(t, "staff", "POST", "/api/v1/cases/"+c.ID+s.path, s.body, &e); got != 409 {
				t.Errorf("stale version: status %d %+v, want 409", got, e.Error)
			}
		})
	}
}
