package ledger

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"minsheng"
	"minsheng/internal/auth"
)

// LinesWithEntries gives the same lines, entries included, in the same
// order as paging through Lines and reading each line by id (what planning
// did before), for every scope, and refuses what Lines refuses.
func TestLinesWithEntriesMatchesLinesThenEachLine(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	for i := range 7 {
		for _, sub := range []string{"xinjiekou", "desheng"} {
			l := mustLine(t, s, sub, bulkyItem, fmt.Sprintf("大件垃圾清运%d", i), 1_000_000)
			for k := range i % 3 {
				if _, err := s.Reserve(ctx, finance, l.ID, CaseRef{ID: fmt.Sprintf("case-%s-%d-%d", sub, i, k), SubDistrict: sub, ItemCode: bulkyItem}, 10_000); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	old := func(p auth.Principal, sub string) []*BudgetLine {
		var out []*BudgetLine
		cursor := ""
		for {
			page, next, err := s.Lines(ctx, p, LineFilter{FiscalYear: 2026, SubDistrict: sub, Cursor: cursor, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range page {
				out = append(out, mustGet(t, s, l.ID))
			}
			if next == "" {
				return out
			}
			cursor = next
		}
	}
	for _, tc := range []struct {
		name string
		p    auth.Principal
		sub  string
	}{{"finance, district", finance, ""}, {"finance, one", finance, "desheng"}, {"staff, own", xjkStaff, ""}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.LinesWithEntries(ctx, tc.p, 2026, tc.sub)
			if err != nil {
				t.Fatal(err)
			}
			want := old(tc.p, tc.sub)
			if len(want) == 0 || !reflect.DeepEqual(got, want) {
				t.Errorf("got %d lines, want %d (same entries, same order)", len(got), len(want))
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		_, err := s.LinesWithEntries(ctx, xjkStaff, 2026, "desheng")
		wantCode(t, err, minsheng.EFORBIDDEN)
		_, err = s.LinesWithEntries(ctx, cadre, 2026, "")
		wantCode(t, err, minsheng.EFORBIDDEN)
	})
}
