package planning

import (
	"context"
	"testing"

	"minsheng"
)

func TestRunsList(t *testing.T) {
	e := newEnv(t)
	e.scenario(t)
	ctx := context.Background()
	ids := []string{
		"0b9a4c1e-1111-4a2b-9c3d-000000000001",
		"0b9a4c1e-1111-4a2b-9c3d-000000000002",
		"0b9a4c1e-1111-4a2b-9c3d-000000000003",
	}
	first, err := e.svc.StartRun(ctx, staff, RunRequest{RunID: ids[0], FiscalYear: 2026, SubDistrict: sub})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[1:] {
		if _, err := e.svc.StartRun(ctx, finance, RunRequest{RunID: id, FiscalYear: 2026, SubDistrict: sub}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.StartRun(ctx, staff, RunRequest{RunID: "0b9a4c1e-1111-4a2b-9c3d-0000000000ff", FiscalYear: 2026, SubDistrict: sub, DryRun: true}); err != nil {
		t.Fatal(err)
	}

	t.Run("staff see their committed runs with totals", func(t *testing.T) {
		got, next, err := e.svc.Runs(ctx, staff, RunsQuery{Kind: RunKindCommitted})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || next != "" {
			t.Fatalf("runs = %d (next %q), want 3 committed and no dry run", len(got), next)
		}
		var r *RunSummary
		for i := range got {
			if got[i].RunID == ids[0] {
				r = &got[i]
			}
		}
		if r == nil {
			t.Fatalf("run %s missing from %+v", ids[0], got)
		}
		if r.FundedCases != first.FundedCases || r.FundedFen != first.FundedFen || r.ShortfallFen != first.ShortfallFen ||
			r.WaitlistedCases != first.WaitlistedCases || r.SubDistrictName != "新街口街道" {
			t.Errorf("summary = %+v, want the run's totals %d/%d/%d/%d and the sub-district's name",
				r, first.FundedCases, first.FundedFen, first.WaitlistedCases, first.ShortfallFen)
		}
	})
	t.Run("pages follow the cursor without repeats", func(t *testing.T) {
		seen := map[string]bool{}
		cursor := ""
		for range 4 {
			page, next, err := e.svc.Runs(ctx, finance, RunsQuery{Kind: RunKindCommitted, Limit: 1, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page {
				if seen[r.RunID] {
					t.Errorf("run %s listed twice", r.RunID)
				}
				seen[r.RunID] = true
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		if len(seen) != 3 {
			t.Errorf("paged runs = %d, want 3", len(seen))
		}
	})
	t.Run("another sub-district's staff see none and may not ask", func(t *testing.T) {
		got, _, err := e.svc.Runs(ctx, outside, RunsQuery{})
		if err != nil || len(got) != 0 {
			t.Errorf("outside runs = %v, %v; want none", got, err)
		}
		if _, _, err := e.svc.Runs(ctx, outside, RunsQuery{SubDistrict: sub}); minsheng.ErrorCode(err) != minsheng.EFORBIDDEN {
			t.Errorf("outside asking for %s: got %v, want forbidden", sub, err)
		}
		if _, _, err := e.svc.Runs(ctx, cadre, RunsQuery{}); minsheng.ErrorCode(err) != minsheng.EFORBIDDEN {
			t.Errorf("cadre: got %v, want forbidden", err)
		}
	})
	t.Run("a bad cursor is invalid", func(t *testing.T) {
		if _, _, err := e.svc.Runs(ctx, finance, RunsQuery{Cursor: "x"}); minsheng.ErrorCode(err) != minsheng.EINVALID {
			t.Errorf("got %v, want invalid", err)
		}
	})
}
