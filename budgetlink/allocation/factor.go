package allocation

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"minsheng"
)

// Factor names of a factor-allocation part (因素法), stable identifiers for
// the API and UI, in the order parts appear.
const (
	FactorPopulation  = "population"
	FactorArea        = "area"
	FactorCases       = "cases"
	FactorCommunities = "communities"
	FactorPerformance = "performance"
	FactorTaxGrowth   = "tax_growth"
)

var factorNames = [numFactors]struct{ factor, label string }{
	{FactorPopulation, "常住人口"},
	{FactorArea, "辖区面积"},
	{FactorCases, "诉求案件量"},
	{FactorCommunities, "社区数量"},
	{FactorPerformance, "绩效系数"},
	{FactorTaxGrowth, "税源增长激励"},
}

// FactorLabel names one factor for people: the one label of the form and
// the result (and its weight's JSON field).
type FactorLabel struct {
	Factor      string `json:"factor"`
	Label       string `json:"label"`
	WeightField string `json:"weight_field"`
}

// FactorLabels lists the factors in the order parts appear.
func FactorLabels() []FactorLabel {
	out := make([]FactorLabel, numFactors)
	for i, f := range factorNames {
		out[i] = FactorLabel{Factor: f.factor, Label: f.label, WeightField: f.factor + "_bp"}
	}
	return out
}

// FactorLabelOf is a factor's label, the factor itself when unknown.
func FactorLabelOf(factor string) string {
	for _, f := range factorNames {
		if f.factor == factor {
			return f.label
		}
	}
	return factor
}

const (
	facPopulation = iota
	facArea
	facCases
	facCommunities
	facPerformance
	facTaxGrowth
	numFactors
)

// Bounds of factor inputs; anything beyond them is a data error.
const (
	// MaxFactorValue bounds population, area (m²), cases and communities.
	MaxFactorValue int64 = 1_000_000_000_000
	// MaxSubDistricts bounds one factor allocation.
	MaxSubDistricts = 10_000
	// BasisPoints is what factor weights must sum to (100%).
	BasisPoints int64 = 10_000
)

// SubDistrictFactors are one sub-district's factor values for the year.
type SubDistrictFactors struct {
	Code string `json:"code"`
	// Population is resident population (常住人口).
	Population int64 `json:"population"`
	// AreaM2 is the area under jurisdiction in square metres.
	AreaM2 int64 `json:"area_m2"`
	// Cases and Communities measure workload: last year's case volume and
	// the number of communities served.
	Cases       int64 `json:"cases"`
	Communities int64 `json:"communities"`
	// PerformancePerMille is last year's performance coefficient (see
	// PerformanceCoefficient), 1000 = neutral.
	PerformancePerMille int64 `json:"performance_per_mille"`
	// TaxGrowthPerMille is tax-source growth over last year in per-mille;
	// a decline counts as 0 and growth above the weights' cap as the cap.
	TaxGrowthPerMille int64 `json:"tax_growth_per_mille"`
}

// FactorWeights split a district pool between factors, in basis points
// summing to 10000, and cap the tax-growth incentive. Finance sets them per
// year and can compare two sets with CompareScenarios before deciding.
type FactorWeights struct {
	PopulationBP  int64 `json:"population_bp"`
	AreaBP        int64 `json:"area_bp"`
	CasesBP       int64 `json:"cases_bp"`
	CommunitiesBP int64 `json:"communities_bp"`
	PerformanceBP int64 `json:"performance_bp"`
	TaxGrowthBP   int64 `json:"tax_growth_bp"`
	// TaxGrowthCapPerMille caps growth so one sub-district's windfall does
	// not take the whole incentive.
	TaxGrowthCapPerMille int64 `json:"tax_growth_cap_per_mille"`
}

