package allocation

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"minsheng"
)

// threeSubs and threeWeights are the small hand-computed example.
var threeSubs = []SubDistrictFactors{
	// Given out of order: the result is sorted by code.
	{Code: "C", Population: 30_000, AreaM2: 3, Cases: 1, Communities: 2, PerformancePerMille: 800, TaxGrowthPerMille: 100},
	{Code: "A", Population: 10_000, AreaM2: 3, Cases: 1, Communities: 1, PerformancePerMille: 1000, TaxGrowthPerMille: 300},
	{Code: "B", Population: 20_000, AreaM2: 3, Cases: 1, Communities: 1, PerformancePerMille: 1200, TaxGrowthPerMille: -50},
}

var threeWeights = FactorWeights{
	PopulationBP: 5000, AreaBP: 2000, CasesBP: 1000, CommunitiesBP: 1000, PerformanceBP: 500, TaxGrowthBP: 500,
	TaxGrowthCapPerMille: 200,
}

func TestAllocateByFactorsByHand(t *testing.T) {
	// Pool 1,000,001 fen.
	// Step 1, pool × bp / 10000: population 500000.5, area 200000.2, cases
	// 100000.1, communities 100000.1, performance 50000.05, tax 50000.05.
	// Floors sum to 1,000,000; the 1 fen left goes to the largest
	// remainder, population: 500001.
	// Step 2, per factor (remainders as fractions of a fen):
	//   population 500001 × 1:2:3 → 83333.5, 166667, 250000.5; 1 fen left,
	//     A and C tie at .5, A has the lower code → 83334, 166667, 250000.
	//   area 200000 × 1:1:1 → 66666.67 each; 2 fen left → A, B: 66667, 66667, 66666.
	//   cases 100000 × 1:1:1 → 33333.33 each; 1 fen left → A: 33334, 33333, 33333.
	//   communities 100000 × 1:1:2 → 25000, 25000, 50000 exactly.
	//   performance 50000 × 1000:1200:800 → 16666.67, 20000, 13333.33;
	//     1 fen left → A (.67): 16667, 20000, 13333.
	//   tax growth: A 300‰ capped at 200, B −50‰ floored at 0, C 100:
	//     50000 × 200:0:100 → 33333.33, 0, 16666.67; 1 fen left → C: 33333, 0, 16667.
	// Totals: A 83334+66667+33334+25000+16667+33333 = 258335
	//         B 166667+66667+33333+25000+20000+0    = 311667
	//         C 250000+66666+33333+50000+13333+16667 = 429999
	//         258335 + 311667 + 429999 = 1000001.
	got, err := AllocateByFactors(1_000_001, threeSubs, threeWeights)
	if err != nil {
		t.Fatal(err)
	}
	part := func(f int, value, share int64) FactorPart {
		return FactorPart{Factor: factorNames[f].factor, Label: factorNames[f].label, ValueInput: value, ShareFen: share}
	}
	want := []Share{
		{SubDistrictCode: "A", TotalFen: 258_335, Parts: []FactorPart{
			part(facPopulation, 10_000, 83_334), part(facArea, 3, 66_667), part(facCases, 1, 33_334),
			part(facCommunities, 1, 25_000), part(facPerformance, 1000, 16_667), part(facTaxGrowth, 200, 33_333),
		}},
		{SubDistrictCode: "B", TotalFen: 311_667, Parts: []FactorPart{
			part(facPopulation, 20_000, 166_667), part(facArea, 3, 66_667), part(facCases, 1, 33_333),
			part(facCommunities, 1, 25_000), part(facPerformance, 1200, 20_000), part(facTaxGrowth, 0, 0),
		}},
		{SubDistrictCode: "C", TotalFen: 429_999, Parts: []FactorPart{
			part(facPopulation, 30_000, 250_000), part(facArea, 3, 66_666), part(facCases, 1, 33_333),
			part(facCommunities, 2, 50_000), part(facPerformance, 800, 13_333), part(facTaxGrowth, 100, 16_667),
		}},
	}
	for i := range want {
		t.Run(want[i].SubDistrictCode, func(t *testing.T) {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("got  %+v\nwant %+v", got[i], want[i])
			}
		})
	}
}

