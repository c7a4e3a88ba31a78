package planning

import (
	"context"
	"strings"
	"sync"
	"testing"

	"minsheng"
	"minsheng/budgetlink/ledger"
	"minsheng/internal/auth"
)

var admin = auth.Principal{UserID: "u-admin", Name: "管理员", Role: auth.RoleAdmin}

// transferEnv is the scenario plus a line with money to spare (after an
// adjustment of its own) and a committed run suggesting transfers from it.
func transferEnv(t *testing.T) (*env, scenario, *ledger.BudgetLine, RunReport) {
	t.Helper()
	e := newEnv(t)
	s := e.scenario(t)
	ctx := context.Background()
	spare := e.line(t, sub, itemWaste, "大件垃圾清运", 900_000)
	if _, err := e.ledger.Adjust(ctx, finance, ledger.AdjustmentRequest{Kind: ledger.AdjustIncrease, LineID: spare.ID, AmountFen: 100_000, Reason: "年中追加"}); err != nil {
		t.Fatal(err)
	}
	run, err := e.svc.StartRun(ctx, staff, RunRequest{RunID: runID, FiscalYear: 2026, SubDistrict: sub})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Adjustments) == 0 {
		t.Fatalf("run suggests no transfer: %+v", run)
	}
	return e, s, spare, run
}

func (e *env) versions(t *testing.T, ids ...string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, id := range ids {
		l, err := e.ledger.FindLineByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = l.Version
	}
	return out
}

func (e *env) available(t *testing.T, id string) int64 {
	t.Helper()
	l, err := e.ledger.FindLineByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l.AvailableFen
}

func (e *env) transfers(t *testing.T) []ledger.Adjustment {
	t.Helper()
	all, _, err := e.ledger.Adjustments(context.Background(), finance, ledger.AdjustmentFilter{FiscalYear: 2026, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.Adjustment
	for _, a := range all {
		if a.Kind == ledger.AdjustTransfer {
			out = append(out, a)
		}
	}
	return out
}

// TestApplyTransfers: the same run's suggestions applied by several
// requests at once, then again and by another user, move the money once,
// each as a recorded 调剂 with its reason (issue 23 item 13).
func TestApplyTransfers(t *testing.T) {
	e, s, spare, run := transferEnv(t)
	ctx := context.Background()
	n := len(run.Adjustments)
	var total int64
	for _, a := range run.Adjustments {
		total += a.AmountFen
	}
	before := e.available(t, s.l1.ID)
	req := ApplyTransfersRequest{RunID: runID, LineVersions: e.versions(t, s.l1.ID, s.l2.ID, spare.ID)}

	const copies = 8
	results := make([]TransfersResult, copies)
	errs := make([]error, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = e.svc.ApplyTransfers(ctx, finance, req)
		}()
	}
	wg.Wait()
	applied := 0
	for i, r := range results {
		if errs[i] != nil {
			if minsheng.ErrorCode(errs[i]) != minsheng.ECONFLICT {
				t.Fatalf("copy %d: %v", i, errs[i])
			}
			continue
		}
		applied += r.Applied
		if r.Failed != 0 || r.Applied+r.Already != n {
			t.Errorf("copy %d: %+v, want every suggestion applied now or before", i, r)
		}
	}
	if applied != n {
		t.Errorf("applied %d times in all, want %d (once each)", applied, n)
	}
	got := e.transfers(t)
	if len(got) != n {
		t.Fatalf("ledger holds %d transfers, want %d", len(got), n)
	}
	for _, a := range got {
		if a.State != ledger.AdjustmentApplied || !strings.Contains(a.Reason, "资金分配") || !strings.Contains(a.Reason, "调剂") {
			t.Errorf("transfer %+v: want applied, with the run's reason", a)
		}
	}
	if after := e.available(t, s.l1.ID); after-before != total {
		t.Errorf("L1 gained %d fen, want %d", after-before, total)
	}

	t.Run("again, and by another user: nothing changes", func(t *testing.T) {
		for _, p := range []auth.Principal{finance, admin} {
			r, err := e.svc.ApplyTransfers(ctx, p, req)
			if err != nil || r.Already != n || r.Applied != 0 {
				t.Errorf("%s: %+v (%v), want all %d already applied", p.UserID, r, err, n)
			}
		}
		if len(e.transfers(t)) != n || e.available(t, s.l1.ID)-before != total {
			t.Error("a repeat moved money")
		}
	})
	t.Run("refusals", func(t *testing.T) {
		if _, err := e.svc.ApplyTransfers(ctx, staff, req); minsheng.ErrorCode(err) != minsheng.EFORBIDDEN {
			t.Errorf("sub-district staff: %v, want forbidden", err)
		}
		if _, err := e.svc.ApplyTransfers(ctx, finance, ApplyTransfersRequest{RunID: runID}); minsheng.ErrorCode(err) != minsheng.EINVALID {
			t.Errorf("no versions: %v, want invalid", err)
		}
		if _, err := e.svc.StartRun(ctx, staff, RunRequest{RunID: previewID(7), FiscalYear: 2026, SubDistrict: sub, DryRun: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ApplyTransfers(ctx, finance, ApplyTransfersRequest{RunID: previewID(7), LineVersions: req.LineVersions}); minsheng.ErrorCode(err) != minsheng.ECONFLICT {
			t.Errorf("a preview: %v, want conflict", err)
		}
	})
}

// A suggestion whose lines moved after finance read them is listed as
// failed and moves nothing; read again, it applies.
func TestApplyTransfersStaleLines(t *testing.T) {
	e, s, spare, run := transferEnv(t)
	ctx := context.Background()
	n := len(run.Adjustments)
	read := e.versions(t, s.l1.ID, s.l2.ID, spare.ID)
	if _, err := e.ledger.Adjust(ctx, finance, ledger.AdjustmentRequest{Kind: ledger.AdjustIncrease, LineID: s.l1.ID, AmountFen: 1_000, Reason: "另一笔调增"}); err != nil {
		t.Fatal(err)
	}
	r, err := e.svc.ApplyTransfers(ctx, finance, ApplyTransfersRequest{RunID: runID, LineVersions: read})
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed != n || r.Applied != 0 || !strings.Contains(r.Transfers[0].Message, "已变动") {
		t.Errorf("stale: %+v, want every suggestion failed as moved", r)
	}
	if len(e.transfers(t)) != 0 {
		t.Fatal("a stale application moved money")
	}
	r, err = e.svc.ApplyTransfers(ctx, finance, ApplyTransfersRequest{RunID: runID, LineVersions: e.versions(t, s.l1.ID, s.l2.ID, spare.ID)})
	if err != nil || r.Applied != n {
		t.Errorf("read again: %+v (%v), want %d applied", r, err, n)
	}
}
