package planning

// Factor allocation (因素法) of a district pool across sub-districts, with
// every input gathered from the store: population, area and communities
// from the org directory, last year's case volume and 12345 rates from the
// cases, last year's budget execution from the ledger, and tax-source growth
// from the request (finance holds those figures; the platform does not).

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"minsheng"
	"minsheng/budgetlink/allocation"
	"minsheng/cases"
	"minsheng/cases/rates"
	"minsheng/internal/auth"
)

// FactorRequest asks for a factor allocation of PoolFen for FiscalYear. The
// previous year supplies the workload and performance figures.
type FactorRequest struct {
	PoolFen    int64 `json:"pool_fen"`
	FiscalYear int   `json:"fiscal_year"`
	// Weights default to allocation.DefaultFactorWeights when nil.
	Weights *allocation.FactorWeights `json:"weights"`
	// CompareWeights, when set, allocates the same pool a second way and
	// lists both side by side.
	CompareWeights *allocation.FactorWeights `json:"compare_weights,omitempty"`
	// TaxGrowthPerMille is each sub-district's tax-source growth over the
	// previous year in per-mille, by code; missing ones count as 0. The
	// weights' cap applies.
	TaxGrowthPerMille map[string]int64 `json:"tax_growth_per_mille,omitempty"`
	// Missing is finance's choice for weighted factors without data in the
	// basis year: "" (ask: the report lists them and allocates nothing),
	// MissingExclude (drop them, renormalise the other weights) or
	// MissingCurrentYear (take case volume and performance from the
	// allocation year itself).
	Missing string `json:"missing,omitempty"`
}

// Choices for factors without data (FactorRequest.Missing).
const (
	MissingExclude     = "exclude"
	MissingCurrentYear = "current_year"
)

// FactorUse says where one factor's inputs came from and how much it
// weighs after finance's choice.
type FactorUse struct {
	Factor string `json:"factor"`
	Label  string `json:"label"`
	// WeightBP is the weight asked for, UsedBP the one applied.
	WeightBP int64 `json:"weight_bp"`
	UsedBP   int64 `json:"used_bp"`
	// HasData is false when no sub-district has a value for it.
	HasData bool `json:"has_data"`
	// Source says where the values come from, in Chinese.
	Source string `json:"source"`
	// Year is the fiscal year the values were counted in (0: not a year's
	// count — the org directory or finance's figures).
	Year int `json:"year,omitempty"`
}

// FactorInput is one sub-district's inputs with where the performance
// coefficient came from.
type FactorInput struct {
	allocation.SubDistrictFactors
	Name string `json:"name"`
	// Demo is set when the org figures are illustrative (see internal/org).
	Demo bool `json:"demo"`
	// Rates are the previous year's 12345 rates as package rates counts
	// them for every screen (the coefficient uses the final satisfaction;
	// the first-time one is shown beside it); BudgetFen and SpentFen its
	// lines' budget (approved + adjustments) and spending, ExecutionPerMille
	// their ratio (null without a budget, which is then left out of the
	// performance coefficient).
	Response          rates.Rate `json:"response"`
	Resolution        rates.Rate `json:"resolution"`
	Satisfaction      rates.Rate `json:"satisfaction"`
	FirstSatisfaction rates.Rate `json:"first_satisfaction"`
	BudgetFen         int64      `json:"budget_fen"`
	SpentFen          int64      `json:"spent_fen"`
	ExecutionPerMille *int64     `json:"execution_per_mille"`
}

// FactorShare is one sub-district's amount explained factor by factor.
type FactorShare struct {
	allocation.Share
	Name string `json:"name"`
}

// FactorScenario is the allocation under one set of weights.
type FactorScenario struct {
	Weights allocation.FactorWeights `json:"weights"`
	Shares  []FactorShare            `json:"shares"`
}

