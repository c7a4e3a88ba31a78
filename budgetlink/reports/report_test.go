package reports

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"minsheng"
	"minsheng/budgetlink/ledger"
	"minsheng/cases/rates"
)

func TestPermille(t *testing.T) {
	tests := []struct{ n, d, permille, percent int64 }{
		{649, 2772, 234, 23},
		{1970, 2772, 711, 71},
		{1, 3, 333, 33},
		{2, 3, 667, 67},
		{1, 0, 0, 0},
		{5, 5, 1000, 100},
	}
	for _, tt := range tests {
		if got := rates.PerMille(tt.n, tt.d); got != tt.permille {
			t.Errorf("rates.PerMille(%d, %d) = %d, want %d", tt.n, tt.d, got, tt.permille)
		}
		if got := Percent(tt.n, tt.d); got != tt.percent {
			t.Errorf("Percent(%d, %d) = %d, want %d", tt.n, tt.d, got, tt.percent)
		}
	}
}

// TestAdjustmentReportReformFigures seeds the article's 2021 figures — 2,772
// approved sub-district projects, 649 executed exactly as approved, 1,970
// adjusted — across the 15 sub-districts and checks the report computes
// them from the data. 649/2772 is 23% (234‰) as the article says;
// 1970/2772 is 71% (711‰): the article's "72%" does not follow from its own
// counts, and the report prints what the data says.
func TestAdjustmentReportReformFigures(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	cat, err := s.Catalog(2026)
	if err != nil {
		t.Fatal(err)
	}
	subs := s.Org().District().SubDistricts
	const total, exact, adjusted = 2772, 649, 1970
	docs := make([]any, 0, total)
	for i := 0; i < total; i++ {
		item := cat.Items[i%len(cat.Items)]
		in := ledger.NewLine{FiscalYear: 2026, SubDistrict: subs[i%len(subs)].Code, ItemCode: item.Code, ProjectName: fmt.Sprintf("项目 %04d", i), ApprovedFen: int64(100_000 + i*10)}
		// Written straight to the store, as CreateLine would, with the
		// totals the entries give, so 2,772 lines seed in one insert.
		l := &ledger.BudgetLine{ID: fmt.Sprintf("BL-seed-%04d", i), FiscalYear: in.FiscalYear, SubDistrict: in.SubDistrict,
			ItemCode: item.Code, ItemName: item.Name, Area: item.Area, ProjectName: in.ProjectName, ApprovedFen: in.ApprovedFen,
			CreatedBy: "seed", CreatedAt: s.Now(), UpdatedAt: s.Now(),
			Reservations: []ledger.Reservation{}, Adjustments: []ledger.LineDelta{}}
		switch {
		case i < exact: // spent exactly the approved amount, never adjusted
			l.Reservations = []ledger.Reservation{{CaseID: fmt.Sprintf("seed-%d", i), AmountFen: in.ApprovedFen, SpentFen: in.ApprovedFen, State: ledger.StateSpent}}
		case i < exact+adjusted:
			delta := int64(5_000)
			if i%2 == 0 {
				delta = -5_000
			}
			l.Adjustments = []ledger.LineDelta{{AdjustmentID: fmt.Sprintf("ADJ-seed-%d", i), Kind: ledger.AdjustIncrease, DeltaFen: delta}}
			l.Reservations = []ledger.Reservation{{CaseID: fmt.Sprintf("seed-%d", i), AmountFen: 50_000, SpentFen: 50_000, State: ledger.StateSpent}}
		default: // neither: half spent
			l.Reservations = []ledger.Reservation{{CaseID: fmt.Sprintf("seed-%d", i), AmountFen: in.ApprovedFen / 2, SpentFen: in.ApprovedFen / 2, State: ledger.StateSpent}}
		}
		for _, d := range l.Adjustments {
			l.AdjustedFen += d.DeltaFen
			l.AdjustmentCount++
		}
		for _, r := range l.Reservations {
			l.SpentFen += r.SpentFen
		}
		l.AvailableFen = l.ApprovedFen + l.AdjustedFen - l.SpentFen
		docs = append(docs, l)
	}
	if err := s.st.Collection("budget_lines").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}

	rep, err := s.AdjustmentReport(ctx, finance, 2026, "")
	if err != nil {
		t.Fatal(err)
	}
	tot := rep.Total
	if tot.LineCount != total || tot.ExactCount != exact || tot.AdjustedCount != adjusted || tot.OtherCount != total-exact-adjusted {
		t.Errorf("counts = %d lines, %d exact, %d adjusted, %d other; want %d, %d, %d, %d",
			tot.LineCount, tot.ExactCount, tot.AdjustedCount, tot.OtherCount, total, exact, adjusted, total-exact-adjusted)
	}
	if tot.ExactPercent != 23 || tot.ExactPermille != 234 {
		t.Errorf("exact = %d%% (%d‰), want 23%% (234‰)", tot.ExactPercent, tot.ExactPermille)
	}
	if tot.AdjustedPercent != 71 || tot.AdjustedPermille != 711 {
		t.Errorf("adjusted = %d%% (%d‰), want 71%% (711‰)", tot.AdjustedPercent, tot.AdjustedPermille)
	}
	if len(rep.SubDistricts) != 15 {
		t.Errorf("sub-districts = %d, want 15", len(rep.SubDistricts))
	}
	var sum int64
	for _, sd := range rep.SubDistricts {
		sum += sd.LineCount
		if sd.Lines != nil {
			t.Errorf("adjustment report carries line detail for %s", sd.Code)
		}
	}
	if sum != total {
		t.Errorf("sub-district line counts sum to %d, want %d", sum, total)
	}
	want := "2026 年度批复预算项目 2772 个，其中按照批复预算 100% 执行 649 个，占 23%（234‰）；进行了项目调整 1970 个，占 71%（711‰）"
	if !strings.HasPrefix(rep.Summary, want) {
		t.Errorf("summary = %q, want it to start %q", rep.Summary, want)
	}
	t.Logf("%s", rep.Summary)

	t.Run("sub-district staff see their own", func(t *testing.T) {
		own, err := s.AdjustmentReport(ctx, xjkStaff, 2026, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(own.SubDistricts) != 1 || own.SubDistricts[0].Code != "xinjiekou" || own.Total.LineCount != own.SubDistricts[0].LineCount {
			t.Errorf("xinjiekou staff report = %+v", own.SubDistricts)
		}
		_, err = s.AdjustmentReport(ctx, xjkStaff, 2026, "desheng")
		wantCode(t, err, minsheng.EFORBIDDEN)
		_, err = s.ExecutionReport(ctx, cadre, 2026, "")
		wantCode(t, err, minsheng.EFORBIDDEN)
		_, err = s.ExecutionReport(ctx, finance, 0, "")
		wantCode(t, err, minsheng.EINVALID)
	})
}

