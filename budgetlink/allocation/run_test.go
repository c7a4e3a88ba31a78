package allocation

import (
	"encoding/json"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"
)

// safetyOnly scores a need 1000 × its safety level and nothing else, so a
// test can set the priority order directly.
var safetyOnly = Weights{FiscalYear: 2026, SafetyPerLevel: 1000}

func TestRun(t *testing.T) {
	filed := asOf.Add(-48 * time.Hour)
	lines := []Line{
		{ID: "L1", SubDistrictCode: "SD1", ItemCode: "I001", Area: "城市管理", AvailableFen: 100_000},
		{ID: "L2", SubDistrictCode: "SD1", ItemCode: "I003", Area: "城市管理", AvailableFen: 30_000},
		{ID: "L3", SubDistrictCode: "SD1", ItemCode: "I004", Area: "平安建设", AvailableFen: 50_000},
		{ID: "L4", SubDistrictCode: "SD2", ItemCode: "I001", Area: "城市管理", AvailableFen: 1_000_000},
		{ID: "L5", SubDistrictCode: "SD1", ItemCode: "I002", Area: "平安建设", AvailableFen: 0},
	}
	needs := []Need{
		// L1, 100000 fen, in priority order n1 (3000), n2 (2000), n3 (1000), n4 (0):
		{CaseID: "n4", LineID: "L1", SafetyLevel: 0, EstimateFen: 1, FiledAt: filed},
		{CaseID: "n2", LineID: "L1", SafetyLevel: 2, EstimateFen: 50_000, FiledAt: filed},
		{CaseID: "n1", LineID: "L1", SafetyLevel: 3, EstimateFen: 60_000, FiledAt: filed},
		{CaseID: "n3", LineID: "L1", SafetyLevel: 1, EstimateFen: 40_000, FiledAt: filed},
		// L2: one need, 20000 fen left and nothing waitlisted, so L2 can give.
		{CaseID: "n6", LineID: "L2", SafetyLevel: 1, EstimateFen: 10_000, FiledAt: filed},
		// L5 has no money: its need waits.
		{CaseID: "n7", LineID: "L5", SafetyLevel: 3, EstimateFen: 7_000, FiledAt: filed},
	}
	got, err := Run(lines, needs, safetyOnly, asOf)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		Lines: []LineResult{
			{
				// n1 60000 fits (40000 left); n2 50000 does not and is skipped;
				// n3 40000 fits exactly (0 left); n4 1 fen no longer fits.
				LineID:        "L1",
				Funded:        []Decision{{"n1", 60_000, 3000, 1}, {"n3", 40_000, 1000, 3}},
				Waitlisted:    []Decision{{"n2", 50_000, 2000, 2}, {"n4", 1, 0, 4}},
				AvailableFen:  100_000,
				FundedFen:     100_000,
				RemainingFen:  0,
				WaitlistedFen: 50_001, // 50000 + 1
				ShortfallFen:  50_001, // 50001 − 0 left
			},
			{
				LineID: "L2", Funded: []Decision{{"n6", 10_000, 1000, 1}}, Waitlisted: []Decision{},
				AvailableFen: 30_000, FundedFen: 10_000, RemainingFen: 20_000,
			},
			{LineID: "L3", Funded: []Decision{}, Waitlisted: []Decision{}, AvailableFen: 50_000, RemainingFen: 50_000},
			{LineID: "L4", Funded: []Decision{}, Waitlisted: []Decision{}, AvailableFen: 1_000_000, RemainingFen: 1_000_000},
			{
				LineID: "L5", Funded: []Decision{}, Waitlisted: []Decision{{"n7", 7_000, 3000, 1}},
				WaitlistedFen: 7_000, ShortfallFen: 7_000,
			},
		},
		// Within SD1 (L4 is another sub-district's money and is never used):
		// donors L3 (50000) then L2 (20000), largest first; recipients L5
		// (top waitlisted score 3000) then L1 (2000).
		// Round 1, own area only:
		//   L5 (平安建设) waits for n7 7000: L3 gives 7000 (43000 left).
		//   L1 (城市管理) has 0 left; with L2's 20000 n2 (50000) does not
		//   fit but n4 (1 fen) does: L2 gives 1 (19999 left).
		// Round 2, everything left, own area first:
		//   L1 waits for n2 50000: L2's 19999 + L3's 43000 fund it, so L2
		//   gives 19999 and L3 30001 (12999 left over, funding nothing).
		Adjustments: []SuggestedAdjustment{
			{FromLineID: "L3", ToLineID: "L5", AmountFen: 7_000, Reason: "同领域结余调剂，可资助候补需求 1 件", FundsCaseIDs: []string{"n7"}},
			{FromLineID: "L2", ToLineID: "L1", AmountFen: 20_000, Reason: "同领域结余调剂，可资助候补需求 2 件", FundsCaseIDs: []string{"n4", "n2"}},
			{FromLineID: "L3", ToLineID: "L1", AmountFen: 30_001, Reason: "跨领域结余调剂，可资助候补需求 1 件", FundsCaseIDs: []string{"n2"}},
		},
		NextYear: []BudgetRequest{
			{ItemCode: "I001", Cases: 2, DemandFen: 50_001},
			{ItemCode: "I002", Cases: 1, DemandFen: 7_000},
		},
	}
	for i := range want.Lines {
		t.Run(want.Lines[i].LineID, func(t *testing.T) {
			if !reflect.DeepEqual(got.Lines[i], want.Lines[i]) {
				t.Errorf("got  %+v\nwant %+v", got.Lines[i], want.Lines[i])
			}
		})
	}
	t.Run("adjustments", func(t *testing.T) {
		if !reflect.DeepEqual(got.Adjustments, want.Adjustments) {
			t.Errorf("got  %+v\nwant %+v", got.Adjustments, want.Adjustments)
		}
	})
	t.Run("next year", func(t *testing.T) {
		if !reflect.DeepEqual(got.NextYear, want.NextYear) {
			t.Errorf("got  %+v\nwant %+v", got.NextYear, want.NextYear)
		}
	})
	t.Run("appending to Funded keeps Waitlisted", func(t *testing.T) {
		l1 := got.Lines[0]
		_ = append(l1.Funded, Decision{CaseID: "x"})
		if l1.Waitlisted[0].CaseID != "n2" {
			t.Errorf("got Waitlisted[0] %q, want n2", l1.Waitlisted[0].CaseID)
		}
	})
}

