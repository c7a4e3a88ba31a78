package ledger

// Money bounds (issue 8 item 1) and Check's repairs of data it cannot
// apply or that was applied twice (item 2).

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
)

func TestMoneyBounds(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	full := mustLine(t, s, "xinjiekou", bulkyItem, "满额项目", minsheng.MaxAmountFen)
	l := mustLine(t, s, "xinjiekou", "CG-01-01", "普通项目", 100_000)
	ref := CaseRef{ID: "c1", SubDistrict: "xinjiekou", ItemCode: "CG-01-01"}

	t.Run("approved beyond the bound", func(t *testing.T) {
		_, err := s.CreateLine(ctx, finance, NewLine{FiscalYear: 2026, SubDistrict: "xinjiekou", ItemCode: bulkyItem, ProjectName: "超额", ApprovedFen: math.MaxInt64})
		wantCode(t, err, minsheng.EINVALID)
		if minsheng.ErrorFields(err)["approved_fen"] == "" {
			t.Errorf("fields = %v, want approved_fen", minsheng.ErrorFields(err))
		}
	})
	t.Run("adjustment beyond the bound", func(t *testing.T) {
		_, err := s.Adjust(ctx, finance, AdjustmentRequest{Kind: AdjustIncrease, LineID: l.ID, AmountFen: math.MaxInt64, Reason: "溢出"})
		wantCode(t, err, minsheng.EINVALID)
		if minsheng.ErrorFields(err)["amount_fen"] == "" {
			t.Errorf("fields = %v, want amount_fen", minsheng.ErrorFields(err))
		}
	})
	t.Run("raise past the bound", func(t *testing.T) {
		for _, req := range []AdjustmentRequest{
			{Kind: AdjustIncrease, LineID: full.ID, AmountFen: 1, Reason: "再加一分"},
			{Kind: AdjustTransfer, LineID: l.ID, ToLineID: full.ID, AmountFen: 1, Reason: "调入满额项目"},
		} {
			_, err := s.Adjust(ctx, finance, req)
			wantCode(t, err, minsheng.ECONFLICT)
			if !strings.Contains(minsheng.ErrorMessage(err), "上限") {
				t.Errorf("%s: message %q, want it to name the bound", req.Kind, minsheng.ErrorMessage(err))
			}
		}
		if got := mustGet(t, s, full.ID); got.AdjustedFen != 0 || got.AvailableFen != minsheng.MaxAmountFen {
			t.Errorf("full line = %+v, want untouched", got.Totals())
		}
		if got := mustGet(t, s, l.ID); got.AvailableFen != 100_000 {
			t.Errorf("source of the refused transfer = %+v, want untouched", got.Totals())
		}
		pending, _, err := s.Adjustments(ctx, finance, AdjustmentFilter{State: AdjustmentPending})
		if err != nil || len(pending) != 0 {
			t.Errorf("pending adjustments = %+v, %v; want none", pending, err)
		}
	})
	t.Run("estimate and actual cost beyond the bound", func(t *testing.T) {
		_, err := s.Reserve(ctx, xjkStaff, l.ID, ref, math.MaxInt64)
		wantCode(t, err, minsheng.EINVALID)
		if _, err := s.Reserve(ctx, xjkStaff, l.ID, ref, 10_000); err != nil {
			t.Fatal(err)
		}
		_, err = s.Reestimate(ctx, xjkStaff, l.ID, ref.ID, minsheng.MaxAmountFen+1)
		wantCode(t, err, minsheng.EINVALID)
		_, err = complete(ctx, s, xjkStaff, ref.ID, math.MaxInt64)
		wantCode(t, err, minsheng.EINVALID)
		wantInvariant(t, mustGet(t, s, l.ID))
	})
}

