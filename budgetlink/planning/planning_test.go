package planning

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/budgetlink/allocation"
	"minsheng/budgetlink/ledger"
	"minsheng/cases"
)

// scenario is one sub-district with two lines and the cases around them:
//
//	L1 旱厕改造 (SQ-05-04) approved 12,000 元, 2,000 元 already reserved for D
//	L2 临时救助 (MS-01-03, 三保) approved 3,000 元
//	A  临时救助, 2,000 元, 4 households, risk 2, 10 days waiting     → L2
//	B  旱厕改造, 9,000 元, 9 households, risk 1, 4 co-signers,
//	   200 days waiting, two other complaints about the same place
//	   within a year (and one older; a duplicate merged into B, whose
//	   filer is one of the co-signers, and a rejected one do not
//	   count as repeats: issue 8 item 8)                             → L1
//	C  旱厕改造, 5,000 元, 1 household, 3 elderly and 2 disabled
//	   residents, 5 days waiting                                     → L1
//	D  funded already; E not yet accepted; F not assessed; G an item
//	   without a line (unplaced); H another sub-district.
type scenario struct {
	l1, l2     *ledger.BudgetLine
	a, b, c, d *cases.Case
	g          *cases.Case
}

func (e *env) scenario(t *testing.T) scenario {
	t.Helper()
	ctx := context.Background()
	var s scenario
	s.l1 = e.line(t, sub, itemToilet, "丰盛社区旱厕改造", 1_200_000)
	s.l2 = e.line(t, sub, itemRelief, "临时救助", 300_000)
	s.a = e.addCase(t, cases.Case{ID: "case-a", CatalogItem: itemRelief, Assessment: assess(200_000, 4, 2), FiledAt: daysAgo(10),
		Location: cases.Location{Address: "西里二区3号楼"}})
	s.b = e.addCase(t, cases.Case{ID: "case-b", CatalogItem: itemToilet, Assessment: assess(900_000, 9, 1), FiledAt: daysAgo(200),
		Cosigners: []string{"r1", "r2", "r3", "r4"}, Households: 3, Location: cases.Location{Address: "丰盛胡同10号"}})
	for i, r := range []struct {
		days   int
		status cases.Status
	}{{100, cases.StatusClosed}, {30, cases.StatusClosed}, {400, cases.StatusClosed}, {20, cases.StatusMerged}, {15, cases.StatusRejected}} {
		c := cases.Case{ID: "case-b-repeat-" + string(rune('0'+i)), CatalogItem: itemToilet, Status: r.status, FiledAt: daysAgo(r.days),
			Location: cases.Location{Address: " 丰盛胡同 10号"}}
		if r.status == cases.StatusMerged {
			// Its filer became a co-signer of B (r4): one voice, counted once.
			c.MergedInto, c.FilerID = "case-b", "r4"
		}
		e.addCase(t, c)
	}
	s.c = e.addCase(t, cases.Case{ID: "case-c", CatalogItem: itemToilet, Assessment: vulnerable(assess(500_000, 1, 0), 3, 2), FiledAt: daysAgo(5),
		Location: cases.Location{Address: "西里一区"}})
	s.d = e.addCase(t, cases.Case{ID: "case-d", CatalogItem: itemToilet, Assessment: assess(200_000, 2, 0), FiledAt: daysAgo(60), Status: cases.StatusInProgress})
	if _, err := e.ledger.Reserve(ctx, finance, s.l1.ID, ledger.CaseRef{ID: s.d.ID, SubDistrict: sub, ItemCode: itemToilet}, 200_000); err != nil {
		t.Fatal(err)
	}
	e.addCase(t, cases.Case{ID: "case-e", CatalogItem: itemToilet, Assessment: assess(100_000, 1, 3), FiledAt: daysAgo(1), Status: cases.StatusSubmitted})
	e.addCase(t, cases.Case{ID: "case-f", CatalogItem: itemToilet, FiledAt: daysAgo(3)})
	s.g = e.addCase(t, cases.Case{ID: "case-g", CatalogItem: itemWaste, Assessment: assess(300_000, 1, 0), FiledAt: daysAgo(2)})
	e.addCase(t, cases.Case{ID: "case-h", CatalogItem: itemToilet, Assessment: assess(300_000, 1, 0), FiledAt: daysAgo(2),
		Location: cases.Location{SubDistrict: otherSub, Community: "desheng-andelunan"}})
	return s
}