// DefaultFactorWeights give population and workload the most weight, as the
// district's reform did ("按工作量、管辖面积、服务人口"), with a tenth each for
// performance and tax-source growth capped at 20%.
func DefaultFactorWeights() FactorWeights {
	return FactorWeights{
		PopulationBP:         3_000,
		AreaBP:               1_500,
		CasesBP:              2_000,
		CommunitiesBP:        1_500,
		PerformanceBP:        1_000,
		TaxGrowthBP:          1_000,
		TaxGrowthCapPerMille: 200,
	}
}

func (w FactorWeights) bp() [numFactors]int64 {
	return [numFactors]int64{w.PopulationBP, w.AreaBP, w.CasesBP, w.CommunitiesBP, w.PerformanceBP, w.TaxGrowthBP}
}

// Validate reports every bad weight at once, keyed by JSON name; the weights
// must be non-negative and sum to exactly 10000 basis points.
func (w FactorWeights) Validate() error {
	fields := map[string]string{}
	var sum int64
	for i, v := range w.bp() {
		if v < 0 || v > BasisPoints {
			fields[factorNames[i].factor+"_bp"] = factorNames[i].label + "的权重应在 0% 至 100% 之间"
		}
		sum += v
	}
	if len(fields) == 0 && sum != BasisPoints {
		fields["weights"] = fmt.Sprintf("各因素权重之和应为 100%%，现为 %s", Percent(sum))
	}
	if w.TaxGrowthCapPerMille < 0 || w.TaxGrowthCapPerMille > 1_000_000 {
		fields["tax_growth_cap_per_mille"] = "上限应在0至1000000之间"
	} else if w.TaxGrowthBP > 0 && w.TaxGrowthCapPerMille == 0 {
		fields["tax_growth_cap_per_mille"] = "设置了税源增长激励权重时必须大于0"
	}
	if len(fields) > 0 {
		return minsheng.Invalid("因素法权重无效", fields)
	}
	return nil
}

// Percent writes basis points as a percentage: 14000 → "140%", 1250 →
// "12.5%", 1 → "0.01%".
func Percent(bp int64) string {
	sign := ""
	if bp < 0 {
		sign, bp = "-", -bp
	}
	frac := strings.TrimRight(fmt.Sprintf("%02d", bp%100), "0")
	if frac != "" {
		frac = "." + frac
	}
	return fmt.Sprintf("%s%d%s%%", sign, bp/100, frac)
}

// Without returns the weights with the given factors dropped and the
// 10000 basis points renormalised over the rest in proportion to their
// weights (the largest-remainder rule of the allocation itself, ties to
// the factor listed first). EINVALID when no weighted factor is left.
func (w FactorWeights) Without(factors []string) (FactorWeights, error) {
	bp := w.bp()
	for i, f := range factorNames {
		if slices.Contains(factors, f.factor) {
			bp[i] = 0
		}
	}
	var left int64
	for _, v := range bp {
		left += v
	}
	if left == 0 {
		return w, minsheng.Invalid("剔除无数据的因素后没有可用的因素", map[string]string{"missing": "请改用本年度数据或调整权重"})
	}
	n := apportion(uint64(BasisPoints), bp[:])
	out := w
	out.PopulationBP, out.AreaBP, out.CasesBP, out.CommunitiesBP, out.PerformanceBP, out.TaxGrowthBP = n[0], n[1], n[2], n[3], n[4], n[5]
	return out, nil
}

// FactorPart is one factor's contribution to a sub-district's share.
type FactorPart struct {
	Factor string `json:"factor"`
	Label  string `json:"label"`
	// ValueInput is the sub-district's value for the factor as used (the
	// tax growth after the floor at 0 and the cap).
	ValueInput int64 `json:"value_input"`
	ShareFen   int64 `json:"share_fen"`
}

// Share is one sub-district's amount with its parts; the parts sum to TotalFen.
type Share struct {
	SubDistrictCode string       `json:"sub_district_code"`
	TotalFen        int64        `json:"total_fen"`
	Parts           []FactorPart `json:"parts"`
}

