package allocation

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

func at(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, time.UTC)
}

func ptr(t time.Time) *time.Time { return &t }

// rateFacts is the hand-made set; asOf is 27 Nov 09:00 and the period November.
var rateFacts = []CaseFact{
	// SD1 / C1
	{CaseID: "c1", SubDistrictCode: "SD1", CommunityCode: "C1", FiledAt: at(11, 10, 8, 0), AcceptedAt: ptr(at(11, 10, 20, 0)), Status: StatusCompleted, Verdict: VerdictSatisfied},      // 12 h: responded
	{CaseID: "c2", SubDistrictCode: "SD1", CommunityCode: "C1", FiledAt: at(11, 11, 8, 0), AcceptedAt: ptr(at(11, 12, 8, 0)), Status: StatusClosed, Verdict: VerdictBasicallySatisfied}, // exactly 24 h: responded
	{CaseID: "c3", SubDistrictCode: "SD1", CommunityCode: "C1", FiledAt: at(11, 12, 8, 0), AcceptedAt: ptr(at(11, 13, 9, 0)), Status: "in_progress"},                                    // 25 h: late
	{CaseID: "c4", SubDistrictCode: "SD1", CommunityCode: "C1", FiledAt: at(11, 27, 0, 0), Status: "submitted"},                                                                         // 9 h old, window open: left out
	{CaseID: "c5", SubDistrictCode: "SD1", CommunityCode: "C2", FiledAt: at(11, 20, 8, 0), Status: "submitted"},                                                                         // 7 days unanswered
	{CaseID: "c6", SubDistrictCode: "SD1", CommunityCode: "C2", FiledAt: at(11, 21, 8, 0), AcceptedAt: ptr(at(11, 21, 9, 0)), Status: StatusCompleted, Verdict: VerdictDissatisfied},    // 1 h
	{CaseID: "c7", SubDistrictCode: "SD2", CommunityCode: "C3", FiledAt: at(10, 31, 23, 59), AcceptedAt: ptr(at(11, 1, 0, 0)), Status: StatusCompleted, Verdict: VerdictSatisfied},      // October: outside
	{CaseID: "c8", SubDistrictCode: "SD2", CommunityCode: "C3", FiledAt: at(11, 26, 10, 0), AcceptedAt: ptr(at(11, 26, 11, 0)), Status: "accepted"},                                     // young but answered: counts
	{CaseID: "c9", SubDistrictCode: "SD2", FiledAt: at(11, 5, 8, 0), AcceptedAt: ptr(at(11, 5, 10, 0)), Status: StatusCompleted, Verdict: VerdictSatisfied},                             // no community
}

func TestComputeRates(t *testing.T) {
	got, err := ComputeRates(rateFacts, Period{From: at(11, 1, 0, 0), To: at(12, 1, 0, 0)}, asOf)
	if err != nil {
		t.Fatal(err)
	}
	rates := func(rn, rd, sn, sd, tn, td int64) Rates {
		// Every case was rated at most once: first-time = final.
		return Rates{Response: Rate{rn, rd}, Resolution: Rate{sn, sd}, Satisfaction: Rate{tn, td}, FirstSatisfaction: Rate{tn, td}}
	}
	want := RatesReport{
		// response: responded c1 c2 c6 c8 c9 / counted c1 c2 c3 c5 c6 c8 c9 = 5/7
		// resolution: resolved c1 c2 c6 c9 / accepted c1 c2 c3 c6 c8 c9 = 4/6
		// satisfaction: c1 c2 c9 / rated c1 c2 c6 c9 = 3/4
		Total: rates(5, 7, 4, 6, 3, 4),
		SubDistricts: []UnitRates{
			// response c1 c2 c6 / c1 c2 c3 c5 c6; resolution c1 c2 c6 / c1 c2 c3 c6; satisfaction c1 c2 / c1 c2 c6
			{SubDistrictCode: "SD1", Rates: rates(3, 5, 3, 4, 2, 3)},
			// response c8 c9 / c8 c9; resolution c9 / c8 c9; satisfaction c9 / c9
			{SubDistrictCode: "SD2", Rates: rates(2, 2, 1, 2, 1, 1)},
		},
		Communities: []UnitRates{
			{SubDistrictCode: "SD1", CommunityCode: "C1", Rates: rates(2, 3, 2, 3, 2, 2)},
			{SubDistrictCode: "SD1", CommunityCode: "C2", Rates: rates(1, 2, 1, 1, 0, 1)},
			{SubDistrictCode: "SD2", CommunityCode: "C3", Rates: rates(1, 1, 0, 1, 0, 0)},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	t.Run("per mille", func(t *testing.T) {
		// 5/7 = 714.29‰, 4/6 = 666.67‰, 3/4 = 750‰
		for _, c := range []struct {
			name string
			r    Rate
			want int64
		}{{"response", got.Total.Response, 714}, {"resolution", got.Total.Resolution, 667}, {"satisfaction", got.Total.Satisfaction, 750}} {
			if pm := c.r.PerMille(); pm != c.want {
				t.Errorf("%s: got %d‰, want %d‰", c.name, pm, c.want)
			}
		}
	})
}

// TestFirstSatisfaction pins issue 8 item 8: the final 满意率 counts the
// latest verdict, the 一次满意率 the first, over the same cases (those rated
// at least once).
func TestFirstSatisfaction(t *testing.T) {
	filed, accepted := at(11, 2, 8, 0), ptr(at(11, 2, 9, 0))
	fact := func(id, first, last string) CaseFact {
		return CaseFact{CaseID: id, SubDistrictCode: "SD1", FiledAt: filed, AcceptedAt: accepted, Status: StatusClosed, FirstVerdict: first, Verdict: last}
	}
	facts := []CaseFact{
		fact("reworked", VerdictDissatisfied, VerdictSatisfied),                  // final yes, first no
		fact("first time", VerdictBasicallySatisfied, VerdictBasicallySatisfied), // yes, yes
		fact("rated once", "", VerdictSatisfied),                                 // only the latest known: yes, yes
		fact("still unhappy", VerdictDissatisfied, VerdictDissatisfied),          // no, no
		fact("not rated", "", ""),                                                // in neither
	}
	got, err := ComputeRates(facts, Period{From: at(11, 1, 0, 0), To: at(12, 1, 0, 0)}, asOf)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want Rate
	}{
		{"满意率 (final)", got.Total.Satisfaction, Rate{3, 4}},
		{"一次满意率 (first time)", got.Total.FirstSatisfaction, Rate{2, 4}},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, c.got, c.want)
		}
	}
	if _, err := ComputeRates([]CaseFact{fact("bad", "happy", VerdictSatisfied)}, Period{From: at(11, 1, 0, 0), To: at(12, 1, 0, 0)}, asOf); err == nil {
		t.Error("unknown first verdict: got no error")
	}
}