// FactorReport is a factor allocation with its inputs and, when asked, a
// second scenario and the comparison of both.
type FactorReport struct {
	PoolFen    int64 `json:"pool_fen"`
	FiscalYear int   `json:"fiscal_year"`
	BasisYear  int   `json:"basis_year"`
	// Factors are the first scenario's factors, their sources and weights.
	Factors []FactorUse `json:"factors"`
	// Missing lists the weighted factors without data in the basis year;
	// NeedsChoice is set (and nothing allocated) until finance chooses
	// what to do with them; Choice is what was done.
	Missing     []string      `json:"missing"`
	NeedsChoice bool          `json:"needs_choice"`
	Choice      string        `json:"choice,omitempty"`
	AsOf        time.Time     `json:"as_of"`
	Inputs      []FactorInput `json:"inputs"`
	FactorScenario
	Compare    *FactorScenario          `json:"compare,omitempty"`
	Comparison []allocation.ScenarioRow `json:"comparison,omitempty"`
}

// AllocateByFactors distributes req.PoolFen across every sub-district of
// the district (allocation.AllocateByFactors: shares sum exactly to the
// pool, each share's parts to the share). Finance and admin only.
// Errors: EFORBIDDEN, EINVALID (pool, weights, year, unknown sub-district
// or tax growth out of range).
func (s *Service) AllocateByFactors(ctx context.Context, p auth.Principal, req FactorRequest) (FactorReport, error) {
	if err := p.RequireRole(auth.RoleFinance, auth.RoleAdmin); err != nil {
		return FactorReport{}, err
	}
	w, err := s.checkFactorRequest(req)
	if err != nil {
		return FactorReport{}, err
	}
	asOf := s.now()
	basis := req.FiscalYear - 1
	inputs, known, err := s.factorInputs(ctx, p, basis, req.TaxGrowthPerMille, asOf)
	if err != nil {
		return FactorReport{}, err
	}
	rep := FactorReport{PoolFen: req.PoolFen, FiscalYear: req.FiscalYear, BasisYear: basis, AsOf: asOf, Inputs: inputs,
		Missing: []string{}, Choice: req.Missing, FactorScenario: FactorScenario{Weights: w, Shares: []FactorShare{}}}
	years := map[string]int{allocation.FactorCases: basis, allocation.FactorPerformance: basis}
	rep.Missing = missingFactors(inputs, known, w, req.CompareWeights)
	if len(rep.Missing) > 0 && req.Missing == MissingCurrentYear {
		if known, err = s.useCurrentYear(ctx, p, req, w, inputs, known, rep.Missing, years, asOf); err != nil {
			return FactorReport{}, err
		}
	}
	rep.Factors = factorUses(w, w, inputs, known, years)
	if len(rep.Missing) > 0 && req.Missing == "" {
		rep.NeedsChoice = true
		return rep, nil
	}
	exclude := func(w allocation.FactorWeights) (allocation.FactorWeights, error) {
		if req.Missing != MissingExclude {
			return w, nil
		}
		return w.Without(rep.Missing)
	}
	used, err := exclude(w)
	if err != nil {
		return FactorReport{}, err
	}
	rep.Factors = factorUses(w, used, inputs, known, years)
	subs := make([]allocation.SubDistrictFactors, len(inputs))
	for i := range inputs {
		subs[i] = inputs[i].SubDistrictFactors
	}
	shares, err := allocation.AllocateByFactors(req.PoolFen, subs, used)
	if err != nil {
		return FactorReport{}, err
	}
	rep.FactorScenario = FactorScenario{Weights: used, Shares: s.named(shares)}
	if req.CompareWeights != nil {
		cw, err := exclude(*req.CompareWeights)
		if err != nil {
			return FactorReport{}, prefixFields(err, "compare_weights.")
		}
		b, err := allocation.AllocateByFactors(req.PoolFen, subs, cw)
		if err != nil {
			return FactorReport{}, err
		}
		rows, err := allocation.CompareScenarios(req.PoolFen, subs, used, cw)
		if err != nil {
			return FactorReport{}, err
		}
		rep.Compare = &FactorScenario{Weights: cw, Shares: s.named(b)}
		rep.Comparison = rows
	}
	return rep, nil
}