// AllocateByFactors distributes poolFen across sub-districts (因素法) and
// returns one Share per sub-district, sorted by code. The shares sum to
// poolFen exactly, and each share's parts sum to the share:
//
//  1. The pool is split between the six factors by their basis points:
//     factor pool_f = pool × bp_f / 10000.
//  2. Each factor pool is split between sub-districts in proportion to their
//     value: part_{f,s} = factor pool_f × value_{f,s} / Σ_s value_{f,s}.
//     Performance and tax growth enter as per-mille coefficients, so a
//     sub-district at 1100‰ gets 1.1 times the part of one at 1000‰. A
//     weighted factor whose every value is 0 has no data to split by: it
//     is refused (EINVALID, field "missing.<factor>") rather than split
//     equally, and the caller excludes it (Without) or finds the data.
//
// Both splits round with the largest-remainder method: everyone gets the
// floor of the exact quotient (computed in 128 bits, no float), and the fen
// left over go one each to the largest remainders, ties to the factor listed
// first in step 1 or the lower sub-district code. So every factor's column
// sums to its factor pool, which is how the table is published, and no
// sub-district's total is more than a few fen from its exact value.
//
// It returns EINVALID for bad weights, a pool outside 0..minsheng.MaxAmountFen, no
// sub-districts, a duplicate or empty code or a value out of range.
func AllocateByFactors(poolFen int64, subs []SubDistrictFactors, w FactorWeights) ([]Share, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	if err := minsheng.CheckFen("pool_fen", poolFen); err != nil {
		return nil, err
	}
	if len(subs) == 0 || len(subs) > MaxSubDistricts {
		return nil, minsheng.Invalid("街道数量无效", map[string]string{"sub_districts": fmt.Sprintf("应为1至%d个", MaxSubDistricts)})
	}
	sorted := slices.Clone(subs)
	slices.SortFunc(sorted, func(a, b SubDistrictFactors) int { return strings.Compare(a.Code, b.Code) })
	for i := range sorted {
		if err := sorted[i].validate(); err != nil {
			return nil, err
		}
		if i > 0 && sorted[i].Code == sorted[i-1].Code {
			return nil, minsheng.Invalid("街道重复", map[string]string{"sub_districts": "街道编码重复：" + sorted[i].Code})
		}
	}

	bp := w.bp()
	factorPools := apportion(uint64(poolFen), bp[:])

	shares := make([]Share, len(sorted))
	parts := make([]FactorPart, len(sorted)*numFactors)
	for s := range sorted {
		shares[s] = Share{SubDistrictCode: sorted[s].Code, Parts: parts[s*numFactors : (s+1)*numFactors : (s+1)*numFactors]}
	}
	values := make([]int64, len(sorted))
	for f := range numFactors {
		var sum int64
		for s := range sorted {
			values[s] = sorted[s].value(f, w.TaxGrowthCapPerMille)
			sum += values[s]
		}
		if sum == 0 && bp[f] > 0 {
			return nil, minsheng.Invalid(fmt.Sprintf("因素「%s」没有数据，请剔除该因素或改用其他年度的数据", factorNames[f].label),
				map[string]string{"missing." + factorNames[f].factor: "无数据"})
		}
		split := apportion(uint64(factorPools[f]), values)
		for s := range sorted {
			shares[s].Parts[f] = FactorPart{Factor: factorNames[f].factor, Label: factorNames[f].label, ValueInput: values[s], ShareFen: split[s]}
			shares[s].TotalFen += split[s]
		}
	}
	return shares, nil
}