// fifteen builds Xicheng-like sub-districts with uneven values.
func fifteen() []SubDistrictFactors {
	subs := make([]SubDistrictFactors, 15)
	for i := range subs {
		subs[i] = SubDistrictFactors{
			Code:                fmt.Sprintf("1101020%02d", i+1),
			Population:          int64(40_000 + 7_919*i%50_000),
			AreaM2:              int64(1_500_000 + 611_953*i%4_000_000),
			Cases:               int64(3_000 + 977*i%9_000),
			Communities:         int64(10 + 7*i%15),
			PerformancePerMille: int64(850 + 37*i%300),
			TaxGrowthPerMille:   int64(-60 + 29*i%320),
		}
	}
	return subs
}

func TestAllocateByFactorsSumsExactly(t *testing.T) {
	w := DefaultFactorWeights()
	tests := []struct {
		name string
		pool int64
		// wantFactorPools is step 1 by hand for the default weights
		// 3000/1500/2000/1500/1000/1000 bp.
		wantFactorPools [numFactors]int64
	}{
		// 1 fen: every floor is 0; the remainders are the basis points, so
		// population (3000) takes it.
		{"one fen", 1, [numFactors]int64{1, 0, 0, 0, 0, 0}},
		// 100000001 × bp / 10000 = 30000000.3, 15000000.15, 20000000.2,
		// 15000000.15, 10000000.1, 10000000.1: floors sum to 100000000 and
		// population's .3 takes the last fen.
		{"100000001 fen", 100_000_001, [numFactors]int64{30_000_001, 15_000_000, 20_000_000, 15_000_000, 10_000_000, 10_000_000}},
		// 3 fen: .9, .45, .6, .45, .3, .3 → population, cases, then area
		// (ties with communities, listed first).
		{"three fen", 3, [numFactors]int64{1, 1, 1, 0, 0, 0}},
		{"the largest pool", minsheng.MaxAmountFen, [numFactors]int64{
			minsheng.MaxAmountFen * 3 / 10, minsheng.MaxAmountFen * 15 / 100, minsheng.MaxAmountFen * 2 / 10, minsheng.MaxAmountFen * 15 / 100, minsheng.MaxAmountFen / 10, minsheng.MaxAmountFen / 10,
		}},
		{"empty pool", 0, [numFactors]int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AllocateByFactors(tt.pool, fifteen(), w)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 15 {
				t.Fatalf("shares: got %d, want 15", len(got))
			}
			var total int64
			var columns [numFactors]int64
			for _, s := range got {
				var parts int64
				for f, p := range s.Parts {
					if p.ShareFen < 0 {
						t.Errorf("%s %s: negative share %d", s.SubDistrictCode, p.Factor, p.ShareFen)
					}
					parts += p.ShareFen
					columns[f] += p.ShareFen
				}
				if parts != s.TotalFen {
					t.Errorf("%s: parts sum to %d, want total %d", s.SubDistrictCode, parts, s.TotalFen)
				}
				total += s.TotalFen
			}
			if total != tt.pool {
				t.Errorf("total: got %d, want pool %d", total, tt.pool)
			}
			if columns != tt.wantFactorPools {
				t.Errorf("factor pools: got %v, want %v", columns, tt.wantFactorPools)
			}
		})
	}

	t.Run("one fen goes to the most populous", func(t *testing.T) {
		subs := fifteen()
		got, err := AllocateByFactors(1, subs, w)
		if err != nil {
			t.Fatal(err)
		}
		// With 1 fen every remainder is the value itself (mod the total),
		// so the largest population wins.
		best := subs[0]
		for _, s := range subs {
			if s.Population > best.Population {
				best = s
			}
		}
		for _, s := range got {
			want := int64(0)
			if s.SubDistrictCode == best.Code {
				want = 1
			}
			if s.TotalFen != want {
				t.Errorf("%s: got %d, want %d", s.SubDistrictCode, s.TotalFen, want)
			}
		}
	})

	t.Run("a weighted factor without data is refused, not split equally", func(t *testing.T) {
		// Issue 23 item 6: 40 % of a pool went equally to every sub-district.
		subs := fifteen()
		for i := range subs {
			subs[i].TaxGrowthPerMille = -10
		}
		_, err := AllocateByFactors(100_000_000, subs, w)
		if minsheng.ErrorCode(err) != minsheng.EINVALID || minsheng.ErrorFields(err)["missing.tax_growth"] == "" || !strings.Contains(minsheng.ErrorMessage(err), "税源增长激励") {
			t.Fatalf("got %v (%v), want EINVALID naming 税源增长激励", err, minsheng.ErrorFields(err))
		}
		// Excluded and renormalised: the other factors share 10000 bp in
		// proportion (3000:1500:2000:1500:1000 of 9000), the pool still
		// adds up exactly.
		without, err := w.Without([]string{FactorTaxGrowth})
		if err != nil {
			t.Fatal(err)
		}
		if got := without.bp(); got != [numFactors]int64{3_333, 1_667, 2_222, 1_667, 1_111, 0} {
			t.Errorf("renormalised bp = %v", got)
		}
		got, err := AllocateByFactors(100_000_001, subs, without)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, s := range got {
			sum += s.TotalFen
			if s.Parts[facTaxGrowth].ShareFen != 0 {
				t.Errorf("%s: tax growth part %d, want 0", s.SubDistrictCode, s.Parts[facTaxGrowth].ShareFen)
			}
		}
		if sum != 100_000_001 {
			t.Errorf("shares sum to %d, want the pool", sum)
		}
		if _, err := (FactorWeights{TaxGrowthBP: BasisPoints, TaxGrowthCapPerMille: 1}).Without([]string{FactorTaxGrowth}); minsheng.ErrorCode(err) != minsheng.EINVALID {
			t.Errorf("nothing left: %v, want EINVALID", err)
		}
	})
}