func TestRunInvalid(t *testing.T) {
	filed := asOf.Add(-time.Hour)
	okLines := []Line{{ID: "L1", SubDistrictCode: "SD1", ItemCode: "I1", AvailableFen: 10}}
	okNeed := Need{CaseID: "c1", LineID: "L1", EstimateFen: 5, FiledAt: filed}
	tests := []struct {
		name      string
		lines     []Line
		needs     []Need
		w         Weights
		wantField string
	}{
		{"bad weights", okLines, []Need{okNeed}, Weights{}, "fiscal_year"},
		{"duplicate line", append(slices.Clone(okLines), okLines[0]), nil, safetyOnly, "lines[1].id"},
		{"negative available", []Line{{ID: "L1", SubDistrictCode: "SD1", ItemCode: "I1", AvailableFen: -1}}, nil, safetyOnly, "lines[0].available_fen"},
		{"line without item", []Line{{ID: "L1", SubDistrictCode: "SD1"}}, nil, safetyOnly, "lines[0].item_code"},
		{"unknown line", okLines, []Need{okNeed, {CaseID: "c2", LineID: "L9", FiledAt: filed}}, safetyOnly, "needs[1].line_id"},
		{"negative estimate", okLines, []Need{{CaseID: "c1", LineID: "L1", EstimateFen: -5, FiledAt: filed}}, safetyOnly, "needs[0].estimate_fen"},
		{"no filing time", okLines, []Need{{CaseID: "c1", LineID: "L1"}}, safetyOnly, "needs[0].filed_at"},
		{"safety level 4", okLines, []Need{{CaseID: "c1", LineID: "L1", SafetyLevel: 4, FiledAt: filed}}, safetyOnly, "needs[0].safety_level"},
		{"negative households", okLines, []Need{{CaseID: "c1", LineID: "L1", Households: -1, FiledAt: filed}}, safetyOnly, "needs[0].households"},
		{"case twice", okLines, []Need{okNeed, {CaseID: "c2", LineID: "L1", FiledAt: filed}, okNeed}, safetyOnly, "needs[2].case_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(tt.lines, tt.needs, tt.w, asOf)
			assertInvalid(t, err, tt.wantField)
		})
	}
}