// TestCheckSurvivesPoisonedData stores what the old code accepted — a line
// approved at int64 max, a pending adjustment of int64 max, a reservation
// of int64 max — straight into the database. Check must return no error,
// mark the adjustment failed, freeze the lines it cannot add up, report
// them, and leave the server able to start (a second Check is clean).
func TestCheckSurvivesPoisonedData(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	normal := mustLine(t, s, "xinjiekou", "CG-01-01", "普通项目", 100_000)
	old := s.now().Add(-time.Hour)
	poisoned := mustLine(t, s, "xinjiekou", bulkyItem, "批复溢出", 1)
	if _, err := s.lines.UpdateOne(ctx, bson.M{"_id": poisoned.ID}, bson.M{"$set": bson.M{"approved_fen": int64(math.MaxInt64), "available_fen": int64(math.MaxInt64)}}); err != nil {
		t.Fatal(err)
	}
	overReserved := mustLine(t, s, "desheng", bulkyItem, "预留溢出", 100)
	if _, err := s.lines.UpdateOne(ctx, bson.M{"_id": overReserved.ID}, bson.M{"$push": bson.M{"reservations": Reservation{
		CaseID: "c-huge", AmountFen: math.MaxInt64, State: StateReserved, Movement: "MV-huge", LinkedAt: old, UpdatedAt: old}}}); err != nil {
		t.Fatal(err)
	}
	for _, adj := range []Adjustment{
		{ID: "ADJ-huge", Kind: AdjustIncrease, FiscalYear: 2026, SubDistricts: []string{"xinjiekou"}, Entries: []AdjustmentEntry{{LineID: normal.ID, DeltaFen: math.MaxInt64}},
			AmountFen: math.MaxInt64, Reason: "溢出", State: AdjustmentPending, CreatedBy: "u", CreatedAt: old},
		{ID: "ADJ-one-fen", Kind: AdjustIncrease, FiscalYear: 2026, SubDistricts: []string{"xinjiekou"}, Entries: []AdjustmentEntry{{LineID: poisoned.ID, DeltaFen: 1}},
			AmountFen: 1, Reason: "再加一分", State: AdjustmentPending, CreatedBy: "u", CreatedAt: old},
	} {
		if err := s.adjustments.InsertOne(ctx, adj); err != nil {
			t.Fatal(err)
		}
	}

	rep, err := s.Check(ctx)
	if err != nil {
		t.Fatalf("check failed on poisoned data: %v", err)
	}
	kinds := map[string]int{}
	for _, f := range rep.Fixes {
		kinds[f.Kind]++
	}
	if kinds[FixAdjustmentFailed] != 2 || kinds[FixLineFrozen] != 2 {
		t.Errorf("fixes = %+v, want 2 failed adjustments and 2 frozen lines", rep.Fixes)
	}
	if len(rep.Problems) != 0 {
		t.Errorf("problems = %v, want none (nothing left for check to stop on)", rep.Problems)
	}
	adjs, _, err := s.Adjustments(ctx, finance, AdjustmentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range adjs {
		if a.State != AdjustmentFailed || a.FailReason == "" {
			t.Errorf("adjustment %s = %s %q, want failed with a reason", a.ID, a.State, a.FailReason)
		}
	}
	if got := mustGet(t, s, normal.ID); got.AvailableFen != 100_000 || got.Frozen != "" {
		t.Errorf("normal line = %+v frozen %q, want untouched", got.Totals(), got.Frozen)
	}
	for _, id := range []string{poisoned.ID, overReserved.ID} {
		if got := mustGet(t, s, id); got.Frozen == "" {
			t.Errorf("line %s not frozen", id)
		}
	}

	t.Run("a second check is clean and still reports the frozen lines", func(t *testing.T) {
		again, err := s.Check(ctx)
		if err != nil || !again.OK() {
			t.Fatalf("second check = %+v, %v; want clean", again, err)
		}
		if len(again.Frozen) != 2 {
			t.Errorf("frozen = %+v, want both lines reported", again.Frozen)
		}
	})
	t.Run("no money moves on a frozen line", func(t *testing.T) {
		_, err := s.Adjust(ctx, finance, AdjustmentRequest{Kind: AdjustIncrease, LineID: poisoned.ID, AmountFen: 1, Reason: "再加一分"})
		wantCode(t, err, minsheng.ECONFLICT)
		_, err = s.Reserve(ctx, xjkStaff, poisoned.ID, CaseRef{ID: "c2", SubDistrict: "xinjiekou", ItemCode: bulkyItem}, 1)
		wantCode(t, err, minsheng.ECONFLICT)
		if !strings.Contains(minsheng.ErrorMessage(err), "冻结") {
			t.Errorf("message %q, want it to say the line is frozen", minsheng.ErrorMessage(err))
		}
	})
}

// TestCheckDropsDuplicatedEntries stores a line as the $ne defect left it
// — one case reserved three times, one adjustment applied twice, totals
// counting every copy — and expects Check to undo the copies, recompute
// the totals and audit each repair.
func TestCheckDropsDuplicatedEntries(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	l := mustLine(t, s, "xinjiekou", bulkyItem, "重复记账", 100_000)
	at := s.now()
	res := func(caseID, mv string) Reservation {
		return Reservation{CaseID: caseID, AmountFen: 10_000, State: StateReserved, Movement: mv, LinkedAt: at, UpdatedAt: at}
	}
	delta := LineDelta{AdjustmentID: "ADJ-1", Kind: AdjustIncrease, DeltaFen: 1_000, At: at}
	if _, err := s.lines.UpdateOne(ctx, bson.M{"_id": l.ID}, bson.M{"$set": bson.M{
		"reservations":  []Reservation{res("other", "MV-o"), res("dup", "MV-1"), res("dup", "MV-2"), res("dup", "MV-3")},
		"adjustments":   []LineDelta{delta, delta},
		"committed_fen": int64(40_000), "adjusted_fen": int64(2_000), "available_fen": int64(62_000), "adjustment_count": int64(2),
	}}); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dropped := 0
	for _, f := range rep.Fixes {
		if f.Kind == FixDuplicateDropped {
			dropped++
		}
	}
	if dropped != 3 {
		t.Errorf("fixes = %+v, want 3 duplicates dropped (2 reservations, 1 adjustment)", rep.Fixes)
	}
	got := mustGet(t, s, l.ID)
	wantInvariant(t, got)
	if got.CommittedFen != 20_000 || got.AdjustedFen != 1_000 || got.AvailableFen != 81_000 || got.AdjustmentCount != 1 {
		t.Errorf("repaired = %+v count %d, want committed 20000, adjusted 1000, available 81000, 1 adjustment", got.Totals(), got.AdjustmentCount)
	}
	live := 0
	for _, r := range got.Reservations {
		if r.CaseID == "dup" && r.Live() {
			live++
		}
	}
	if live != 1 {
		t.Errorf("case dup live %d times, want once", live)
	}
	if n := auditCount(t, s, bson.M{"line_id": l.ID, "kind": AuditRepair}); n != 4 {
		t.Errorf("repair audit entries = %d, want 4 (3 duplicates and the totals)", n)
	}
	if again, err := s.Check(ctx); err != nil || !again.OK() {
		t.Errorf("second check = %+v, %v; want clean", again, err)
	}
}
