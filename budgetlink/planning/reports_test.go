package planning

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"minsheng"
	"minsheng/budgetlink/allocation"
	"minsheng/budgetlink/reports"
	"minsheng/cases"
	"minsheng/cases/rates"
	"minsheng/internal/org"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func perMille(v int64) *int64 { return &v }

func TestFactorAllocation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Xinjiekou's 2025: one case answered in 2 h, closed, 满意; one answered
	// in 30 h and still in progress; one merged within the hour. The rates
	// the board and the reports show (package rates): response 2/3 = 667‰
	// (the merge was answered with a reason), resolution 1/1 and
	// satisfaction 1/1 (one 回访 answer), no 2025 budget (execution not
	// measured, left out): coefficient = 800 + 400 × (2×667 + 3×1000 +
	// 3×1000) / (1000 × 8) = 800 + 366.7 → 1167.
	// Every other sub-district had nothing to measure: the neutral 1000
	// (issue 8 item 8; it used to be the maximum 1200).
	e.addCase(t, cases.Case{ID: "f1", CatalogItem: itemToilet, Status: cases.StatusClosed, Verdict: cases.VerdictSatisfied,
		FiledAt: at("2025-03-01T02:00:00Z"), AcceptedAt: ptr(at("2025-03-01T04:00:00Z"))})
	e.addCase(t, cases.Case{ID: "f2", CatalogItem: itemToilet, Status: cases.StatusInProgress,
		FiledAt: at("2025-05-01T02:00:00Z"), AcceptedAt: ptr(at("2025-05-02T08:00:00Z"))})
	// Filed 2024-12-31 23:30 in Beijing: 2024, not counted.
	e.addCase(t, cases.Case{ID: "f3", CatalogItem: itemToilet, Status: cases.StatusClosed, FiledAt: at("2024-12-31T15:30:00Z")})
	// Merged into another: not a case of its own (workload), but answered.
	e.addCase(t, cases.Case{ID: "f4", CatalogItem: itemToilet, Status: cases.StatusMerged, FiledAt: at("2025-06-01T02:00:00Z")})

	// The 2020 census population, 1,106,214, times 100 fen: with all weight
	// on population every sub-district gets exactly 100 fen per resident.
	const pool = 110_621_400
	byPopulation := allocation.FactorWeights{PopulationBP: 10_000}
	rep, err := e.svc.AllocateByFactors(ctx, finance, FactorRequest{
		PoolFen: pool, FiscalYear: 2026, CompareWeights: &byPopulation,
		TaxGrowthPerMille: map[string]int64{sub: 300, otherSub: -50},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Shares) != 15 || len(rep.Inputs) != 15 || rep.BasisYear != 2025 {
		t.Fatalf("got %d shares, %d inputs, basis %d; want 15, 15, 2025", len(rep.Shares), len(rep.Inputs), rep.BasisYear)
	}
	if rep.Weights != allocation.DefaultFactorWeights() {
		t.Errorf("weights: got %+v, want the defaults", rep.Weights)
	}
	var total, compareTotal int64
	dir := org.Xicheng()
	for i, sh := range rep.Shares {
		var parts int64
		for _, p := range sh.Parts {
			parts += p.ShareFen
		}
		if parts != sh.TotalFen || len(sh.Parts) != 6 {
			t.Errorf("%s: %d parts summing to %d, want 6 summing to %d", sh.SubDistrictCode, len(sh.Parts), parts, sh.TotalFen)
		}
		total += sh.TotalFen
		sd, _ := dir.SubDistrict(sh.SubDistrictCode)
		b := rep.Compare.Shares[i]
		compareTotal += b.TotalFen
		if b.TotalFen != sd.Population*100 {
			t.Errorf("%s by population: got %d, want %d", sh.SubDistrictCode, b.TotalFen, sd.Population*100)
		}
		if row := rep.Comparison[i]; row.AFen != sh.TotalFen || row.BFen != b.TotalFen || row.DiffFen != b.TotalFen-sh.TotalFen {
			t.Errorf("%s comparison: got %+v", sh.SubDistrictCode, row)
		}
	}
	if total != pool || compareTotal != pool {
		t.Errorf("totals: got %d and %d, want both %d", total, compareTotal, pool)
	}
	for _, in := range rep.Inputs {
		sd, _ := dir.SubDistrict(in.Code)
		wantCases, wantPerf, wantGrowth := int64(0), int64(1000), int64(0)
		switch in.Code {
		case sub:
			wantCases, wantPerf, wantGrowth = 2, 1167, 300
		case otherSub:
			wantGrowth = -50
		}
		if in.Cases != wantCases || in.PerformancePerMille != wantPerf || in.TaxGrowthPerMille != wantGrowth ||
			in.Population != sd.Population || in.AreaM2 != sd.AreaKM2Milli*1000 || in.Communities != int64(len(sd.Communities)) {
			t.Errorf("%s inputs: got %+v", in.Code, in.SubDistrictFactors)
		}
		if in.Code == sub {
			want := [3]rates.Rate{rates.NewRate(2, 3), rates.NewRate(1, 1), rates.NewRate(1, 1)}
			if got := [3]rates.Rate{in.Response, in.Resolution, in.Satisfaction}; !reflect.DeepEqual(got, want) {
				t.Errorf("xinjiekou rates: got %+v, want %+v", got, want)
			}
			if in.ExecutionPerMille != nil {
				t.Errorf("execution: got %d, want null without a budget", *in.ExecutionPerMille)
			}
		}
	}
	for _, sh := range rep.Shares {
		tax := sh.Parts[5]
		switch sh.SubDistrictCode {
		case sub:
			// 300‰ is capped at the default 200‰, the only growth in the
			// district, so Xinjiekou takes the whole tax pool (10%).
			if tax.Factor != allocation.FactorTaxGrowth || tax.ValueInput != 200 || tax.ShareFen != pool/10 {
				t.Errorf("xinjiekou tax part: got %+v, want value 200 and %d fen", tax, pool/10)
			}
		default:
			if tax.ShareFen != 0 {
				t.Errorf("%s tax part: got %+v, want 0", sh.SubDistrictCode, tax)
			}
		}
	}

	t.Run("refusals", func(t *testing.T) {
		bad := allocation.DefaultFactorWeights()
		bad.AreaBP++
		tests := []struct {
			name  string
			err   error
			code  string
			field string
		}{
			{"sub-district staff", second(e.svc.AllocateByFactors(ctx, staff, FactorRequest{PoolFen: 1, FiscalYear: 2026})), minsheng.EFORBIDDEN, ""},
			{"cadre", second(e.svc.AllocateByFactors(ctx, cadre, FactorRequest{PoolFen: 1, FiscalYear: 2026})), minsheng.EFORBIDDEN, ""},
			{"weights not summing to 10000", second(e.svc.AllocateByFactors(ctx, finance, FactorRequest{PoolFen: 1, FiscalYear: 2026, Weights: &bad})), minsheng.EINVALID, "weights"},
			{"bad compare weights", second(e.svc.AllocateByFactors(ctx, finance, FactorRequest{PoolFen: 1, FiscalYear: 2026, CompareWeights: &bad})), minsheng.EINVALID, "compare_weights.weights"},
			{"negative pool", second(e.svc.AllocateByFactors(ctx, finance, FactorRequest{PoolFen: -1, FiscalYear: 2026})), minsheng.EINVALID, "pool_fen"},
			{"unknown sub-district", second(e.svc.AllocateByFactors(ctx, finance, FactorRequest{PoolFen: 1, FiscalYear: 2026, TaxGrowthPerMille: map[string]int64{"nowhere": 1}})), minsheng.EINVALID, "tax_growth_per_mille.nowhere"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := minsheng.ErrorCode(tt.err); got != tt.code {
					t.Errorf("got %q (%v), want %q", got, tt.err, tt.code)
				}
				if _, ok := minsheng.ErrorFields(tt.err)[tt.field]; tt.field != "" && !ok {
					t.Errorf("fields: got %v, want %q", minsheng.ErrorFields(tt.err), tt.field)
				}
			})
		}
	})
}

