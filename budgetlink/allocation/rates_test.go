package allocation

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"minsheng/cases/rates"
)

func at(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, time.UTC)
}

func ptr(t time.Time) *time.Time { return &t }

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
	all := func(pm int64) rates.Set {
		r := rates.NewRate(pm, 1000)
		return rates.Set{Response: r, Resolution: r, Satisfaction: r}
	}
	three := func(rn, rd, sn, sd, tn, td int64) rates.Set {
		return rates.Set{Response: rates.NewRate(rn, rd), Resolution: rates.NewRate(sn, sd), Satisfaction: rates.NewRate(tn, td)}
	}
	exec := func(pm int64) Rate { return Rate{pm, 1000} }
	tests := []struct {
		name      string
		r         rates.Set
		execution Rate
		want      int64
	}{
		// 2×714 + 3×667 + 3×750 + 2×950 = 1428 + 2001 + 2250 + 1900 = 7579;
		// 7579 / 25 = 303.16 → 303; 800 + 303
		{"the hand-made set at 95% execution", three(5, 7, 4, 6, 3, 4), exec(950), 1103},
		{"everything at 0", all(0), exec(0), 800},                   // 800 + 0
		{"everything at 100%", all(1000), exec(1000), 1200},         // 800 + 10000/25
		{"everything at 50% is neutral", all(500), exec(500), 1000}, // 800 + 5000/25
		// Issue 8 item 8: no cases and no lines used to score the maximum 1200.
		{"nothing measured is neutral", rates.Set{}, Rate{}, 1000},
		{"nothing measured with a budget of 0 is neutral", rates.Set{}, Rate{Num: 0, Den: 0}, 1000},
		// Only execution measured, fully spent: 800 + 400×2×1000/(1000×2)
		{"only execution measured", rates.Set{}, exec(1000), 1200},
		// Response 1/2, resolution 1/2, satisfaction 1/1, no budget:
		// 400 × (2×500 + 3×500 + 3×1000) / (1000 × 8) = 275
		{"missing execution is left out", three(1, 2, 1, 2, 1, 1), Rate{}, 1075},
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
