package allocation

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"minsheng"
)

var asOf = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func TestScoreNeed(t *testing.T) {
	w := DefaultWeights(2026)
	tests := []struct {
		name string
		need Need
		// want lists inputs and points in part order: sanbao, safety,
		// households, co_signers, elderly, disabled, waiting_days,
		// repeat_complaints, cost_per_household.
		wantInputs [numParts]int64
		wantPoints [numParts]int64
		wantTotal  int64
	}{
		{
			name: "every factor",
			need: Need{
				CaseID: "A", Sanbao: true, SafetyLevel: 2, Households: 100, CoSigners: 25,
				Elderly: 12, Disabled: 3, RepeatComplaints: 4, EstimateFen: 5_000_000,
				FiledAt: asOf.Add(-30*24*time.Hour - 5*time.Hour),
			},
			wantInputs: [numParts]int64{1, 2, 100, 25, 10, 3, 30, 4, 50_000},
			wantPoints: [numParts]int64{
				30_000,                     // 三保: the whole weight
				20_000,                     // 10000 × level 2
				30_000,                     // 3000 × √100 = 3000 × 10000 / 1000
				10_000,                     // 2000 × √25 = 2000 × 5000 / 1000
				10_000,                     // 1000 × min(12, cap 10)
				4_500,                      // 1500 × 3
				3_000,                      // 100 × 30 whole days (30 d 5 h)
				8_000,                      // 4000 × √4 = 4000 × 2000 / 1000
				20_000 * 500_000 / 550_000, // c = 5000000/100 = 50000; 10^10 / 550000 = 18181.8 → 18181
			},
			// 30000+20000+30000+10000+10000+4500+3000+8000+18181
			wantTotal: 133_681,
		},
		{
			name: "square roots to three decimals and waiting capped",
			need: Need{
				CaseID: "B", Households: 2, CoSigners: 3, EstimateFen: 2_000_000,
				FiledAt: asOf.Add(-400 * 24 * time.Hour),
			},
			wantInputs: [numParts]int64{0, 0, 2, 3, 0, 0, 180, 0, 1_000_000},
			wantPoints: [numParts]int64{
				0, 0,
				4_242, // ⌊√2000000⌋ = 1414 (1414² = 1999396); 3000 × 1414 / 1000
				3_464, // ⌊√3000000⌋ = 1732 (1732² = 2999824); 2000 × 1732 / 1000
				0, 0,
				18_000, // 400 days capped at 180; 100 × 180
				0,
				6_666, // c = 2000000/2; 20000 × 500000 / 1500000 = 6666.7 → 6666
			},
			wantTotal: 32_372, // 4242 + 3464 + 18000 + 6666
		},
		{
			name: "no households counts as one and a future filing waits 0 days",
			need: Need{CaseID: "C", EstimateFen: 300, FiledAt: asOf.Add(time.Hour)},
			// c = 300 / max(0, 1) = 300; 10^10 / 500300 = 19988.0 (500300 × 19988 = 9999996400)
			wantInputs: [numParts]int64{0, 0, 0, 0, 0, 0, 0, 0, 300},
			wantPoints: [numParts]int64{0, 0, 0, 0, 0, 0, 0, 0, 19_988},
			wantTotal:  19_988,
		},
		{
			name: "a large estate takes the Newton path",
			need: Need{CaseID: "D", Households: 1_000_000, FiledAt: asOf},
			// √10^6 = 1000 → ⌊√10^12⌋ = 10^6; 3000 × 10^6 / 1000; the free need earns all 20000
			wantInputs: [numParts]int64{0, 0, 1_000_000, 0, 0, 0, 0, 0, 0},
			wantPoints: [numParts]int64{0, 0, 3_000_000, 0, 0, 0, 0, 0, 20_000},
			wantTotal:  3_020_000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ScoreNeed(tt.need, w, asOf)
			if got.Total != tt.wantTotal {
				t.Errorf("Total: got %d, want %d", got.Total, tt.wantTotal)
			}
			if len(got.Parts) != int(numParts) {
				t.Fatalf("len(Parts): got %d, want %d", len(got.Parts), numParts)
			}
			var sum int64
			for i, p := range got.Parts {
				sum += p.Points
				if p.Factor != partNames[i].factor || p.Label != partNames[i].label {
					t.Errorf("part %d: got %s/%s, want %s/%s", i, p.Factor, p.Label, partNames[i].factor, partNames[i].label)
				}
				if p.Input != tt.wantInputs[i] {
					t.Errorf("%s input: got %d, want %d", p.Factor, p.Input, tt.wantInputs[i])
				}
				if p.Points != tt.wantPoints[i] {
					t.Errorf("%s points: got %d, want %d", p.Factor, p.Points, tt.wantPoints[i])
				}
			}
			if sum != got.Total {
				t.Errorf("sum of parts: got %d, want Total %d", sum, got.Total)
			}
			if fast := scoreTotal(&tt.need, &w, asOf.Unix()); fast != got.Total {
				t.Errorf("scoreTotal: got %d, want %d", fast, got.Total)
			}
		})
	}
}