// TestReportsThroughTheLedger drives a scaled-down year through the real
// verbs — reservations spent in full, 调增, 调剂 — and checks the outcome of
// every line and the execution rates.
func TestReportsThroughTheLedger(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	// xinjiekou: 3 exact, 6 adjusted, 1 other. desheng: 2 exact, 8 adjusted (4 transfers).
	var xjk, ds []*ledger.BudgetLine
	for i := 0; i < 10; i++ {
		xjk = append(xjk, mustLine(t, s, "xinjiekou", bulkyItem, fmt.Sprintf("大件垃圾 %d", i), 100_000))
		ds = append(ds, mustLine(t, s, "desheng", bulkyItem, fmt.Sprintf("大件垃圾 %d", i), 100_000))
	}
	spendAll := func(l *ledger.BudgetLine, caseID string, fen int64) {
		t.Helper()
		if _, err := s.Reserve(ctx, finance, l.ID, ledger.CaseRef{ID: caseID, SubDistrict: l.SubDistrict, ItemCode: l.ItemCode}, fen); err != nil {
			t.Fatal(err)
		}
		if _, err := complete(ctx, s, finance, caseID, fen); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		spendAll(xjk[i], fmt.Sprintf("x%d", i), 100_000)
	}
	for i := 3; i < 9; i++ {
		if _, err := s.Adjust(ctx, finance, ledger.AdjustmentRequest{Kind: ledger.AdjustIncrease, LineID: xjk[i].ID, AmountFen: 20_000, Reason: "需求增加"}); err != nil {
			t.Fatal(err)
		}
	}
	spendAll(xjk[9], "x9", 18_000) // other: 180‰ executed
	for i := 0; i < 2; i++ {
		spendAll(ds[i], fmt.Sprintf("d%d", i), 100_000)
	}
	for i := 2; i < 10; i += 2 {
		if _, err := s.Adjust(ctx, finance, ledger.AdjustmentRequest{Kind: ledger.AdjustTransfer, LineID: ds[i].ID, ToLineID: ds[i+1].ID, AmountFen: 30_000, Reason: "调剂"}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := s.AdjustmentReport(ctx, finance, 2026, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][3]int64{}
	for _, sd := range rep.SubDistricts {
		got[sd.Code] = [3]int64{sd.ExactCount, sd.AdjustedCount, sd.OtherCount}
	}
	if got["xinjiekou"] != [3]int64{3, 6, 1} || got["desheng"] != [3]int64{2, 8, 0} {
		t.Errorf("exact/adjusted/other = %v, want xinjiekou [3 6 1], desheng [2 8 0]", got)
	}
	if tot := rep.Total; tot.ExactPercent != 25 || tot.AdjustedPercent != 70 || tot.ExactPermille != 250 || tot.AdjustedPermille != 700 {
		t.Errorf("total = %d%%/%d%% (%d‰/%d‰), want 25%%/70%% (250‰/700‰)", tot.ExactPercent, tot.AdjustedPercent, tot.ExactPermille, tot.AdjustedPermille)
	}
	if k := rep.ByKind[ledger.AdjustIncrease]; k.Count != 6 || k.AmountFen != 120_000 {
		t.Errorf("increases = %+v, want 6 for 120000 fen", k)
	}
	if k := rep.ByKind[ledger.AdjustTransfer]; k.Count != 4 || k.AmountFen != 120_000 {
		t.Errorf("transfers = %+v, want 4 for 120000 fen", k)
	}

	exec, err := s.ExecutionReport(ctx, xjkStaff, 2026, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, le := range exec.SubDistricts[0].Lines {
		if le.LineID == xjk[9].ID && (le.ExecutionPermille != 180 || le.Outcome != OutcomeOther) {
			t.Errorf("line 9 = %+v, want 180‰ other", le)
		}
		if le.LineID == xjk[0].ID && (le.ExecutionPermille != 1000 || le.Outcome != OutcomeExact) {
			t.Errorf("line 0 = %+v, want 1000‰ exact", le)
		}
	}
	// 318,000 spent of 1,120,000 budget.
	if sd := exec.SubDistricts[0]; sd.SpentFen != 318_000 || sd.BudgetFen != 1_120_000 || sd.ExecutionPermille != 284 {
		t.Errorf("xinjiekou spent/budget = %d/%d (%d‰), want 318000/1120000 (284‰)", sd.SpentFen, sd.BudgetFen, sd.ExecutionPermille)
	}
}

// TestReportYears pins issue 8 item 11: a report year out of range
// (year=-2147483649 answered 200 with an empty report) is EINVALID.
func TestReportYears(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	for _, year := range []int{-2147483649, -1, 1999, 2101, 1 << 40} {
		t.Run(fmt.Sprint(year), func(t *testing.T) {
			for name, call := range map[string]func() error{
				"execution":   func() error { _, err := s.ExecutionReport(ctx, finance, year, ""); return err },
				"adjustments": func() error { _, err := s.AdjustmentReport(ctx, finance, year, ""); return err },
				"consistency": func() error { _, err := s.ConsistencyReport(ctx, finance, year, 0); return err },
			} {
				if got := minsheng.ErrorCode(call()); got != minsheng.EINVALID {
					t.Errorf("%s: got %q, want %q", name, got, minsheng.EINVALID)
				}
			}
		})
	}
	t.Run("2026 is fine", func(t *testing.T) {
		if _, err := s.ExecutionReport(ctx, finance, 2026, ""); err != nil {
			t.Errorf("got %v, want a report", err)
		}
	})
}
