package handlers_test

import (
	"context"
	"strings"
	"testing"

	"minsheng/budgetlink/ledger"
	"minsheng/internal/auth"
)

// TestAllocationPreviewCommit: a preview is stored, listed as 预览 beside
// the committed runs, fetched by id, and committed by naming it — unless
// a line's money moved since, which is 409 asking for a new preview.
func TestAllocationPreviewCommit(t *testing.T) {
	a := newAllocationApp(t)
	type summary struct {
		RunID       string `json:"run_id"`
		DryRun      bool   `json:"dry_run"`
		CommittedAs string `json:"committed_as"`
		FromPreview string `json:"from_preview"`
		CreatedBy   string `json:"created_by_name"`
	}
	type report struct {
		RunID       string `json:"run_id"`
		State       string `json:"state"`
		DryRun      bool   `json:"dry_run"`
		Applied     int    `json:"applied"`
		FundedFen   int64  `json:"funded_fen"`
		FromPreview string `json:"from_preview"`
		CreatedAt   string `json:"created_at"`
	}
	const p1, p2, r1, r2 = "6a0e0000-0000-4000-8000-000000000001", "6a0e0000-0000-4000-8000-000000000002",
		"6a0e0000-0000-4000-8000-0000000000a1", "6a0e0000-0000-4000-8000-0000000000a2"
	post := func(t *testing.T, body map[string]any, out any) int {
		t.Helper()
		body["fiscal_year"], body["sub_district"] = 2026, aSub
		return a.call(t, "staff", "POST", "/api/v1/allocation/runs", body, out)
	}

	t.Run("preview is stored and fetched by id", func(t *testing.T) {
		var r report
		if got := post(t, map[string]any{"run_id": p1, "dry_run": true}, &r); got != 200 || !r.DryRun || r.CreatedAt == "" {
			t.Fatalf("POST: status %d %+v, want a preview with its time", got, r)
		}
		var again report
		if got := a.call(t, "finance", "GET", "/api/v1/allocation/runs/"+p1, nil, &again); got != 200 || !again.DryRun || again.FundedFen != 600_000 {
			t.Errorf("GET: status %d %+v, want the preview funding 600000", got, again)
		}
		if got := a.call(t, "stafffar", "GET", "/api/v1/allocation/runs/"+p1, nil, nil); got != 403 {
			t.Errorf("GET by another sub-district: status %d, want 403", got)
		}
	})
	t.Run("a line's money moved: 409, nothing reserved", func(t *testing.T) {
		if _, err := a.budget.Adjust(context.Background(), auth.Principal{UserID: "seed", Role: auth.RoleFinance},
			ledger.AdjustmentRequest{Kind: ledger.AdjustIncrease, LineID: a.lineID, AmountFen: 100, Reason: "测试"}); err != nil {
			t.Fatal(err)
		}
		var e apiError
		if got := post(t, map[string]any{"run_id": r1, "from_preview": p1}, &e); got != 409 || !strings.Contains(e.Error.Message, "重新预览") {
			t.Errorf("status %d %+v, want 409 asking for a new preview", got, e)
		}
		if l, _ := a.budget.FindLineByID(context.Background(), a.lineID); l.CommittedFen != 0 {
			t.Errorf("committed: got %d, want 0", l.CommittedFen)
		}
	})
	t.Run("a new preview commits", func(t *testing.T) {
		if got := post(t, map[string]any{"run_id": p2, "dry_run": true}, nil); got != 200 {
			t.Fatalf("preview: status %d", got)
		}
		var r report
		if got := post(t, map[string]any{"run_id": r2, "from_preview": p2}, &r); got != 200 || r.State != "done" || r.Applied != 1 || r.FromPreview != p2 {
			t.Fatalf("commit: status %d %+v", got, r)
		}
		var e apiError
		if got := post(t, map[string]any{"run_id": r1, "from_preview": p2}, &e); got != 409 {
			t.Errorf("second commit of the preview: status %d %+v, want 409", got, e)
		}
	})
	t.Run("the list shows previews and runs", func(t *testing.T) {
		var list struct {
			Items []summary `json:"items"`
		}
		if got := a.call(t, "staff", "GET", "/api/v1/allocation/runs?year=2026", nil, &list); got != 200 {
			t.Fatalf("status %d", got)
		}
		byID := map[string]summary{}
		for _, s := range list.Items {
			byID[s.RunID] = s
		}
		if len(byID) != 3 || !byID[p1].DryRun || !byID[p2].DryRun || byID[p2].CommittedAs != r2 || byID[r2].DryRun || byID[r2].FromPreview != p2 || byID[r2].CreatedBy == "" {
			t.Errorf("got %+v, want two previews (the second committed as %s) and the run", list.Items, r2)
		}
		if got := a.call(t, "staff", "GET", "/api/v1/allocation/runs?kind=preview", nil, &list); got != 200 || len(list.Items) != 2 {
			t.Errorf("kind=preview: status %d, %d items, want 2", got, len(list.Items))
		}
		if got := a.call(t, "staff", "GET", "/api/v1/allocation/runs?kind=x", nil, nil); got != 400 {
			t.Errorf("kind=x: status %d, want 400", got)
		}
		if got := a.call(t, "stafffar", "GET", "/api/v1/allocation/runs", nil, &list); got != 200 || len(list.Items) != 0 {
			t.Errorf("another sub-district: status %d, %d items, want none", got, len(list.Items))
		}
	})
	t.Run("the 资金不足 queue names the waitlisted case", func(t *testing.T) {
		var q struct {
			Total         int   `json:"total"`
			Waitlisted    int   `json:"waitlisted"`
			OverAvailable int   `json:"over_available"`
			GapFen        int64 `json:"gap_fen"`
			Items         []struct {
				CaseID  string   `json:"case_id"`
				Number  string   `json:"number"`
				RunID   string   `json:"run_id"`
				Reasons []string `json:"reasons"`
			} `json:"items"`
		}
		if got := a.call(t, "staff", "GET", "/api/v1/allocation/shortfalls?year=2026", nil, &q); got != 200 {
			t.Fatalf("status %d", got)
		}
		// 10,001 元 on the line, 6,000 reserved: need-b (5,000) lacks 999 元.
		if q.Total != 1 || q.Waitlisted != 1 || q.OverAvailable != 1 || q.GapFen != 99_900 || len(q.Items) != 1 ||
			q.Items[0].CaseID != "need-b" || q.Items[0].Number == "" || q.Items[0].RunID != r2 {
			t.Errorf("got %+v, want need-b waitlisted by %s and 999 元 short", q, r2)
		}
		if got := a.call(t, "cadre", "GET", "/api/v1/allocation/shortfalls", nil, nil); got != 403 {
			t.Errorf("cadre: status %d, want 403", got)
		}
		if got := a.call(t, "staff", "GET", "/api/v1/allocation/shortfalls?sub_district="+aSubFar, nil, nil); got != 403 {
			t.Errorf("staff asking for another sub-district: status %d, want 403", got)
		}
		if got := a.call(t, "staff", "GET", "/api/v1/allocation/shortfalls?foo=1", nil, nil); got != 400 {
			t.Errorf("unknown parameter: status %d, want 400", got)
		}
	})
}
