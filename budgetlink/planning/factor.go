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
	PoolFen    int64         `json:"pool_fen"`
	FiscalYear int           `json:"fiscal_year"`
	BasisYear  int           `json:"basis_year"`
	AsOf       time.Time     `json:"as_of"`
	Inputs     []FactorInput `json:"inputs"`
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
	if err := checkYear(req.FiscalYear); err != nil {
		return FactorReport{}, err
	}
	w := allocation.DefaultFactorWeights()
	if req.Weights != nil {
		w = *req.Weights
	}
	if err := w.Validate(); err != nil {
		return FactorReport{}, err
	}
	if req.CompareWeights != nil {
		if err := req.CompareWeights.Validate(); err != nil {
			return FactorReport{}, prefixFields(err, "compare_weights.")
		}
	}
	for code, g := range req.TaxGrowthPerMille {
		if _, err := s.org.SubDistrict(code); err != nil {
			return FactorReport{}, minsheng.Invalid("街道不存在", map[string]string{"tax_growth_per_mille." + code: "未知街道"})
		}
		if g < -1_000_000 || g > 1_000_000 {
			return FactorReport{}, minsheng.Invalid("税源增长率无效", map[string]string{"tax_growth_per_mille." + code: "应在-1000000至1000000‰之间"})
		}
	}
	if err := minsheng.CheckFen("pool_fen", req.PoolFen); err != nil {
		return FactorReport{}, err
	}

	asOf := s.now()
	basis := req.FiscalYear - 1
	inputs, err := s.factorInputs(ctx, p, basis, req.TaxGrowthPerMille, asOf)
	if err != nil {
		return FactorReport{}, err
	}
	subs := make([]allocation.SubDistrictFactors, len(inputs))
	for i := range inputs {
		subs[i] = inputs[i].SubDistrictFactors
	}
	shares, err := allocation.AllocateByFactors(req.PoolFen, subs, w)
	if err != nil {
		return FactorReport{}, err
	}
	rep := FactorReport{PoolFen: req.PoolFen, FiscalYear: req.FiscalYear, BasisYear: basis, AsOf: asOf, Inputs: inputs,
		FactorScenario: FactorScenario{Weights: w, Shares: s.named(shares)}}
	if req.CompareWeights != nil {
		b, err := allocation.AllocateByFactors(req.PoolFen, subs, *req.CompareWeights)
		if err != nil {
			return FactorReport{}, err
		}
		rows, err := allocation.CompareScenarios(req.PoolFen, subs, w, *req.CompareWeights)
		if err != nil {
			return FactorReport{}, err
		}
		rep.Compare = &FactorScenario{Weights: *req.CompareWeights, Shares: s.named(b)}
		rep.Comparison = rows
	}
	return rep, nil
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
func (s *Service) factorInputs(ctx context.Context, p auth.Principal, basis int, growth map[string]int64, asOf time.Time) ([]FactorInput, error) {
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
		return nil, fmt.Errorf("planning: unable to read cases: %w", err)
	}

	// Execution: the basis year's lines, from the ledger, in one query
	// (paging re-read every line of the year per page).
	lines, err := s.ledger.LinesForReports(ctx, p, basis, "")
	if err != nil {
		return nil, err
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
	}
	return inputs, nil
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