func TestComputeRatesInvalid(t *testing.T) {
	nov := Period{From: at(11, 1, 0, 0), To: at(12, 1, 0, 0)}
	tests := []struct {
		name      string
		facts     []CaseFact
		p         Period
		wantField string
	}{
		{"empty period", nil, Period{From: nov.To, To: nov.From}, "to"},
		{"unknown verdict", []CaseFact{{SubDistrictCode: "SD1", FiledAt: at(11, 2, 0, 0), Verdict: "happy"}}, nov, "cases[0].verdict"},
		{"no sub-district", []CaseFact{{FiledAt: at(11, 2, 0, 0)}}, nov, "cases[0].sub_district_code"},
		{"accepted before filed", []CaseFact{{SubDistrictCode: "SD1", FiledAt: at(11, 2, 0, 0), AcceptedAt: ptr(at(11, 1, 0, 0))}}, nov, "cases[0].accepted_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ComputeRates(tt.facts, tt.p, asOf)
			assertInvalid(t, err, tt.wantField)
		})
	}
}

func TestRatePerMille(t *testing.T) {
	tests := []struct {
		r         Rate
		want      int64
		wantKnown bool
	}{
		{Rate{2, 3}, 667, true},  // 666.67
		{Rate{1, 3}, 333, true},  // 333.33
		{Rate{1, 8}, 125, true},  // exact
		{Rate{1, 2000}, 1, true}, // 0.5 rounds up
		{Rate{3, 3}, 1000, true},
		{Rate{0, 0}, 0, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d", tt.r.Num, tt.r.Den), func(t *testing.T) {
			if got := tt.r.PerMille(); got != tt.want {
				t.Errorf("PerMille: got %d, want %d", got, tt.want)
			}
			if got := tt.r.Known(); got != tt.wantKnown {
				t.Errorf("Known: got %v, want %v", got, tt.wantKnown)
			}
		})
	}
}