func (s *SubDistrictFactors) validate() error {
	field := func(name string) string { return fmt.Sprintf("sub_districts[%s].%s", s.Code, name) }
	if s.Code == "" {
		return minsheng.Invalid("街道缺少编码", map[string]string{"sub_districts": "街道编码必填"})
	}
	for _, v := range []struct {
		name string
		v    int64
	}{
		{"population", s.Population},
		{"area_m2", s.AreaM2},
		{"cases", s.Cases},
		{"communities", s.Communities},
	} {
		if v.v < 0 || v.v > MaxFactorValue {
			return minsheng.Invalid("因素值无效", map[string]string{field(v.name): fmt.Sprintf("应在0至%d之间", MaxFactorValue)})
		}
	}
	if s.PerformancePerMille < 0 || s.PerformancePerMille > 10_000 {
		return minsheng.Invalid("绩效系数无效", map[string]string{field("performance_per_mille"): "应在0至10000‰之间"})
	}
	if s.TaxGrowthPerMille < -1_000_000 || s.TaxGrowthPerMille > 1_000_000 {
		return minsheng.Invalid("税源增长率无效", map[string]string{field("tax_growth_per_mille"): "应在-1000000至1000000‰之间"})
	}
	return nil
}

// value is the sub-district's input to factor f as the allocation uses it.
func (s *SubDistrictFactors) value(f int, taxCap int64) int64 {
	switch f {
	case facPopulation:
		return s.Population
	case facArea:
		return s.AreaM2
	case facCases:
		return s.Cases
	case facCommunities:
		return s.Communities
	case facPerformance:
		return s.PerformancePerMille
	default:
		return clamp(s.TaxGrowthPerMille, 0, taxCap)
	}
}

// apportion splits total in proportion to weights (non-negative, bounded so
// their sum fits in int64) by the largest-remainder method, ties to the
// lower index. All-zero weights split equally. The result sums to total.
func apportion(total uint64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	if len(weights) == 0 {
		return out
	}
	var sum uint64
	for _, v := range weights {
		sum += uint64(v)
	}
	weight := func(i int) uint64 { return uint64(weights[i]) }
	if sum == 0 {
		sum = uint64(len(weights))
		weight = func(int) uint64 { return 1 }
	}
	rems := make([]uint64, len(weights))
	var given uint64
	for i := range weights {
		// total × w / sum in 128 bits; hi < sum because w ≤ sum, so Div64 cannot overflow.
		hi, lo := bits.Mul64(total, weight(i))
		q, r := bits.Div64(hi, lo, sum)
		out[i], rems[i] = int64(q), r
		given += q
	}
	// Fewer than len(weights) fen are left: each floor lost less than one.
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rems[b], rems[a]) })
	for _, i := range order[:total-given] {
		out[i]++
	}
	return out
}

// ScenarioRow compares one sub-district's amount under two sets of weights.
type ScenarioRow struct {
	SubDistrictCode string `json:"sub_district_code"`
	AFen            int64  `json:"a_fen"`
	BFen            int64  `json:"b_fen"`
	// DiffFen is BFen − AFen: what the sub-district gains by moving from A to B.
	DiffFen int64 `json:"diff_fen"`
}

// CompareScenarios allocates the same pool under weights a and b and lists
// the amounts side by side, sorted by code, so finance sees who gains and who
// loses before choosing. It returns the first validation error of either run.
func CompareScenarios(poolFen int64, subs []SubDistrictFactors, a, b FactorWeights) ([]ScenarioRow, error) {
	sa, err := AllocateByFactors(poolFen, subs, a)
	if err != nil {
		return nil, err
	}
	sb, err := AllocateByFactors(poolFen, subs, b)
	if err != nil {
		return nil, err
	}
	rows := make([]ScenarioRow, len(sa))
	for i := range sa {
		// Both runs sort by code, so row i is the same sub-district in both.
		rows[i] = ScenarioRow{SubDistrictCode: sa[i].SubDistrictCode, AFen: sa[i].TotalFen, BFen: sb[i].TotalFen, DiffFen: sb[i].TotalFen - sa[i].TotalFen}
	}
	return rows, nil
}