func TestRates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := time.Hour
	filed := func(s string) time.Time { return at(s) }
	add := func(id, community string, f time.Time, accepted time.Duration, status cases.Status, v cases.Verdict) {
		c := cases.Case{ID: id, Status: status, Verdict: v, FiledAt: f, Location: cases.Location{Community: community}}
		if accepted > 0 {
			c.AcceptedAt = ptr(f.Add(accepted))
		}
		e.addCase(t, c)
	}
	// Community 1: answered in 1 h, closed, 满意; answered in 25 h (late),
	// completed, 基本满意; answered in 2 h, in progress, not rated.
	add("r1", comm1, filed("2026-03-01T00:00:00Z"), 1*h, cases.StatusClosed, cases.VerdictSatisfied)
	add("r2", comm1, filed("2026-03-02T00:00:00Z"), 25*h, cases.StatusCompleted, cases.VerdictBasicallySatisfied)
	add("r3", comm1, filed("2026-04-01T00:00:00Z"), 2*h, cases.StatusInProgress, "")
	// Community 2: never answered (its 24 h are long over); filed 8 h ago
	// and not answered yet (not yet due: left out of the response rate);
	// answered in 3 h, closed, 不满意; a merged duplicate and a rejected
	// case, both answered with a reason within the hour (in the response
	// rate only).
	add("r4", comm2, filed("2026-05-01T00:00:00Z"), 0, cases.StatusSubmitted, "")
	add("r5", comm2, asOf.Add(-8*h), 0, cases.StatusSubmitted, "")
	add("r6", comm2, filed("2026-06-01T00:00:00Z"), 3*h, cases.StatusClosed, cases.VerdictDissatisfied)
	add("r7", comm2, filed("2026-06-02T00:00:00Z"), 1*h, cases.StatusMerged, "")
	add("r10", comm2, filed("2026-07-01T00:00:00Z"), 0, cases.StatusRejected, "")
	// Filed 2025-12-31 18:00 Beijing: before the period.
	add("r8", comm1, filed("2025-12-31T10:00:00Z"), 1*h, cases.StatusClosed, cases.VerdictSatisfied)
	// Another sub-district, out of staff's scope.
	e.addCase(t, cases.Case{ID: "r9", Status: cases.StatusSubmitted, FiledAt: filed("2026-06-01T00:00:00Z"),
		Location: cases.Location{SubDistrict: otherSub, Community: "desheng-andelunan"}})

	r := rates.NewRate
	type four struct{ response, resolution, satisfaction, completion rates.Rate }
	ratesOf := func(u reports.UnitRates) four { return four{u.Response, u.Resolution, u.Satisfaction, u.Completion} }
	// Sub-district: response 5/7 (r1 r3 r6 r7 r10 of r1 r2 r3 r4 r6 r7
	// r10; r5 not yet due), 解决率 2/3 and 满意率 2/3 (r1 r2 of the answered
	// r1 r2 r6), 办结率 3/4 (r1 r2 r6 of the accepted r1 r2 r3 r6).
	wantSub := four{r(5, 7), r(2, 3), r(2, 3), r(3, 4)}
	wantC1 := four{r(2, 3), r(2, 2), r(2, 2), r(2, 3)}
	wantC2 := four{r(3, 4), r(0, 1), r(0, 1), r(1, 1)}

	t.Run("sub-district staff", func(t *testing.T) {
		got, err := e.ledger.Rates(ctx, staff, reports.RatesQuery{From: "2026-01-01", To: "2026-12-01"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.SubDistricts) != 1 || len(got.Communities) != 2 {
			t.Fatalf("got %d sub-districts and %d communities, want 1 and 2", len(got.SubDistricts), len(got.Communities))
		}
		for _, c := range []struct {
			name      string
			got, want four
		}{
			{"total", ratesOf(got.Total), wantSub},
			{"sub-district", ratesOf(got.SubDistricts[0]), wantSub},
			{comm1, ratesOf(got.Communities[0]), wantC1},
			{comm2, ratesOf(got.Communities[1]), wantC2},
		} {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%s: got %+v, want %+v", c.name, c.got, c.want)
			}
		}
		if got.SubDistricts[0].Name != "新街口街道" || got.Communities[0].Community != comm1 || got.Communities[0].CommunityName == "" {
			t.Errorf("names: got %+v and %+v", got.SubDistricts[0], got.Communities[0])
		}
	})
	t.Run("cadre sees their community", func(t *testing.T) {
		got, err := e.ledger.Rates(ctx, cadre, reports.RatesQuery{From: "2026-01-01", To: "2026-12-01"})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ratesOf(got.Total), wantC1) || len(got.Communities) != 1 {
			t.Errorf("got %+v with %d communities, want community 1's rates only", ratesOf(got.Total), len(got.Communities))
		}
	})
	t.Run("finance sees the district", func(t *testing.T) {
		got, err := e.ledger.Rates(ctx, finance, reports.RatesQuery{From: "2026-01-01", To: "2026-12-01"})
		if err != nil {
			t.Fatal(err)
		}
		// r9 was never answered: one more in the response denominator.
		if len(got.SubDistricts) != 15 || !reflect.DeepEqual(got.Total.Response, r(5, 8)) {
			t.Errorf("got %d sub-districts, response %+v; want all 15 and 5/8", len(got.SubDistricts), got.Total.Response)
		}
		// A sub-district without cases is listed with "—", as on the board.
		for _, u := range got.SubDistricts {
			if u.SubDistrict == "jinrongjie" && (u.Response.Text != "—" || u.Satisfaction.Text != "—") {
				t.Errorf("jinrongjie: got %+v, want —", u.Set)
			}
		}
	})
	t.Run("nothing to measure is null", func(t *testing.T) {
		got, err := e.ledger.Rates(ctx, staff, reports.RatesQuery{From: "2020-01-01", To: "2020-02-01"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Total.Satisfaction.PerMille != nil || got.Total.Satisfaction.Den != 0 || got.Total.Satisfaction.Text != "—" {
			t.Errorf("got %+v, want 0/0 with per_mille null and the text —", got.Total.Satisfaction)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			err  error
			code string
		}{
			{"resident", second(e.ledger.Rates(ctx, citizen, reports.RatesQuery{})), minsheng.EFORBIDDEN},
			{"other sub-district", second(e.ledger.Rates(ctx, outside, reports.RatesQuery{SubDistrict: sub})), minsheng.EFORBIDDEN},
			{"bad date", second(e.ledger.Rates(ctx, staff, reports.RatesQuery{From: "yesterday"})), minsheng.EINVALID},
			{"empty period", second(e.ledger.Rates(ctx, staff, reports.RatesQuery{From: "2026-02-01", To: "2026-01-01"})), minsheng.EINVALID},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if got := minsheng.ErrorCode(tt.err); got != tt.code {
					t.Errorf("got %q (%v), want %q", got, tt.err, tt.code)
				}
			})
		}
	})
}