// useCurrentYear replaces the basis year's case volume and performance,
// where missing, with the allocation year's own (inputs in place, years
// noted) and refuses a factor that has no data then either.
func (s *Service) useCurrentYear(ctx context.Context, p auth.Principal, req FactorRequest, w allocation.FactorWeights,
	inputs []FactorInput, known knownData, missing []string, years map[string]int, asOf time.Time) (knownData, error) {
	current, knownNow, err := s.factorInputs(ctx, p, req.FiscalYear, req.TaxGrowthPerMille, asOf)
	if err != nil {
		return known, err
	}
	cases, perf := slices.Contains(missing, allocation.FactorCases), slices.Contains(missing, allocation.FactorPerformance)
	for i := range inputs {
		in, c := &inputs[i], current[i]
		if cases {
			in.Cases = c.Cases
		}
		if perf {
			in.PerformancePerMille, in.Response, in.Resolution, in.Satisfaction, in.FirstSatisfaction = c.PerformancePerMille, c.Response, c.Resolution, c.Satisfaction, c.FirstSatisfaction
			in.BudgetFen, in.SpentFen, in.ExecutionPerMille = c.BudgetFen, c.SpentFen, c.ExecutionPerMille
		}
	}
	if cases {
		years[allocation.FactorCases] = req.FiscalYear
	}
	if perf {
		years[allocation.FactorPerformance] = req.FiscalYear
		known.performance = knownNow.performance
	}
	if still := missingFactors(inputs, known, w, req.CompareWeights); len(still) > 0 {
		labels := make([]string, len(still))
		for i, f := range still {
			labels[i] = allocation.FactorLabelOf(f)
		}
		return known, minsheng.Invalid(fmt.Sprintf("%d 年度也没有「%s」的数据，请选择剔除", req.FiscalYear, strings.Join(labels, "」「")),
			map[string]string{"missing": "剔除（exclude）"})
	}
	return known, nil
}

// checkFactorRequest validates req and returns its weights (the defaults
// when none are given).
func (s *Service) checkFactorRequest(req FactorRequest) (allocation.FactorWeights, error) {
	if err := checkYear(req.FiscalYear); err != nil {
		return allocation.FactorWeights{}, err
	}
	w := allocation.DefaultFactorWeights()
	if req.Weights != nil {
		w = *req.Weights
	}
	if err := w.Validate(); err != nil {
		return allocation.FactorWeights{}, err
	}
	if req.CompareWeights != nil {
		if err := req.CompareWeights.Validate(); err != nil {
			return allocation.FactorWeights{}, prefixFields(err, "compare_weights.")
		}
	}
	for code, g := range req.TaxGrowthPerMille {
		if _, err := s.org.SubDistrict(code); err != nil {
			return allocation.FactorWeights{}, minsheng.Invalid("街道不存在", map[string]string{"tax_growth_per_mille." + code: "未知街道"})
		}
		if g < -1_000_000 || g > 1_000_000 {
			return allocation.FactorWeights{}, minsheng.Invalid("税源增长率无效", map[string]string{"tax_growth_per_mille." + code: "应在-1000000至1000000‰之间"})
		}
	}
	if err := minsheng.CheckFen("pool_fen", req.PoolFen); err != nil {
		return allocation.FactorWeights{}, err
	}

	switch req.Missing {
	case "", MissingExclude, MissingCurrentYear:
	default:
		return allocation.FactorWeights{}, minsheng.Invalid("无数据因素的处理方式无效", map[string]string{"missing": "应为 exclude（剔除并重新分配权重）或 current_year（改用本年度数据）"})
	}

	return w, nil
}