func TestPerformanceCoefficient(t *testing.T) {
	all := func(pm int64) Rates {
		return Rates{Response: Rate{pm, 1000}, Resolution: Rate{pm, 1000}, Satisfaction: Rate{pm, 1000}}
	}
	exec := func(pm int64) Rate { return Rate{pm, 1000} }
	tests := []struct {
		name      string
		r         Rates
		execution Rate
		want      int64
	}{
		// 2×714 + 3×667 + 3×750 + 2×950 = 1428 + 2001 + 2250 + 1900 = 7579;
		// 7579 / 25 = 303.16 → 303; 800 + 303
		{"the hand-made set at 95% execution", Rates{Response: Rate{5, 7}, Resolution: Rate{4, 6}, Satisfaction: Rate{3, 4}}, exec(950), 1103},
		{"everything at 0", all(0), exec(0), 800},                   // 800 + 0
		{"everything at 100%", all(1000), exec(1000), 1200},         // 800 + 10000/25
		{"everything at 50% is neutral", all(500), exec(500), 1000}, // 800 + 5000/25
		// Issue 8 item 8: no cases and no lines used to score the maximum 1200.
		{"nothing measured is neutral", Rates{}, Rate{}, 1000},
		{"nothing measured with a budget of 0 is neutral", Rates{}, Rate{Num: 0, Den: 0}, 1000},
		// Only execution measured, fully spent: 800 + 400×2×1000/(1000×2)
		{"only execution measured", Rates{}, exec(1000), 1200},
		// Response 1/2, resolution 1/2, satisfaction 1/1, no budget:
		// 400 × (2×500 + 3×500 + 3×1000) / (1000 × 8) = 275
		{"missing execution is left out", Rates{Response: Rate{1, 2}, Resolution: Rate{1, 2}, Satisfaction: Rate{1, 1}}, Rate{}, 1075},
		{"overspending is clamped", all(1000), Rate{1300, 1000}, 1200},
		// 2×1000 + 3×1000 + 3×1000 + 2×7 = 8014; 8014/25 = 320.56 → 321
		{"rounds half up", all(1000), exec(7), 1121},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PerformanceCoefficient(tt.r, tt.execution); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCompletion(t *testing.T) {
	past, future := at(11, 20, 0, 0), at(12, 31, 0, 0)
	facts := []CaseFact{
		{CaseID: "f1", Funded: true, Status: StatusCompleted, SpentFen: 10_000},
		{CaseID: "f2", Funded: true, Status: StatusClosed, SpentFen: 5_001},
		{CaseID: "f3", SubDistrictCode: "SD1", CommunityCode: "C1", Funded: true, Status: "in_progress", DeadlineAt: past, SpentFen: 3_000},
		{CaseID: "f4", Funded: true, Status: "in_progress", DeadlineAt: future, SpentFen: 1},
		{CaseID: "f5", Funded: true, Status: "accepted"},                                   // no deadline: not stalled
		{CaseID: "f6", Funded: true, Status: StatusCompleted, DeadlineAt: past},            // late but done: not stalled
		{CaseID: "f7", Funded: false, Status: StatusCompleted, SpentFen: 99_999},           // unfunded: ignored
		{CaseID: "f0", Funded: true, Status: "accepted", DeadlineAt: past.Add(-time.Hour)}, // stalled, earlier deadline
	}
	got := Completion(facts, asOf)
	want := CompletionReport{
		Funded: 7,
		ByStatus: []StatusCount{
			{Status: "accepted", Cases: 2},
			{Status: StatusClosed, Cases: 1, SpentFen: 5_001},
			{Status: StatusCompleted, Cases: 2, SpentFen: 10_000},
			{Status: "in_progress", Cases: 2, SpentFen: 3_001},
		},
		Resolved:           3,          // f1 f2 f6
		CompletionRate:     Rate{3, 7}, // 428.57‰
		SpentFen:           18_002,     // 10000 + 5001 + 3000 + 1
		CostPerResolvedFen: 6_001,      // 18002 / 3 = 6000.67 → 6001
		Stalled: []StalledCase{
			// 19 Nov 23:00 → 27 Nov 09:00 is 7 days 10 h; 20 Nov 00:00 → 7 days 9 h.
			{CaseID: "f0", DeadlineAt: past.Add(-time.Hour), DaysOverdue: 7},
			{CaseID: "f3", SubDistrictCode: "SD1", CommunityCode: "C1", DeadlineAt: past, DaysOverdue: 7},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if pm := got.CompletionRate.PerMille(); pm != 429 {
		t.Errorf("completion rate: got %d‰, want 429‰", pm)
	}

	t.Run("half a fen rounds up", func(t *testing.T) {
		// 15 / 2 = 7.5 → 8
		got := Completion([]CaseFact{
			{Funded: true, Status: StatusCompleted, SpentFen: 10},
			{Funded: true, Status: StatusClosed, SpentFen: 5},
		}, asOf)
		if got.CostPerResolvedFen != 8 {
			t.Errorf("got %d, want 8", got.CostPerResolvedFen)
		}
	})
	t.Run("nothing resolved", func(t *testing.T) {
		got := Completion([]CaseFact{{Funded: true, Status: "accepted", SpentFen: 10}}, asOf)
		if got.CostPerResolvedFen != 0 || got.CompletionRate != (Rate{0, 1}) {
			t.Errorf("got %d fen, rate %v; want 0 fen, 0/1", got.CostPerResolvedFen, got.CompletionRate)
		}
	})
}