func TestWeights(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	t.Run("defaults until set", func(t *testing.T) {
		got, err := e.svc.Weights(ctx, staff, 2027)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Default || got.Weights != allocation.DefaultWeights(2027) {
			t.Errorf("got %+v, want the defaults of 2027", got)
		}
	})
	t.Run("finance sets them", func(t *testing.T) {
		w := allocation.DefaultWeights(2027)
		w.Sanbao = 50_000
		if _, err := e.svc.SetWeights(ctx, finance, 2027, BodyOf(w)); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Weights(ctx, staff, 2027)
		if err != nil {
			t.Fatal(err)
		}
		if got.Default || got.Weights != w || got.UpdatedBy != finance.UserID {
			t.Errorf("got %+v, want %+v set by finance", got, w)
		}
	})
	t.Run("a partial body is refused and changes nothing", func(t *testing.T) {
		before, err := e.svc.Weights(ctx, staff, 2027)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.SetWeights(ctx, finance, 2027, WeightsBody{Sanbao: ptr(int64(1))})
		if got := minsheng.ErrorCode(err); got != minsheng.EINVALID {
			t.Fatalf("got %q (%v), want %q", got, err, minsheng.EINVALID)
		}
		fields := minsheng.ErrorFields(err)
		for _, name := range []string{"safety_per_level", "households", "co_signers", "elderly", "disabled", "vulnerable_cap",
			"waiting_per_day", "waiting_cap_days", "repeat_complaints", "cost_per_household", "cost_reference_fen"} {
			if fields[name] == "" {
				t.Errorf("field %s: got no error, want 必填 (fields %v)", name, fields)
			}
		}
		if fields["sanbao"] != "" {
			t.Errorf("field sanbao: got %q, want no error (it was given)", fields["sanbao"])
		}
		after, err := e.svc.Weights(ctx, staff, 2027)
		if err != nil {
			t.Fatal(err)
		}
		if after.Weights != before.Weights {
			t.Errorf("weights after a refused partial body: got %+v, want %+v", after.Weights, before.Weights)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		bad := allocation.DefaultWeights(2027)
		bad.Households = -1
		tests := []struct {
			name string
			err  error
			code string
		}{
			{"sub-district staff may not set", second(e.svc.SetWeights(ctx, staff, 2027, BodyOf(allocation.DefaultWeights(2027)))), minsheng.EFORBIDDEN},
			{"negative weight", second(e.svc.SetWeights(ctx, finance, 2027, BodyOf(bad))), minsheng.EINVALID},
			{"year mismatch", second(e.svc.SetWeights(ctx, finance, 2027, BodyOf(allocation.DefaultWeights(2028)))), minsheng.EINVALID},
			{"residents may not read", second(e.svc.Weights(ctx, citizen, 2027)), minsheng.EFORBIDDEN},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := minsheng.ErrorCode(tt.err); got != tt.code {
					t.Errorf("got %q (%v), want %q", got, tt.err, tt.code)
				}
			})
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestPriorities(t *testing.T) {
	e := newEnv(t)
	s := e.scenario(t)
	ctx := context.Background()

	got, err := e.svc.Priorities(ctx, staff, PriorityQuery{FiscalYear: 2026})
	if err != nil {
		t.Fatal(err)
	}
	if got.SubDistrict != sub {
		t.Errorf("scope: got %q, want staff's own %q", got.SubDistrict, sub)
	}
	// Hand-computed with the default weights (milli-points):
	//  A: 三保 30000 + safety 2×10000 + households 3000×√4=6000 + waiting
	//     10×100=1000 + cost 20000×500000/(500000+50000)=18181      = 75181
	//  B: safety 10000 + households 3000×√9=9000 + co-signers 2000×√4=4000
	//     + waiting min(200,180)×100=18000 + repeats 4000×1.414=5656
	//     + cost 20000×500000/(500000+100000)=16666                 = 63322
	//  C: households 3000 + elderly 3×1000 + disabled 2×1500 + waiting
	//     500 + cost 20000×500000/1000000                            = 19500
	want := []struct {
		id       string
		total    int64
		lineRank int
		line     string
		parts    map[string][2]int64 // factor → {input, points}
	}{
		{s.a.ID, 75_181, 1, s.l2.ID, map[string][2]int64{
			allocation.FactorSanbao: {1, 30_000}, allocation.FactorSafety: {2, 20_000}, allocation.FactorHouseholds: {4, 6_000},
			allocation.FactorWaiting: {10, 1_000}, allocation.FactorCostPerHousehold: {50_000, 18_181}, allocation.FactorRepeatComplaints: {0, 0}}},
		{s.b.ID, 63_322, 1, s.l1.ID, map[string][2]int64{
			allocation.FactorSanbao: {0, 0}, allocation.FactorSafety: {1, 10_000}, allocation.FactorHouseholds: {9, 9_000},
			allocation.FactorCoSigners: {4, 4_000}, allocation.FactorWaiting: {180, 18_000},
			allocation.FactorRepeatComplaints: {2, 5_656}, allocation.FactorCostPerHousehold: {100_000, 16_666}}},
		{s.c.ID, 19_500, 2, s.l1.ID, map[string][2]int64{
			allocation.FactorHouseholds: {1, 3_000}, allocation.FactorElderly: {3, 3_000}, allocation.FactorDisabled: {2, 3_000},
			allocation.FactorWaiting: {5, 500}, allocation.FactorCostPerHousehold: {500_000, 10_000}}},
	}
	if len(got.Needs) != len(want) {
		t.Fatalf("needs: got %d %+v, want %d", len(got.Needs), got.Needs, len(want))
	}
	for i, w := range want {
		n := got.Needs[i]
		t.Run(w.id, func(t *testing.T) {
			if n.CaseID != w.id || n.Rank != i+1 || n.LineRank != w.lineRank || n.LineID != w.line {
				t.Errorf("got %s rank %d line rank %d on %s, want %s rank %d line rank %d on %s",
					n.CaseID, n.Rank, n.LineRank, n.LineID, w.id, i+1, w.lineRank, w.line)
			}
			if n.Score.Total != w.total {
				t.Errorf("total: got %d, want %d", n.Score.Total, w.total)
			}
			var sum int64
			for _, p := range n.Score.Parts {
				sum += p.Points
				if want, ok := w.parts[p.Factor]; ok && (p.Input != want[0] || p.Points != want[1]) {
					t.Errorf("%s: got input %d points %d, want %d and %d", p.Factor, p.Input, p.Points, want[0], want[1])
				}
			}
			if sum != n.Score.Total || len(n.Score.Parts) != 9 {
				t.Errorf("parts: %d parts summing to %d, want 9 summing to %d", len(n.Score.Parts), sum, n.Score.Total)
			}
		})
	}
	if len(got.Unplaced) != 1 || got.Unplaced[0].CaseID != s.g.ID {
		t.Errorf("unplaced: got %+v, want only %s", got.Unplaced, s.g.ID)
	}

	t.Run("pages", func(t *testing.T) {
		first, err := e.svc.Priorities(ctx, staff, PriorityQuery{FiscalYear: 2026, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if first.Total != 3 || len(first.Needs) != 2 || first.NextCursor == "" {
			t.Fatalf("first page: total %d, %d needs, cursor %q; want 3, 2 and a cursor", first.Total, len(first.Needs), first.NextCursor)
		}
		second, err := e.svc.Priorities(ctx, staff, PriorityQuery{FiscalYear: 2026, Limit: 2, Cursor: first.NextCursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(second.Needs) != 1 || second.Needs[0].CaseID != s.c.ID || second.Needs[0].Rank != 3 || second.Needs[0].LineRank != 2 || second.NextCursor != "" {
			t.Errorf("second page: got %+v (cursor %q), want C ranked 3rd, 2nd on its line, last page", second.Needs, second.NextCursor)
		}
		if _, err := e.svc.Priorities(ctx, staff, PriorityQuery{FiscalYear: 2026, Limit: 101}); minsheng.ErrorCode(err) != minsheng.EINVALID {
			t.Errorf("limit 101: got %v, want invalid", err)
		}
	})
	t.Run("finance sees the whole district", func(t *testing.T) {
		all, err := e.svc.Priorities(ctx, finance, PriorityQuery{FiscalYear: 2026})
		if err != nil {
			t.Fatal(err)
		}
		// H has no line in its sub-district: unplaced, beside G.
		if len(all.Needs) != 3 || len(all.Unplaced) != 2 {
			t.Errorf("got %d needs and %d unplaced, want 3 and 2", len(all.Needs), len(all.Unplaced))
		}
	})
	t.Run("scope", func(t *testing.T) {
		if _, err := e.svc.Priorities(ctx, staff, PriorityQuery{FiscalYear: 2026, SubDistrict: otherSub}); minsheng.ErrorCode(err) != minsheng.EFORBIDDEN {
			t.Errorf("staff asking for another sub-district: got %v, want forbidden", err)
		}
		if _, err := e.svc.Priorities(ctx, cadre, PriorityQuery{FiscalYear: 2026}); minsheng.ErrorCode(err) != minsheng.EFORBIDDEN {
			t.Errorf("cadre: got %v, want forbidden", err)
		}
	})
}

// lineResult finds a line's outcome in a report.
func lineResult(t *testing.T, r RunReport, id string) RunLine {
	t.Helper()
	for _, l := range r.Lines {
		if l.LineID == id {
			return l
		}
	}
	t.Fatalf("line %s not in the run", id)
	return RunLine{}
}

func caseIDs(ds []allocation.Decision) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.CaseID)
	}
	return out
}

const runID = "7d9f8a4e-2c1b-4e59-9a7e-3f1c2b6d8e01"

// TestRepeatsLeaveOutMergedDuplicates: a duplicate whose filer and
// co-signers were copied to the kept case is one voice, not a repeat, even
// when a crash left it open before its merge was recorded (issue 8 item 8).
func TestRepeatsLeaveOutMergedDuplicates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.line(t, sub, itemToilet, "丰盛社区旱厕改造", 1_200_000)
	addr := cases.Location{Address: "丰盛胡同10号"}
	kept := e.addCase(t, cases.Case{ID: "kept", CatalogItem: itemToilet, Assessment: assess(100_000, 1, 0), FiledAt: daysAgo(40),
		Cosigners: []string{"dup-filer", "dup-cosigner"}, MergedFrom: []string{"dup-open", "dup-merged"}, Location: addr})
	e.addCase(t, cases.Case{ID: "dup-open", CatalogItem: itemToilet, Status: cases.StatusAccepted, FiledAt: daysAgo(30), Location: addr})
	e.addCase(t, cases.Case{ID: "dup-merged", CatalogItem: itemToilet, Status: cases.StatusMerged, MergedInto: "kept", FiledAt: daysAgo(20), Location: addr})
	e.addCase(t, cases.Case{ID: "earlier", CatalogItem: itemToilet, Status: cases.StatusClosed, FiledAt: daysAgo(100), Location: addr})
	e.addCase(t, cases.Case{ID: "rejected", CatalogItem: itemToilet, Status: cases.StatusRejected, FiledAt: daysAgo(10), Location: addr})

	got, err := e.svc.Priorities(ctx, staff, PriorityQuery{FiscalYear: 2026})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Needs) != 1 || got.Needs[0].CaseID != kept.ID {
		t.Fatalf("needs: got %+v, want only %s", got.Needs, kept.ID)
	}
	for _, p := range got.Needs[0].Score.Parts {
		switch p.Factor {
		case allocation.FactorRepeatComplaints:
			if p.Input != 1 {
				t.Errorf("repeats: got %d, want 1 (only the earlier closed case)", p.Input)
			}
		case allocation.FactorCoSigners:
			if p.Input != 2 {
				t.Errorf("co-signers: got %d, want 2", p.Input)
			}
		}
	}
}

func TestRunCommitted(t *testing.T) {
	e := newEnv(t)
	s := e.scenario(t)
	ctx := context.Background()
	req := RunRequest{RunID: runID, FiscalYear: 2026, SubDistrict: sub}

	got, err := e.svc.StartRun(ctx, staff, req)
	if err != nil {
		t.Fatal(err)
	}
	// L1 has 10,000 元 left after D: B (9,000) fits, C (5,000) does not and
	// waits; shortfall 5,000 − 1,000 = 4,000 元. L2 funds A and keeps 1,000
	// 元, but with it L1 would have 2,000 元, which funds nothing (C needs
	// 5,000): no adjustment is suggested (issue 8 item 8).
	l1, l2 := lineResult(t, got, s.l1.ID), lineResult(t, got, s.l2.ID)
	checks := []struct {
		name      string
		got, want any
	}{
		{"state", got.State, RunDone},
		{"L1 funded", caseIDs(l1.Funded), []string{s.b.ID}},
		{"L1 waitlisted", caseIDs(l1.Waitlisted), []string{s.c.ID}},
		{"L1 available/funded/remaining/shortfall", [4]int64{l1.AvailableFen, l1.FundedFen, l1.RemainingFen, l1.ShortfallFen}, [4]int64{1_000_000, 900_000, 100_000, 400_000}},
		{"L2 funded", caseIDs(l2.Funded), []string{s.a.ID}},
		{"L2 remaining", l2.RemainingFen, int64(100_000)},
		{"adjustments", got.Adjustments, []allocation.SuggestedAdjustment{}},
		// G's item has no line at all: its demand is next year's request too.
		{"next year", got.NextYear, []allocation.BudgetRequest{{ItemCode: itemWaste, Cases: 1, DemandFen: 300_000}, {ItemCode: itemToilet, Cases: 1, DemandFen: 500_000}}},
		{"totals", [4]int64{int64(got.FundedCases), got.FundedFen, int64(got.WaitlistedCases), got.ShortfallFen}, [4]int64{2, 1_100_000, 1, 400_000}},
		{"applied", got.Applied, 2},
		{"failed", len(got.Failed), 0},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, c.got, c.want)
		}
	}
	assertLine(t, e, s.l1.ID, 1_100_000, map[string]int64{s.d.ID: 200_000, s.b.ID: 900_000})
	assertLine(t, e, s.l2.ID, 200_000, map[string]int64{s.a.ID: 200_000})

	t.Run("the same run id returns the stored run and reserves nothing again", func(t *testing.T) {
		again, err := e.svc.StartRun(ctx, staff, req)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(again, got) {
			t.Errorf("repeat differs:\n got %+v\nwant %+v", again, got)
		}
		assertLine(t, e, s.l1.ID, 1_100_000, map[string]int64{s.d.ID: 200_000, s.b.ID: 900_000})
		assertLine(t, e, s.l2.ID, 200_000, map[string]int64{s.a.ID: 200_000})
		viaGet, err := e.svc.Run(ctx, finance, runID)
		if err != nil || !reflect.DeepEqual(viaGet, got) {
			t.Errorf("GET: got %+v (%v), want the stored run", viaGet, err)
		}
	})
	t.Run("the same run id with another body is a conflict", func(t *testing.T) {
		for _, other := range []RunRequest{
			{RunID: runID, FiscalYear: 2027, SubDistrict: sub},
			{RunID: runID, FiscalYear: 2026, SubDistrict: sub, DryRun: true},
		} {
			if _, err := e.svc.StartRun(ctx, staff, other); minsheng.ErrorCode(err) != minsheng.ECONFLICT {
				t.Errorf("%+v: got %v, want conflict", other, err)
			}
		}
	})
	t.Run("a new run finds nothing left to fund but C", func(t *testing.T) {
		next, err := e.svc.StartRun(ctx, staff, RunRequest{RunID: "0b7c6a52-1d3e-4f8a-9b2c-5e4d3c2b1a00", FiscalYear: 2026, SubDistrict: sub, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if next.FundedCases != 0 || next.WaitlistedCases != 1 {
			t.Errorf("got %d funded and %d waitlisted, want 0 and 1 (C)", next.FundedCases, next.WaitlistedCases)
		}
	})
	t.Run("another sub-district's run id reveals nothing of it", func(t *testing.T) {
		_, err := e.svc.StartRun(ctx, outside, RunRequest{RunID: runID, FiscalYear: 2026, SubDistrict: otherSub})
		if got := minsheng.ErrorCode(err); got != minsheng.ECONFLICT {
			t.Fatalf("got %q (%v), want %q", got, err, minsheng.ECONFLICT)
		}
		msg := minsheng.ErrorMessage(err)
		for _, secret := range []string{"新街口", sub, "2026", runID} {
			if strings.Contains(msg, secret) {
				t.Errorf("message %q reveals %q", msg, secret)
			}
		}
	})
	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name string
			err  error
			code string
		}{
			{"cadre", second(e.svc.StartRun(ctx, cadre, req)), minsheng.EFORBIDDEN},
			{"resident", second(e.svc.StartRun(ctx, citizen, req)), minsheng.EFORBIDDEN},
			{"staff of another sub-district", second(e.svc.StartRun(ctx, outside, req)), minsheng.EFORBIDDEN},
			{"other sub-district reads the run", second(e.svc.Run(ctx, outside, runID)), minsheng.EFORBIDDEN},
			{"other sub-district reuses the run id", second(e.svc.StartRun(ctx, outside, RunRequest{RunID: runID, FiscalYear: 2026, SubDistrict: otherSub})), minsheng.ECONFLICT},
			{"no run id", second(e.svc.StartRun(ctx, staff, RunRequest{FiscalYear: 2026, SubDistrict: sub})), minsheng.EINVALID},
			{"run id not a UUID", second(e.svc.StartRun(ctx, staff, RunRequest{RunID: "run-1", FiscalYear: 2026, SubDistrict: sub})), minsheng.EINVALID},
			{"unknown run", second(e.svc.Run(ctx, staff, "0b7c6a52-1d3e-4f8a-9b2c-5e4d3c2b1a99")), minsheng.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := minsheng.ErrorCode(tt.err); got != tt.code {
					t.Errorf("got %q (%v), want %q", got, tt.err, tt.code)
				}
			})
		}
	})
}