func TestMilliSqrt(t *testing.T) {
	for _, x := range []int64{0, 1, 2, 3, 99, 100, sqrtTableSize - 1, sqrtTableSize, sqrtTableSize + 1, 123_456_789, MaxCount} {
		got := milliSqrt(x)
		// ⌊√(x·10⁶)⌋ is the r with r² ≤ x·10⁶ < (r+1)².
		n := x * 1_000_000
		if got*got > n || (got+1)*(got+1) <= n {
			t.Errorf("milliSqrt(%d): got %d, not ⌊√%d⌋", x, got, n)
		}
	}
}

func TestPrioritizeOrder(t *testing.T) {
	// Only safety counts, so scores are 1000 × level and ties are easy to build.
	w := Weights{FiscalYear: 2026, SafetyPerLevel: 1000}
	day := func(d int) time.Time { return asOf.Add(-time.Duration(d) * 24 * time.Hour) }
	needs := []Need{
		{CaseID: "c3", LineID: "L", SafetyLevel: 1, FiledAt: day(5)},
		{CaseID: "c2", LineID: "L", SafetyLevel: 1, FiledAt: day(5)}, // same score and time as c3: case ID decides
		{CaseID: "c1", LineID: "L", SafetyLevel: 1, FiledAt: day(2)}, // same score, filed later
		{CaseID: "c9", LineID: "L", SafetyLevel: 3, FiledAt: day(1)}, // highest score despite filing last
	}
	got, err := Prioritize(needs, w, asOf)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"c9", "c2", "c3", "c1"}
	for i := range want {
		if id := needs[got[i].Index].CaseID; id != want[i] {
			t.Errorf("rank %d: got %s, want %s", i+1, id, want[i])
		}
	}
}

func TestWeightsValidate(t *testing.T) {
	tests := []struct {
		name       string
		mutate     func(*Weights)
		wantFields []string
	}{
		{"defaults are valid", func(*Weights) {}, nil},
		{"negative weight", func(w *Weights) { w.Households = -1 }, []string{"households"}},
		{"weight too large", func(w *Weights) { w.Sanbao = MaxWeight + 1 }, []string{"sanbao"}},
		{"fiscal year", func(w *Weights) { w.FiscalYear = 1999 }, []string{"fiscal_year"}},
		{"cost weight without reference", func(w *Weights) { w.CostReferenceFen = 0 }, []string{"cost_reference_fen"}},
		{"several at once", func(w *Weights) { w.WaitingCapDays = -1; w.VulnerableCap = -1 }, []string{"waiting_cap_days", "vulnerable_cap"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := DefaultWeights(2026)
			tt.mutate(&w)
			assertInvalid(t, w.Validate(), tt.wantFields...)
		})
	}
}

// assertInvalid checks that err is EINVALID naming exactly fields, or nil
// when no field is given.
func assertInvalid(t *testing.T, err error, fields ...string) {
	t.Helper()
	if len(fields) == 0 {
		if err != nil {
			t.Fatalf("got error %v, want nil", err)
		}
		return
	}
	var e *minsheng.Error
	if !errors.As(err, &e) || e.Code != minsheng.EINVALID {
		t.Fatalf("got %v, want an EINVALID *minsheng.Error", err)
	}
	if len(e.Fields) != len(fields) {
		t.Errorf("fields: got %v, want keys %v", e.Fields, fields)
	}
	for _, f := range fields {
		if _, ok := e.Fields[f]; !ok {
			t.Errorf("fields: got %v, want key %q", e.Fields, f)
		}
	}
}

func TestWeightsJSON(t *testing.T) {
	// Finance stores the year's weights as JSON; the names are the API.
	in := `{"fiscal_year":2027,"sanbao":1,"safety_per_level":2,"households":3,"co_signers":4,"elderly":5,"disabled":6,` +
		`"vulnerable_cap":7,"waiting_per_day":8,"waiting_cap_days":9,"repeat_complaints":10,"cost_per_household":11,"cost_reference_fen":12}`
	var got Weights
	if err := json.Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	want := Weights{2027, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
