package ledger

import (
	"context"
	"slices"
	"strings"
	"testing"

	"minsheng"
	"minsheng/internal/org"
)

// TestLinesSorted pins issue 23 item 12: the console listed a district's
// lines in id order (no order a person sees). Sorted by sub-district (the
// district's order) and then any column, paged, each page continues the
// last and no line repeats or goes missing.
func TestLinesSorted(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	for _, l := range []struct {
		sub, name string
		fen       int64
	}{
		{"xinjiekou", "甲", 300}, {"desheng", "乙", 500}, {"xinjiekou", "丙", 900},
		{"desheng", "丁", 100}, {"xinjiekou", "戊", 600}, {"desheng", "己", 700},
	} {
		mustLine(t, s, l.sub, bulkyItem, l.name, l.fen)
	}
	rank := map[string]int{}
	for i, sd := range org.Xicheng().District().SubDistricts {
		rank[sd.Code] = i
	}
	first, second := "desheng", "xinjiekou"
	if rank["xinjiekou"] < rank["desheng"] {
		first, second = second, first
	}
	want := map[string][]string{"desheng": {"己", "乙", "丁"}, "xinjiekou": {"丙", "戊", "甲"}}

	list := func(t *testing.T, spec string, limit int) []*BudgetLine {
		t.Helper()
		keys, err := ParseLineSort(spec)
		if err != nil {
			t.Fatal(err)
		}
		var out []*BudgetLine
		cursor := ""
		for range 10 {
			page, next, err := s.Lines(ctx, finance, LineFilter{FiscalYear: 2026, Sort: keys, Cursor: cursor, Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page...)
			if cursor = next; cursor == "" {
				break
			}
		}
		return out
	}
	names := func(ls []*BudgetLine) []string {
		out := []string{}
		for _, l := range ls {
			out = append(out, l.ProjectName)
		}
		return out
	}

	t.Run("grouped by sub-district, approved descending, two per page", func(t *testing.T) {
		got := names(list(t, "sub_district,-approved_fen", 2))
		wantAll := append(append([]string{}, want[first]...), want[second]...)
		if !slices.Equal(got, wantAll) {
			t.Errorf("order = %v, want %v", got, wantAll)
		}
	})
	t.Run("by approved ascending across sub-districts", func(t *testing.T) {
		got := names(list(t, "approved_fen", 4))
		if w := []string{"丁", "甲", "乙", "戊", "己", "丙"}; !slices.Equal(got, w) {
			t.Errorf("order = %v, want %v", got, w)
		}
	})
	t.Run("sub-district staff see their own, sorted", func(t *testing.T) {
		page, _, err := s.Lines(ctx, dsStaff, LineFilter{FiscalYear: 2026, Sort: []string{"-project_name"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(page); len(got) != 3 || !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Errorf("desheng lines = %v, want 3 by name descending", got)
		}
		for _, l := range page {
			if l.SubDistrict != "desheng" {
				t.Errorf("line %s of %s in desheng's list", l.ProjectName, l.SubDistrict)
			}
		}
	})
	t.Run("unknown or repeated keys are refused", func(t *testing.T) {
		for _, spec := range []string{"nope", "spent_fen,-spent_fen", "a,b,c,d"} {
			_, err := ParseLineSort(spec)
			wantCode(t, err, minsheng.EINVALID)
			if minsheng.ErrorFields(err)["sort"] == "" {
				t.Errorf("%q: fields = %v, want sort", spec, minsheng.ErrorFields(err))
			}
		}
	})
	t.Run("a cursor of one order is refused by another", func(t *testing.T) {
		_, next, err := s.Lines(ctx, finance, LineFilter{FiscalYear: 2026, Sort: []string{"approved_fen"}, Limit: 2})
		if err != nil || next == "" {
			t.Fatalf("next = %q, %v", next, err)
		}
		_, _, err = s.Lines(ctx, finance, LineFilter{FiscalYear: 2026, Sort: []string{"spent_fen"}, Cursor: next, Limit: 2})
		wantCode(t, err, minsheng.EINVALID)
	})
}