// knownData says which year-counted inputs any sub-district has.
type knownData struct {
	// performance: some rate or execution was measured (else every
	// coefficient is the neutral one, an equal split in disguise).
	performance bool
}

// missingFactors are the factors weighted in w (or in compare) that no
// sub-district has data for, in the order parts appear.
func missingFactors(inputs []FactorInput, known knownData, w allocation.FactorWeights, compare *allocation.FactorWeights) []string {
	weighted := func(f string) bool {
		ok := factorBP(w, f) > 0
		if compare != nil {
			ok = ok || factorBP(*compare, f) > 0
		}
		return ok
	}
	out := []string{}
	for _, l := range allocation.FactorLabels() {
		if weighted(l.Factor) && !hasData(l.Factor, inputs, known, w.TaxGrowthCapPerMille) {
			out = append(out, l.Factor)
		}
	}
	return out
}

// hasData reports whether some sub-district has a value for factor.
func hasData(factor string, inputs []FactorInput, known knownData, taxCap int64) bool {
	if factor == allocation.FactorPerformance {
		return known.performance
	}
	for _, in := range inputs {
		var v int64
		switch factor {
		case allocation.FactorPopulation:
			v = in.Population
		case allocation.FactorArea:
			v = in.AreaM2
		case allocation.FactorCases:
			v = in.Cases
		case allocation.FactorCommunities:
			v = in.Communities
		case allocation.FactorTaxGrowth:
			v = min(max(in.TaxGrowthPerMille, 0), taxCap)
		}
		if v > 0 {
			return true
		}
	}
	return false
}

// factorBP is a factor's weight in w.
func factorBP(w allocation.FactorWeights, factor string) int64 {
	switch factor {
	case allocation.FactorPopulation:
		return w.PopulationBP
	case allocation.FactorArea:
		return w.AreaBP
	case allocation.FactorCases:
		return w.CasesBP
	case allocation.FactorCommunities:
		return w.CommunitiesBP
	case allocation.FactorPerformance:
		return w.PerformanceBP
	default:
		return w.TaxGrowthBP
	}
}

// factorUses describes each factor: its label, weights asked and used,
// whether it has data, where its values come from and of which year.
func factorUses(asked, used allocation.FactorWeights, inputs []FactorInput, known knownData, years map[string]int) []FactorUse {
	sources := map[string]string{
		allocation.FactorPopulation:  "区划数据（常住人口）",
		allocation.FactorArea:        "区划数据（辖区面积）",
		allocation.FactorCases:       "诉求受理量（不含合并件）",
		allocation.FactorCommunities: "区划数据（社区数）",
		allocation.FactorPerformance: "12345 三率与预算执行率",
		allocation.FactorTaxGrowth:   "财政填报的税源增长率",
	}
	var out []FactorUse
	for _, l := range allocation.FactorLabels() {
		out = append(out, FactorUse{Factor: l.Factor, Label: l.Label, WeightBP: factorBP(asked, l.Factor), UsedBP: factorBP(used, l.Factor),
			HasData: hasData(l.Factor, inputs, known, asked.TaxGrowthCapPerMille), Source: sources[l.Factor], Year: years[l.Factor]})
	}
	return out
}

// FactorForm is what the 因素法 form shows before any allocation: the
// factors with their one label each and the default weights.
type FactorForm struct {
	Factors        []allocation.FactorLabel `json:"factors"`
	DefaultWeights allocation.FactorWeights `json:"default_weights"`
}

// FactorFormOf returns the form's factors and defaults. Finance and admin
// only. Errors: EFORBIDDEN.
func (s *Service) FactorFormOf(p auth.Principal) (FactorForm, error) {
	if err := p.RequireRole(auth.RoleFinance, auth.RoleAdmin); err != nil {
		return FactorForm{}, err
	}
	return FactorForm{Factors: allocation.FactorLabels(), DefaultWeights: allocation.DefaultFactorWeights()}, nil
}