func TestCompletion(t *testing.T) {
	e := newEnv(t)
	s := e.scenario(t)
	ctx := context.Background()
	if _, err := e.svc.StartRun(ctx, staff, RunRequest{RunID: runID, FiscalYear: 2026, SubDistrict: sub}); err != nil {
		t.Fatal(err)
	}
	// D is finished for 1,500 元 of its 2,000 and closed; B, funded by the
	// run, was due 3½ days ago and has not moved (stalled); A is due later.
	// as its completion does (the ledger's one spend path)
	if _, _, err := e.ledger.ApplyEffect(ctx, finance, &cases.Case{ID: s.d.ID}, cases.MoneyEffect{ID: "TR-000000000001-test", Kind: cases.EffectSpend, ActualCostFen: 150_000}); err != nil {
		t.Fatal(err)
	}
	set := func(id string, fields map[string]any) {
		if _, err := e.st.Collection("cases").UpdateOne(ctx, map[string]any{"_id": id}, map[string]any{"$set": fields}); err != nil {
			t.Fatal(err)
		}
		e.repairSummaries(t)
	}
	set(s.d.ID, map[string]any{"status": cases.StatusClosed})
	set(s.b.ID, map[string]any{"completion_due_at": asOf.Add(-84 * time.Hour)})
	set(s.a.ID, map[string]any{"completion_due_at": asOf.Add(24 * time.Hour)})

	got, err := e.ledger.Completion(ctx, staff, reports.CompletionQuery{FiscalYear: 2026})
	if err != nil {
		t.Fatal(err)
	}
	var l1 reports.LineCompletion
	for _, l := range got.Lines {
		if l.LineID == s.l1.ID {
			l1 = l
		}
	}
	c := l1.Completion
	checks := []struct {
		name      string
		got, want any
	}{
		{"L1 money", [4]int64{l1.BudgetFen, l1.CommittedFen, l1.SpentFen, l1.AvailableFen}, [4]int64{1_200_000, 900_000, 150_000, 150_000}},
		{"L1 execution", l1.Execution, rates.NewRate(150_000, 1_200_000)},
		{"L1 funded", c.Funded, int64(2)},
		{"L1 by status", c.ByStatus, []allocation.StatusCount{{Status: "assessed", Cases: 1}, {Status: "closed", Cases: 1, SpentFen: 150_000}}},
		{"L1 completion", c.CompletionRate, rates.NewRate(1, 2)},
		{"L1 cost per resolved", c.CostPerResolvedFen, int64(150_000)},
		{"L1 stalled", len(c.Stalled), 1},
		{"sub-districts", len(got.SubDistricts), 1},
		{"sub-district funded", got.SubDistricts[0].Completion.Funded, int64(3)},
		{"sub-district spent/committed", [2]int64{got.SubDistricts[0].SpentFen, got.SubDistricts[0].CommittedFen}, [2]int64{150_000, 1_100_000}},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s: got %+v, want %+v", ch.name, ch.got, ch.want)
		}
	}
	if len(c.Stalled) == 1 && (c.Stalled[0].CaseID != s.b.ID || c.Stalled[0].DaysOverdue != 3) {
		t.Errorf("stalled: got %+v, want B 3 days overdue", c.Stalled[0])
	}
	// Issue 23 item 7: the stalled list names the case to people — its
	// number, title, community's name and the money its line holds.
	if len(c.Stalled) == 1 {
		st, b := c.Stalled[0], s.b
		comm, _ := org.Xicheng().Community(b.Location.Community)
		if st.Number == "" || st.Number != b.Number || st.Title != b.Title || st.CommunityName != comm.Name || st.CommunityName == "" || st.FundedFen <= 0 {
			t.Errorf("stalled names: got %+v, want number %q, title %q, community %q and its money", st, b.Number, b.Title, comm.Name)
		}
	}
	if _, err := e.ledger.Completion(ctx, cadre, reports.CompletionQuery{FiscalYear: 2026}); minsheng.ErrorCode(err) != minsheng.EFORBIDDEN {
		t.Errorf("cadre: got %v, want forbidden", err)
	}
	if _, err := e.ledger.Completion(ctx, outside, reports.CompletionQuery{FiscalYear: 2026, SubDistrict: sub}); minsheng.ErrorCode(err) != minsheng.EFORBIDDEN {
		t.Errorf("other sub-district: got %v, want forbidden", err)
	}
}