// TestRunSynthetic checks the invariants of a run on generated data and that
// the result does not depend on how many CPUs did the work.
func TestRunSynthetic(t *testing.T) {
	lines, needs, at := synthetic(50_000, 300)
	w := DefaultWeights(2026)
	got, err := Run(lines, needs, w, at)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("lines", func(t *testing.T) {
		decided := 0
		for i, r := range got.Lines {
			if r.FundedFen+r.RemainingFen != lines[i].AvailableFen {
				t.Errorf("%s: funded %d + remaining %d, want available %d", r.LineID, r.FundedFen, r.RemainingFen, lines[i].AvailableFen)
			}
			var funded, waiting int64
			for _, d := range r.Funded {
				funded += d.EstimateFen
			}
			for _, d := range r.Waitlisted {
				waiting += d.EstimateFen
				// Skip-and-continue leaves nothing that would still fit.
				if d.EstimateFen <= r.RemainingFen {
					t.Errorf("%s: %s (%d fen) waitlisted with %d fen left", r.LineID, d.CaseID, d.EstimateFen, r.RemainingFen)
				}
			}
			if funded != r.FundedFen || waiting != r.WaitlistedFen {
				t.Errorf("%s: sums %d/%d, want %d/%d", r.LineID, funded, waiting, r.FundedFen, r.WaitlistedFen)
			}
			decided += len(r.Funded) + len(r.Waitlisted)
		}
		if decided != len(needs) {
			t.Errorf("decisions: got %d, want %d", decided, len(needs))
		}
	})

	t.Run("adjustments", func(t *testing.T) {
		byID := map[string]int{}
		for i, l := range lines {
			byID[l.ID] = i
		}
		given := map[string]int64{}
		received := map[string]int64{}
		for _, a := range got.Adjustments {
			from, to := lines[byID[a.FromLineID]], lines[byID[a.ToLineID]]
			if from.SubDistrictCode != to.SubDistrictCode {
				t.Errorf("%s → %s crosses sub-districts", a.FromLineID, a.ToLineID)
			}
			if a.AmountFen <= 0 {
				t.Errorf("%s → %s: amount %d", a.FromLineID, a.ToLineID, a.AmountFen)
			}
			given[a.FromLineID] += a.AmountFen
			received[a.ToLineID] += a.AmountFen
		}
		for id, g := range given {
			r := got.Lines[byID[id]]
			if g > r.RemainingFen || len(r.Waitlisted) > 0 {
				t.Errorf("%s gives %d with %d left and %d waitlisted", id, g, r.RemainingFen, len(r.Waitlisted))
			}
		}
		for id, g := range received {
			if r := got.Lines[byID[id]]; g > r.ShortfallFen {
				t.Errorf("%s receives %d, lacks only %d", id, g, r.ShortfallFen)
			}
		}
		for _, a := range got.Adjustments {
			waiting := caseIDsOf(got.Lines[byID[a.ToLineID]].Waitlisted)
			if len(a.FundsCaseIDs) == 0 {
				t.Errorf("%s → %s funds no case", a.FromLineID, a.ToLineID)
			}
			for _, id := range a.FundsCaseIDs {
				if !slices.Contains(waiting, id) {
					t.Errorf("%s → %s funds %s, which does not wait on %s", a.FromLineID, a.ToLineID, id, a.ToLineID)
				}
			}
		}
		if len(got.Adjustments) == 0 {
			t.Error("got no adjustments, want some on this data")
		}
	})

	t.Run("matches Prioritize", func(t *testing.T) {
		var lineNeeds []Need
		for _, n := range needs {
			if n.LineID == lines[7].ID {
				lineNeeds = append(lineNeeds, n)
			}
		}
		ranked, err := Prioritize(lineNeeds, w, at)
		if err != nil {
			t.Fatal(err)
		}
		r := got.Lines[7]
		all := slices.Concat(r.Funded, r.Waitlisted)
		slices.SortFunc(all, func(a, b Decision) int { return a.Rank - b.Rank })
		for i := range ranked {
			if id := lineNeeds[ranked[i].Index].CaseID; all[i].CaseID != id || all[i].Score != ranked[i].Score.Total {
				t.Fatalf("rank %d: got %s (%d), want %s (%d)", i+1, all[i].CaseID, all[i].Score, id, ranked[i].Score.Total)
			}
		}
	})

	t.Run("same result on one CPU", func(t *testing.T) {
		prev := runtime.GOMAXPROCS(1)
		defer runtime.GOMAXPROCS(prev)
		one, err := Run(lines, needs, w, at)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(one, got) {
			t.Error("got a different result with GOMAXPROCS=1")
		}
	})
}