func TestWeightsMessagesInPercent(t *testing.T) {
	w := DefaultFactorWeights()
	w.PopulationBP += 4_000
	err := w.Validate()
	if got := minsheng.ErrorFields(err)["weights"]; got != "各因素权重之和应为 100%，现为 140%" {
		t.Errorf("got %q", got)
	}
	for bp, want := range map[int64]string{14_000: "140%", 1_250: "12.5%", 1: "0.01%", 0: "0%", 10_005: "100.05%"} {
		if got := Percent(bp); got != want {
			t.Errorf("Percent(%d) = %q, want %q", bp, got, want)
		}
	}
}

func TestAllocateByFactorsInvalid(t *testing.T) {
	tests := []struct {
		name      string
		pool      int64
		subs      []SubDistrictFactors
		mutate    func(*FactorWeights)
		wantField string
	}{
		{"weights sum to 9999", 100, threeSubs, func(w *FactorWeights) { w.AreaBP-- }, "weights"},
		{"negative weight", 100, threeSubs, func(w *FactorWeights) { w.AreaBP = -1; w.PopulationBP += 2001 }, "area_bp"},
		{"tax weight without cap", 100, threeSubs, func(w *FactorWeights) { w.TaxGrowthCapPerMille = 0 }, "tax_growth_cap_per_mille"},
		{"negative pool", -1, threeSubs, nil, "pool_fen"},
		{"pool too large", minsheng.MaxAmountFen + 1, threeSubs, nil, "pool_fen"},
		{"no sub-districts", 100, nil, nil, "sub_districts"},
		{"duplicate code", 100, append([]SubDistrictFactors{threeSubs[1]}, threeSubs...), nil, "sub_districts"},
		{"negative population", 100, []SubDistrictFactors{{Code: "A", Population: -1}}, nil, "sub_districts[A].population"},
		{"performance too high", 100, []SubDistrictFactors{{Code: "A", PerformancePerMille: 10_001}}, nil, "sub_districts[A].performance_per_mille"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := threeWeights
			if tt.mutate != nil {
				tt.mutate(&w)
			}
			_, err := AllocateByFactors(tt.pool, tt.subs, w)
			assertInvalid(t, err, tt.wantField)
		})
	}
}

func TestCompareScenarios(t *testing.T) {
	// A is the hand-computed example above: 258335, 311667, 429999.
	// B puts everything on population, 1:2:3 of 1000001 fen:
	// 166666.83, 333333.67, 500000.5 → floors 999999, 2 fen left to A (.83)
	// and B (.67): 166667, 333334, 500000.
	b := FactorWeights{PopulationBP: 10_000}
	got, err := CompareScenarios(1_000_001, threeSubs, threeWeights, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []ScenarioRow{
		{SubDistrictCode: "A", AFen: 258_335, BFen: 166_667, DiffFen: -91_668},
		{SubDistrictCode: "B", AFen: 311_667, BFen: 333_334, DiffFen: 21_667},
		{SubDistrictCode: "C", AFen: 429_999, BFen: 500_000, DiffFen: 70_001},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	t.Run("invalid B", func(t *testing.T) {
		_, err := CompareScenarios(1, threeSubs, threeWeights, FactorWeights{})
		assertInvalid(t, err, "weights")
	})
}