// TestRatesFirstSatisfaction pins issue 8 item 8: every verdict is kept on
// the case, and the rates report gives the final 满意率 beside the
// first-time 一次满意率.
func TestRatesFirstSatisfaction(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	filed := at("2026-03-01T00:00:00Z")
	rec := func(v cases.Verdict, day int) cases.VerdictRecord {
		return cases.VerdictRecord{Verdict: v, At: filed.Add(time.Duration(day) * 24 * time.Hour)}
	}
	for _, c := range []struct {
		id       string
		verdict  cases.Verdict
		verdicts []cases.VerdictRecord
	}{
		// 不满意, reworked, then 满意: satisfied in the end, not the first time.
		{"v1", cases.VerdictSatisfied, []cases.VerdictRecord{rec(cases.VerdictDissatisfied, 10), rec(cases.VerdictSatisfied, 20)}},
		{"v2", cases.VerdictBasicallySatisfied, []cases.VerdictRecord{rec(cases.VerdictBasicallySatisfied, 10)}},
		// Rated before every verdict was kept: its one verdict is both.
		{"v3", cases.VerdictSatisfied, nil},
		{"v4", cases.VerdictDissatisfied, []cases.VerdictRecord{rec(cases.VerdictDissatisfied, 10)}},
		{"v5", "", nil}, // not rated
	} {
		e.addCase(t, cases.Case{ID: c.id, Status: cases.StatusClosed, Verdict: c.verdict, Verdicts: c.verdicts,
			FiledAt: filed, AcceptedAt: ptr(filed.Add(time.Hour))})
	}
	got, err := e.ledger.Rates(ctx, staff, reports.RatesQuery{From: "2026-01-01", To: "2026-12-01"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want rates.Rate
	}{
		{"满意率 (final)", got.Total.Satisfaction, rates.NewRate(3, 4)},
		{"一次满意率 (first time)", got.Total.FirstSatisfaction, rates.NewRate(2, 4)},
		{"sub-district 一次满意率", got.SubDistricts[0].FirstSatisfaction, rates.NewRate(2, 4)},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, c.got, c.want)
		}
	}
}