// assertLine checks a line's committed total and its live reservations.
func assertLine(t *testing.T, e *env, lineID string, committed int64, want map[string]int64) {
	t.Helper()
	l, err := e.ledger.FindLineByID(context.Background(), lineID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range l.Reservations {
		if r.Live() {
			if _, dup := got[r.CaseID]; dup {
				t.Errorf("%s: case %s reserved twice", l.ProjectName, r.CaseID)
			}
			got[r.CaseID] = r.AmountFen
		}
	}
	if l.CommittedFen != committed || l.AvailableFen != l.BudgetFen()-l.CommittedFen-l.SpentFen || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: committed %d available %d reservations %v, want committed %d and %v",
			l.ProjectName, l.CommittedFen, l.AvailableFen, got, committed, want)
	}
}

func TestRunResumesAfterCrash(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Six needs on one line of 100,000 fen: 30,000 + 25,000 + 20,000 +
	// 15,000 + 10,000 fund exactly (100,000), the 40,000 one waits.
	l := e.line(t, sub, itemToilet, "胡同整治", 100_000)
	amounts := []int64{30_000, 25_000, 20_000, 15_000, 10_000, 40_000}
	want := map[string]int64{}
	for i, amt := range amounts {
		// Older cases wait longer and rank higher, so the order is the list's.
		c := e.addCase(t, cases.Case{ID: "crash-" + string(rune('a'+i)), CatalogItem: itemToilet, Assessment: assess(amt, 1, 0),
			FiledAt: daysAgo(100 - 10*i), Location: cases.Location{Address: string(rune('a' + i))}})
		if amt != 40_000 {
			want[c.ID] = amt
		}
	}
	crash := errors.New("simulated crash")
	for k := 1; k <= 5; k++ {
		t.Run("crash after "+string(rune('0'+k))+" reservations", func(t *testing.T) {
			// Fresh line state per k: release what the previous k reserved.
			for id := range want {
				if err := e.ledger.UnlinkCase(ctx, finance, id); err != nil {
					t.Fatal(err)
				}
			}
			id := "1e5c2a3b-0000-4000-8000-00000000000" + string(rune('0'+k))
			req := RunRequest{RunID: id, FiscalYear: 2026, SubDistrict: sub}
			e.svc.faultAfterReserve = func(n int) error {
				if n == k {
					return crash
				}
				return nil
			}
			_, err := e.svc.StartRun(ctx, staff, req)
			e.svc.faultAfterReserve = nil
			if !errors.Is(err, crash) {
				t.Fatalf("first attempt: got %v, want the crash", err)
			}
			// The k-th reservation is on the line but not recorded in the run.
			stored, err := e.svc.Run(ctx, staff, id)
			if err != nil {
				t.Fatal(err)
			}
			if stored.State != RunApplying || stored.Applied != k-1 {
				t.Errorf("after the crash: state %q applied %d, want applying with %d recorded", stored.State, stored.Applied, k-1)
			}
			if cur, _ := e.ledger.FindLineByID(ctx, l.ID); cur.CommittedFen != sumFirst(amounts, k) {
				t.Errorf("after the crash: committed %d, want %d", cur.CommittedFen, sumFirst(amounts, k))
			}
			got, err := e.svc.StartRun(ctx, staff, req)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != RunDone || got.Applied != 5 || len(got.Failed) != 0 || got.FundedFen != 100_000 {
				t.Errorf("after resuming: state %q applied %d failed %v funded %d, want done, 5, none, 100000",
					got.State, got.Applied, got.Failed, got.FundedFen)
			}
			assertLine(t, e, l.ID, 100_000, want)
			cur, _ := e.ledger.FindLineByID(ctx, l.ID)
			if cur.AvailableFen != 0 {
				t.Errorf("available: got %d, want 0 (exhausted exactly)", cur.AvailableFen)
			}
		})
	}
	t.Run("one reserve audit entry per case and run", func(t *testing.T) {
		entries, _, err := e.ledger.Audit(ctx, finance, ledger.AuditFilter{LineID: l.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		reserves := 0
		for _, a := range entries {
			if a.Kind == ledger.AuditReserve {
				reserves++
			}
		}
		// Five runs, five reservations each; a resumed run never reserved twice.
		if reserves != 25 {
			t.Errorf("reserve entries: got %d, want 25", reserves)
		}
	})
}

func sumFirst(a []int64, k int) int64 {
	var s int64
	for _, v := range a[:k] {
		s += v
	}
	return s
}

func TestRunRecordsRefusalsAndFinishes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l := e.line(t, sub, itemToilet, "胡同整治", 100_000)
	for i, amt := range []int64{30_000, 20_000, 10_000} {
		e.addCase(t, cases.Case{ID: "refuse-" + string(rune('a'+i)), CatalogItem: itemToilet, Assessment: assess(amt, 1, 0),
			FiledAt: daysAgo(30 - i), Location: cases.Location{Address: string(rune('a' + i))}})
	}
	req := RunRequest{RunID: runID, FiscalYear: 2026, SubDistrict: sub}
	crash := errors.New("simulated crash")
	e.svc.faultAfterReserve = func(int) error { return crash }
	if _, err := e.svc.StartRun(ctx, staff, req); !errors.Is(err, crash) {
		t.Fatalf("got %v, want the crash", err)
	}
	e.svc.faultAfterReserve = nil
	// Cheapest per household first: c, b, a. While the run is interrupted
	// after c, the last one, a, is closed.
	if _, err := e.st.Collection("cases").UpdateOne(ctx, bson.M{"_id": "refuse-a"}, bson.M{"$set": bson.M{"status": cases.StatusClosed}}); err != nil {
		t.Fatal(err)
	}
	e.repairSummaries(t)
	got, err := e.svc.StartRun(ctx, staff, req)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != RunDone || got.Applied != 2 || len(got.Failed) != 1 || got.Failed[0].CaseID != "refuse-a" || got.Failed[0].Message == "" {
		t.Errorf("got state %q applied %d failed %+v, want done, 2 and refuse-a with a reason", got.State, got.Applied, got.Failed)
	}
	assertLine(t, e, l.ID, 30_000, map[string]int64{"refuse-c": 10_000, "refuse-b": 20_000})
	c, err := e.cases.FindByID(ctx, "refuse-b")
	if err != nil {
		t.Fatal(err)
	}
	if c.Budget == nil || c.Budget.LineID != l.ID || c.Budget.State != ledger.StateReserved || c.Budget.ReservedFen != 20_000 {
		t.Errorf("case copy: got %+v, want reserved 20000 on %s", c.Budget, l.ID)
	}
}