func (s *Service) named(shares []allocation.Share) []FactorShare {
	out := make([]FactorShare, len(shares))
	for i, sh := range shares {
		out[i] = FactorShare{Share: sh, Name: s.subName(sh.SubDistrictCode)}
	}
	return out
}

// factorInputs gathers every sub-district's factors for the basis year,
// sorted by code.
func (s *Service) factorInputs(ctx context.Context, p auth.Principal, basis int, growth map[string]int64, asOf time.Time) ([]FactorInput, knownData, error) {
	var known knownData
	district := s.org.District()
	byCode := make(map[string]*FactorInput, len(district.SubDistricts))
	inputs := make([]FactorInput, len(district.SubDistricts))
	for i, sd := range district.SubDistricts {
		inputs[i] = FactorInput{
			SubDistrictFactors: allocation.SubDistrictFactors{
				Code:       sd.Code,
				Population: sd.Population,
				// 0.001 km² is 1,000 m².
				AreaM2:            sd.AreaKM2Milli * 1000,
				Communities:       int64(len(sd.Communities)),
				TaxGrowthPerMille: growth[sd.Code],
			},
			Name: sd.Name,
			Demo: sd.Demo,
		}
	}
	slices.SortFunc(inputs, func(a, b FactorInput) int { return strings.Compare(a.Code, b.Code) })
	for i := range inputs {
		byCode[inputs[i].Code] = &inputs[i]
	}

	// Workload and rates: the cases filed in the basis year, counted by
	// the one definition the board and the reports use.
	from, to := s.yearStart(basis), s.yearStart(basis+1)
	tally := rates.NewTally(rates.NewPeriod(from, to, asOf))
	err := s.cases.EachCaseFacts(ctx, cases.Filter{FiledFrom: from, FiledTo: to}, func(c *cases.Case) error {
		in := byCode[c.Location.SubDistrict]
		if in == nil || c.FiledAt.Before(from) || !c.FiledAt.Before(to) {
			return nil
		}
		if c.Status != cases.StatusMerged {
			in.Cases++
		}
		tally.Add(c)
		return nil
	})
	if err != nil {
		return nil, known, fmt.Errorf("planning: unable to read cases: %w", err)
	}

	// Execution: the basis year's lines, from the ledger, in one query
	// (paging re-read every line of the year per page).
	lines, err := s.ledger.LinesForReports(ctx, p, basis, "")
	if err != nil {
		return nil, known, err
	}
	for _, l := range lines {
		if in := byCode[l.SubDistrict]; in != nil {
			in.BudgetFen += l.BudgetFen()
			in.SpentFen += l.SpentFen
		}
	}

	for i := range inputs {
		in := &inputs[i]
		r := tally.SubDistrict(in.Code).Rates()
		in.Response, in.Resolution, in.Satisfaction, in.FirstSatisfaction = r.Response, r.Resolution, r.Satisfaction, r.FirstSatisfaction
		// Nothing budgeted: execution is not measured (Den 0) and is left
		// out of the coefficient rather than counted as full marks.
		execution := allocation.Rate{Num: in.SpentFen, Den: max(in.BudgetFen, 0)}
		if execution.Known() {
			pm := execution.PerMille()
			in.ExecutionPerMille = &pm
		}
		in.PerformancePerMille = allocation.PerformanceCoefficient(r, execution)
		known.performance = known.performance || execution.Known() || r.Response.Known() || r.Resolution.Known() || r.Satisfaction.Known()
	}
	return inputs, known, nil
}

// prefixFields returns err with its field names prefixed, so the console
// can tell the second scenario's weights from the first's.
func prefixFields(err error, prefix string) error {
	fields := minsheng.ErrorFields(err)
	if len(fields) == 0 {
		return err
	}
	out := make(map[string]string, len(fields))
	for k, v := range fields {
		out[prefix+k] = v
	}
	return minsheng.Invalid(minsheng.ErrorMessage(err), out)
}