// TestFactorAllocationWithoutBasisData pins issue 23 item 6: with no case
// in the basis year, case volume and performance (and tax growth when
// finance gives none) have no data; the report says so and allocates
// nothing until finance chooses to exclude them (weights renormalised)
// or to count the allocation year itself.
func TestFactorAllocationWithoutBasisData(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// 2026 only: three cases in Xinjiekou, none in 2025.
	for i, d := range []string{"2026-02-01T02:00:00Z", "2026-03-01T02:00:00Z", "2026-04-01T02:00:00Z"} {
		e.addCase(t, cases.Case{ID: "n" + string(rune('0'+i)), CatalogItem: itemToilet, Status: cases.StatusClosed, Verdict: cases.VerdictSatisfied,
			FiledAt: at(d), AcceptedAt: ptr(at(d).Add(time.Hour))})
	}
	const pool = 100_000_001
	rep, err := e.svc.AllocateByFactors(ctx, finance, FactorRequest{PoolFen: pool, FiscalYear: 2026})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.NeedsChoice || len(rep.Shares) != 0 || rep.BasisYear != 2025 ||
		!reflect.DeepEqual(rep.Missing, []string{allocation.FactorCases, allocation.FactorPerformance, allocation.FactorTaxGrowth}) {
		t.Fatalf("got needs_choice %v, %d shares, basis %d, missing %v; want a question about three factors", rep.NeedsChoice, len(rep.Shares), rep.BasisYear, rep.Missing)
	}
	if len(rep.Factors) != 6 || rep.Factors[2].Label != "诉求案件量" || rep.Factors[2].HasData || rep.Factors[2].Year != 2025 || !rep.Factors[0].HasData {
		t.Errorf("factors: %+v", rep.Factors)
	}
	sum := func(r FactorReport) (total int64) {
		for _, sh := range r.Shares {
			total += sh.TotalFen
		}
		return total
	}

	t.Run("exclude and renormalise", func(t *testing.T) {
		rep, err := e.svc.AllocateByFactors(ctx, finance, FactorRequest{PoolFen: pool, FiscalYear: 2026, Missing: MissingExclude})
		if err != nil {
			t.Fatal(err)
		}
		// 3000:1500:1500 of the remaining 6000 bp.
		w := rep.Weights
		if w.PopulationBP != 5_000 || w.AreaBP != 2_500 || w.CommunitiesBP != 2_500 || w.CasesBP+w.PerformanceBP+w.TaxGrowthBP != 0 {
			t.Errorf("weights used: %+v", w)
		}
		if rep.NeedsChoice || len(rep.Shares) != 15 || sum(rep) != pool || rep.Factors[2].UsedBP != 0 || rep.Factors[2].WeightBP != 2_000 {
			t.Errorf("got %d shares summing to %d, factors %+v; want 15 summing to the pool, cases weighed 0", len(rep.Shares), sum(rep), rep.Factors)
		}
		for _, sh := range rep.Shares {
			if sh.Parts[2].ShareFen != 0 {
				t.Errorf("%s: case part %d, want 0", sh.SubDistrictCode, sh.Parts[2].ShareFen)
			}
		}
	})
	t.Run("the current year", func(t *testing.T) {
		_, err := e.svc.AllocateByFactors(ctx, finance, FactorRequest{PoolFen: pool, FiscalYear: 2026, Missing: MissingCurrentYear})
		if minsheng.ErrorCode(err) != minsheng.EINVALID || !strings.Contains(minsheng.ErrorMessage(err), "税源增长激励") {
			t.Errorf("no tax figures in any year: %v, want EINVALID naming 税源增长激励", err)
		}
		rep, err := e.svc.AllocateByFactors(ctx, finance, FactorRequest{PoolFen: pool, FiscalYear: 2026, Missing: MissingCurrentYear,
			TaxGrowthPerMille: map[string]int64{otherSub: 100}})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Shares) != 15 || sum(rep) != pool || rep.Factors[2].Year != 2026 || rep.Weights != allocation.DefaultFactorWeights() {
			t.Errorf("got %d shares summing to %d, factors %+v", len(rep.Shares), sum(rep), rep.Factors)
		}
		for _, sh := range rep.Shares {
			// Xinjiekou holds every 2026 case: the whole case-volume pool (20 %).
			if want := map[bool]int64{true: pool / 5, false: 0}[sh.SubDistrictCode == sub]; sh.Parts[2].ShareFen != want {
				t.Errorf("%s: case part %d, want %d", sh.SubDistrictCode, sh.Parts[2].ShareFen, want)
			}
		}
	})
	t.Run("a bad choice", func(t *testing.T) {
		_, err := e.svc.AllocateByFactors(ctx, finance, FactorRequest{PoolFen: pool, FiscalYear: 2026, Missing: "equal"})
		if minsheng.ErrorFields(err)["missing"] == "" {
			t.Errorf("got %v, want the missing field refused", err)
		}
	})
}
