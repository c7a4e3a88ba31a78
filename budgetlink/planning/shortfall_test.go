package planning

import (
	"context"
	"reflect"
	"testing"

	"minsheng"
	"minsheng/budgetlink/allocation"
	"minsheng/budgetlink/ledger"
	"minsheng/cases"
)

func TestShortfalls(t *testing.T) {
	e := newEnv(t)
	s := e.scenario(t)
	ctx := context.Background()
	// L1 has 10,000 元 available (12,000 approved, 2,000 reserved for D): a
	// 15,000 元 need cannot be funded from it whatever the order.
	big := e.addCase(t, cases.Case{ID: "case-big", CatalogItem: itemToilet, Assessment: assess(1_500_000, 1, 0), FiledAt: daysAgo(4),
		Location: cases.Location{Address: "大院"}})
	reasons := func(l ShortList) map[string][]string {
		out := map[string][]string{}
		for _, it := range l.Items {
			out[it.CaseID] = it.Reasons
		}
		return out
	}

	t.Run("before any run: only what exceeds the line's money", func(t *testing.T) {
		got, err := e.svc.Shortfalls(ctx, staff, ShortQuery{FiscalYear: 2026})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string][]string{big.ID: {allocation.ShortOverAvailable}}; !reflect.DeepEqual(reasons(got), want) {
			t.Errorf("got %v, want %v", reasons(got), want)
		}
		it := got.Items[0]
		if got.Total != 1 || got.OverAvailable != 1 || got.Waitlisted != 0 || got.GapFen != 500_000 ||
			it.AvailableFen != 1_000_000 || it.Number != big.Number || it.ProjectName != "丰盛社区旱厕改造" || it.RunID != "" {
			t.Errorf("got %+v, want one case 5,000 元 short on 丰盛社区旱厕改造, named", got)
		}
	})
	t.Run("after a committed run: its waitlisted cases too", func(t *testing.T) {
		// L1: B (9,000) is funded; C (5,000) and the big one wait.
		if _, err := e.svc.StartRun(ctx, staff, RunRequest{RunID: runID, FiscalYear: 2026, SubDistrict: sub}); err != nil {
			t.Fatal(err)
		}
		// A preview waitlisting nothing more changes nothing: only committed runs count.
		if _, err := e.svc.StartRun(ctx, staff, RunRequest{RunID: previewID(1), FiscalYear: 2026, SubDistrict: sub, DryRun: true}); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Shortfalls(ctx, staff, ShortQuery{FiscalYear: 2026})
		if err != nil {
			t.Fatal(err)
		}
		both := []string{allocation.ShortWaitlisted, allocation.ShortOverAvailable}
		if want := map[string][]string{big.ID: both, s.c.ID: both}; !reflect.DeepEqual(reasons(got), want) {
			t.Errorf("got %v, want %v", reasons(got), want)
		}
		// L1 has 1,000 元 left: the big one lacks 14,000, C 4,000 元.
		if got.Total != 2 || got.Waitlisted != 2 || got.OverAvailable != 2 || got.GapFen != 1_800_000 || got.Runs[sub] != runID {
			t.Errorf("got total %d waitlisted %d over %d gap %d runs %v, want 2/2/2/1800000 from %s", got.Total, got.Waitlisted, got.OverAvailable, got.GapFen, got.Runs, runID)
		}
		for _, it := range got.Items {
			if it.RunID != runID {
				t.Errorf("%s: run %q, want %s", it.CaseID, it.RunID, runID)
			}
		}
		t.Run("pages", func(t *testing.T) {
			p1, err := e.svc.Shortfalls(ctx, staff, ShortQuery{FiscalYear: 2026, Limit: 1})
			if err != nil || len(p1.Items) != 1 || p1.Items[0].CaseID != big.ID || p1.NextCursor == "" || p1.Total != 2 {
				t.Fatalf("page 1: %+v (%v), want the big one and a cursor", p1, err)
			}
			p2, err := e.svc.Shortfalls(ctx, staff, ShortQuery{FiscalYear: 2026, Limit: 1, Cursor: p1.NextCursor})
			if err != nil || len(p2.Items) != 1 || p2.Items[0].CaseID != s.c.ID || p2.NextCursor != "" {
				t.Errorf("page 2: %+v (%v), want C and no cursor", p2, err)
			}
		})
	})
	t.Run("a 调增 covering a waitlisted case takes it out at once", func(t *testing.T) {
		// Issue 23 item 12: C stayed in the queue until the next run. L1
		// has 1,000 元 left; 4,000 more cover C's 5,000, not the big one.
		if _, err := e.ledger.Adjust(ctx, finance, ledger.AdjustmentRequest{Kind: ledger.AdjustIncrease, LineID: s.l1.ID, AmountFen: 400_000, Reason: "补足候补"}); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Shortfalls(ctx, staff, ShortQuery{FiscalYear: 2026})
		if err != nil {
			t.Fatal(err)
		}
		both := []string{allocation.ShortWaitlisted, allocation.ShortOverAvailable}
		if want := map[string][]string{big.ID: both}; !reflect.DeepEqual(reasons(got), want) || got.Total != 1 || got.GapFen != 1_000_000 {
			t.Errorf("got %v (total %d, gap %d), want only the big one, 10,000 元 short", reasons(got), got.Total, got.GapFen)
		}
	})
	t.Run("a waitlisted case that gets money leaves it", func(t *testing.T) {
		if _, err := e.ledger.LinkCase(ctx, finance, s.c.ID, s.l2.ID, 100_000); err == nil {
			t.Fatal("linking C to a line of another item: want a refusal")
		}
		// Finance adds money and links C by hand.
		if _, err := e.ledger.LinkCase(ctx, staff, s.c.ID, s.l1.ID, 100_000); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Shortfalls(ctx, staff, ShortQuery{FiscalYear: 2026})
		if err != nil {
			t.Fatal(err)
		}
		if _, in := reasons(got)[s.c.ID]; in || got.Total != 1 {
			t.Errorf("got %v, want only the big one", reasons(got))
		}
	})
	t.Run("scope", func(t *testing.T) {
		got, err := e.svc.Shortfalls(ctx, outside, ShortQuery{FiscalYear: 2026})
		if err != nil || got.Total != 0 {
			t.Errorf("outside staff: %+v (%v), want an empty queue (their case has no line)", got, err)
		}
		if _, err := e.svc.Shortfalls(ctx, outside, ShortQuery{FiscalYear: 2026, SubDistrict: sub}); minsheng.ErrorCode(err) != minsheng.EFORBIDDEN {
			t.Errorf("outside asking for %s: got %v, want forbidden", sub, err)
		}
		if _, err := e.svc.Shortfalls(ctx, cadre, ShortQuery{FiscalYear: 2026}); minsheng.ErrorCode(err) != minsheng.EFORBIDDEN {
			t.Errorf("cadre: got %v, want forbidden", err)
		}
		all, err := e.svc.Shortfalls(ctx, finance, ShortQuery{FiscalYear: 2026})
		if err != nil || all.Total != 1 {
			t.Errorf("finance, whole district: %+v (%v), want the big one", all, err)
		}
	})
}