func TestRunEmptyEncodesArrays(t *testing.T) {
	// The console renders lists; null where it expects [] breaks it.
	res, err := Run([]Line{{ID: "L1", SubDistrictCode: "SD1", ItemCode: "I1"}}, nil, safetyOnly, asOf)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"lines":[{"line_id":"L1","funded":[],"waitlisted":[],"available_fen":0,"funded_fen":0,"remaining_fen":0,"waitlisted_fen":0,"shortfall_fen":0}],"adjustments":[],"next_year":[]}`
	if got := string(b); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func caseIDsOf(ds []Decision) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.CaseID
	}
	return out
}

// TestSuggestedAdjustmentsFundCases pins issue 8 item 8: a donor's money
// went across areas to the most urgent recipient, where it funded nothing,
// while a same-area recipient whose shortfall it would have covered was
// ignored.
func TestSuggestedAdjustmentsFundCases(t *testing.T) {
	filed := asOf.Add(-48 * time.Hour)
	tests := []struct {
		name  string
		lines []Line
		needs []Need
		want  []SuggestedAdjustment
	}{
		{
			name: "same area first, and only where it funds a case",
			lines: []Line{
				{ID: "D", SubDistrictCode: "SD1", ItemCode: "I1", Area: "民生保障", AvailableFen: 30_000},
				{ID: "R1", SubDistrictCode: "SD1", ItemCode: "I2", Area: "城市管理", AvailableFen: 0},
				{ID: "R2", SubDistrictCode: "SD1", ItemCode: "I3", Area: "民生保障", AvailableFen: 0},
			},
			needs: []Need{
				// R1 waits for the most urgent need, too big for D's money.
				{CaseID: "urgent", LineID: "R1", SafetyLevel: 3, EstimateFen: 50_000, FiledAt: filed},
				// R2's need fits in what D has left.
				{CaseID: "fits", LineID: "R2", SafetyLevel: 1, EstimateFen: 20_000, FiledAt: filed},
			},
			want: []SuggestedAdjustment{
				{FromLineID: "D", ToLineID: "R2", AmountFen: 20_000, Reason: "同领域结余调剂，可资助候补需求 1 件", FundsCaseIDs: []string{"fits"}},
			},
		},
		{
			name: "money that funds nothing anywhere stays put",
			lines: []Line{
				{ID: "D", SubDistrictCode: "SD1", ItemCode: "I1", Area: "民生保障", AvailableFen: 10_000},
				{ID: "R", SubDistrictCode: "SD1", ItemCode: "I2", Area: "社区建设", AvailableFen: 10_000},
			},
			needs: []Need{{CaseID: "big", LineID: "R", SafetyLevel: 1, EstimateFen: 50_000, FiledAt: filed}},
			want:  []SuggestedAdjustment{},
		},
		{
			name: "across areas when it funds a case and no own area can",
			lines: []Line{
				{ID: "D", SubDistrictCode: "SD1", ItemCode: "I1", Area: "民生保障", AvailableFen: 40_000},
				{ID: "R", SubDistrictCode: "SD1", ItemCode: "I2", Area: "社区建设", AvailableFen: 10_000},
			},
			needs: []Need{{CaseID: "big", LineID: "R", SafetyLevel: 1, EstimateFen: 50_000, FiledAt: filed}},
			want: []SuggestedAdjustment{
				{FromLineID: "D", ToLineID: "R", AmountFen: 40_000, Reason: "跨领域结余调剂，可资助候补需求 1 件", FundsCaseIDs: []string{"big"}},
			},
		},
		{
			// The demo once suggested moving community workers' pay to an
			// elevator: 三保 money comes first and is never a donor.
			name: "a 三保 line never gives, even when it alone could fund the case",
			lines: []Line{
				{ID: "WAGES", SubDistrictCode: "SD1", ItemCode: "SQ-01-01", Area: "社区建设", AvailableFen: 900_000, Sanbao: true},
				{ID: "D", SubDistrictCode: "SD1", ItemCode: "I1", Area: "城市管理", AvailableFen: 10_000},
				{ID: "R", SubDistrictCode: "SD1", ItemCode: "I2", Area: "社区建设", AvailableFen: 5_000},
			},
			needs: []Need{
				{CaseID: "elevator", LineID: "R", SafetyLevel: 3, EstimateFen: 600_000, FiledAt: filed},
				{CaseID: "small", LineID: "R", SafetyLevel: 1, EstimateFen: 12_000, FiledAt: filed},
			},
			// Only D's 10,000 may move: with R's 5,000 it funds "small".
			want: []SuggestedAdjustment{
				{FromLineID: "D", ToLineID: "R", AmountFen: 7_000, Reason: "跨领域结余调剂，可资助候补需求 1 件", FundsCaseIDs: []string{"small"}},
			},
		},
		{
			name: "exactly what the funded cases take, not the whole shortfall",
			lines: []Line{
				{ID: "D", SubDistrictCode: "SD1", ItemCode: "I1", Area: "城市管理", AvailableFen: 25_000},
				{ID: "R", SubDistrictCode: "SD1", ItemCode: "I2", Area: "城市管理", AvailableFen: 5_000},
			},
			needs: []Need{
				{CaseID: "first", LineID: "R", SafetyLevel: 3, EstimateFen: 20_000, FiledAt: filed},
				{CaseID: "second", LineID: "R", SafetyLevel: 2, EstimateFen: 30_000, FiledAt: filed},
			},
			// R has 5000: 20000 − 5000 = 15000 funds "first"; "second" does
			// not fit in the 10000 left.
			want: []SuggestedAdjustment{
				{FromLineID: "D", ToLineID: "R", AmountFen: 15_000, Reason: "同领域结余调剂，可资助候补需求 1 件", FundsCaseIDs: []string{"first"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Run(tt.lines, tt.needs, safetyOnly, asOf)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Adjustments, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got.Adjustments, tt.want)
			}
		})
	}
}
