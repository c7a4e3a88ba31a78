package allocation

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"minsheng"
)

// Case statuses the rates need to recognise; every other status counts as
// neither resolved nor stalled-exempt.
const (
	StatusCompleted = "completed"
	StatusClosed    = "closed"
)

// Resident verdicts (居民评价) as recorded on a case; "" means not rated.
const (
	VerdictSatisfied          = "satisfied"           // 满意
	VerdictBasicallySatisfied = "basically_satisfied" // 基本满意
	VerdictDissatisfied       = "dissatisfied"        // 不满意
)

// ResponseWindow is how soon after filing a case must be accepted to count
// as responded (12345 接诉即办).
const ResponseWindow = 24 * time.Hour

// CaseFact is what the rates and the completion report need of one case.
type CaseFact struct {
	CaseID          string
	SubDistrictCode string
	CommunityCode   string
	FiledAt         time.Time
	// AcceptedAt and CompletedAt are nil until it happens.
	AcceptedAt  *time.Time
	CompletedAt *time.Time
	Status      string
	// Verdict is the latest verdict, one of the Verdict constants or ""
	// when not rated.
	Verdict string
	// FirstVerdict is the first verdict the resident gave; "" means the
	// same as Verdict (a case rated once, or one whose history predates
	// the record of every verdict).
	FirstVerdict string
	SpentFen     int64
	// Funded marks a case that got money from a budget line.
	Funded bool
	// DeadlineAt is when a funded case should be completed; zero if none.
	DeadlineAt time.Time
}

func (c *CaseFact) resolved() bool {
	return c.Status == StatusCompleted || c.Status == StatusClosed
}

// Rate is an exact fraction, kept as counts so a report can show "45/50"
// beside the per-mille figure and so rates add up across units.
type Rate struct {
	Num int64 `json:"num"`
	Den int64 `json:"den"`
}

// PerMille returns Num/Den in per-mille rounded half up (2/3 → 667), or 0
// when Den is 0; check Known first where 0 would mislead.
func (r Rate) PerMille() int64 {
	if r.Den <= 0 {
		return 0
	}
	return divRoundHalfUp(r.Num*1000, r.Den)
}

// Known reports whether the rate has a denominator, i.e. whether there was
// anything to measure.
func (r Rate) Known() bool { return r.Den > 0 }

// divRoundHalfUp returns n/d rounded half up, for n ≥ 0, d > 0, without
// overflowing where n+d/2 would.
func divRoundHalfUp(n, d int64) int64 {
	q, rem := n/d, n%d
	if rem >= d-rem {
		q++
	}
	return q
}

// Rates are the three 12345 rates of one unit over one period.
//
// A case belongs to the period when period.From ≤ filed_at < period.To.
// Over the cases of the period:
//
//	响应率 response     = accepted within 24 h of filing
//	                      / (filed − not yet accepted and filed less than 24 h before asOf)
//	解决率 resolution   = accepted and resolved (status completed or closed) / accepted
//	满意率 satisfaction = cases whose latest verdict is 满意 or 基本满意
//	                      / cases with at least one verdict
//	一次满意率 first_satisfaction
//	                    = cases whose first verdict was 满意 or 基本满意
//	                      / cases with at least one verdict
//
// 满意率 is the final result after any rework (a 不满意 reopens the case and
// a later verdict replaces it); 一次满意率 shows how often the work satisfied
// the resident the first time, so rework cannot hide behind a good final
// figure.
//
// "Accepted within 24 h" means accepted_at − filed_at ≤ 24 h. A case not yet
// accepted whose 24 hours are not over at asOf is left out of the response
// denominator: it can still be answered in time, and counting it would make
// a unit's rate drop every evening and recover every morning. Once its 24
// hours pass unanswered it counts against the unit. Per-mille figures are
// rounded half up; a rate with no denominator is shown as "—" (Known false).
type Rates struct {
	Response          Rate `json:"response"`
	Resolution        Rate `json:"resolution"`
	Satisfaction      Rate `json:"satisfaction"`
	FirstSatisfaction Rate `json:"first_satisfaction"`
}

func (r *Rates) add(o Rates) {
	r.Response.Num += o.Response.Num
	r.Response.Den += o.Response.Den
	r.Resolution.Num += o.Resolution.Num
	r.Resolution.Den += o.Resolution.Den
	r.Satisfaction.Num += o.Satisfaction.Num
	r.Satisfaction.Den += o.Satisfaction.Den
	r.FirstSatisfaction.Num += o.FirstSatisfaction.Num
	r.FirstSatisfaction.Den += o.FirstSatisfaction.Den
}

// UnitRates are the rates of a sub-district (CommunityCode "") or of one of
// its communities.
type UnitRates struct {
	SubDistrictCode string `json:"sub_district_code"`
	CommunityCode   string `json:"community_code,omitempty"`
	Rates
}

// RatesReport holds the rates of a whole set of cases and of each unit in it.
type RatesReport struct {
	Total Rates `json:"total"`
	// SubDistricts are sorted by code; Communities by sub-district then
	// community code. Cases without a community count only in their
	// sub-district.
	SubDistricts []UnitRates `json:"sub_districts"`
	Communities  []UnitRates `json:"communities"`
}

// Period is the half-open interval [From, To) of filing times a report covers.
type Period struct {
	From time.Time
	To   time.Time
}

// ComputeRates computes the 12345 rates (see Rates for the formulas) of the
// cases filed in p, as of asOf, for the whole set, per sub-district and per
// community. It returns EINVALID for an empty period, a case without a
// sub-district, an unknown verdict or an acceptance before filing.
func ComputeRates(facts []CaseFact, p Period, asOf time.Time) (RatesReport, error) {
	if !p.From.Before(p.To) {
		return RatesReport{}, minsheng.Invalid("统计期间无效", map[string]string{"to": "结束时间应晚于开始时间"})
	}
	type unit struct{ sub, community string }
	bySub := map[string]*Rates{}
	byCommunity := map[unit]*Rates{}
	rep := RatesReport{SubDistricts: []UnitRates{}, Communities: []UnitRates{}} // [] rather than null in JSON
	for i := range facts {
		c := &facts[i]
		if err := c.validate(i); err != nil {
			return RatesReport{}, err
		}
		if c.FiledAt.Before(p.From) || !c.FiledAt.Before(p.To) {
			continue
		}
		r := c.rates(asOf)
		rep.Total.add(r)
		if bySub[c.SubDistrictCode] == nil {
			bySub[c.SubDistrictCode] = &Rates{}
		}
		bySub[c.SubDistrictCode].add(r)
		if c.CommunityCode != "" {
			u := unit{c.SubDistrictCode, c.CommunityCode}
			if byCommunity[u] == nil {
				byCommunity[u] = &Rates{}
			}
			byCommunity[u].add(r)
		}
	}
	for _, sub := range slices.Sorted(maps.Keys(bySub)) {
		rep.SubDistricts = append(rep.SubDistricts, UnitRates{SubDistrictCode: sub, Rates: *bySub[sub]})
	}
	units := slices.SortedFunc(maps.Keys(byCommunity), func(a, b unit) int {
		return cmp.Or(strings.Compare(a.sub, b.sub), strings.Compare(a.community, b.community))
	})
	for _, u := range units {
		rep.Communities = append(rep.Communities, UnitRates{SubDistrictCode: u.sub, CommunityCode: u.community, Rates: *byCommunity[u]})
	}
	return rep, nil
}

func (c *CaseFact) validate(i int) error {
	field := func(name string) string { return fmt.Sprintf("cases[%d].%s", i, name) }
	switch {
	case c.SubDistrictCode == "":
		return minsheng.Invalid("案件缺少街道", map[string]string{field("sub_district_code"): "必填"})
	case c.AcceptedAt != nil && c.AcceptedAt.Before(c.FiledAt):
		return minsheng.Invalid("受理时间早于登记时间", map[string]string{field("accepted_at"): "不能早于登记时间"})
	}
	for _, v := range [...]struct{ name, v string }{{"verdict", c.Verdict}, {"first_verdict", c.FirstVerdict}} {
		switch v.v {
		case "", VerdictSatisfied, VerdictBasicallySatisfied, VerdictDissatisfied:
		default:
			return minsheng.Invalid("评价结果无效", map[string]string{field(v.name): "未知评价：" + v.v})
		}
	}
	return nil
}

func satisfied(verdict string) bool {
	return verdict == VerdictSatisfied || verdict == VerdictBasicallySatisfied
}

// rates is one case's contribution (each count 0 or 1) to its unit's rates.
func (c *CaseFact) rates(asOf time.Time) Rates {
	var r Rates
	if c.AcceptedAt != nil {
		r.Response.Den = 1
		if c.AcceptedAt.Sub(c.FiledAt) <= ResponseWindow {
			r.Response.Num = 1
		}
		r.Resolution.Den = 1
		if c.resolved() {
			r.Resolution.Num = 1
		}
	} else if asOf.Sub(c.FiledAt) >= ResponseWindow {
		r.Response.Den = 1 // the window is over, unanswered
	}
	first := c.FirstVerdict
	if first == "" {
		first = c.Verdict
	}
	if first != "" {
		// Rated at least once: in both satisfaction denominators.
		r.Satisfaction.Den, r.FirstSatisfaction.Den = 1, 1
		last := c.Verdict
		if last == "" {
			last = first
		}
		if satisfied(last) {
			r.Satisfaction.Num = 1
		}
		if satisfied(first) {
			r.FirstSatisfaction.Num = 1
		}
	}
	return r
}

// NeutralPerformance is the coefficient of a sub-district with nothing to
// judge it by: no case, no rating, no budget.
const NeutralPerformance int64 = 1000

// PerformanceCoefficient turns last year's rates and budget execution (spent
// over budget) into the per-mille coefficient of the factor allocation, from
// 800 (everything at 0) to 1200 (everything at 100%), so performance moves a
// sub-district's performance part by at most ±20% around the neutral 1000.
// It is a weighted mean over the figures that were measured:
//
//	coefficient = 800 + round_half_up(400 × Σ wᵢ × pmᵢ / (1000 × Σ wᵢ))
//
// with weights 2 (response), 3 (resolution), 3 (satisfaction) and 2
// (execution), the sums running over the parts whose denominator is not 0.
// With all four measured this is 800 + (2×响应‰ + 3×解决‰ + 3×满意‰ + 2×执行‰)/25.
// Resolution and satisfaction weigh most because they are what residents
// feel. A figure with nothing to measure is left out rather than counted as
// full marks, and with nothing measured at all the coefficient is the
// neutral 1000: no data is neither merit nor fault. Each figure is clamped
// to 0..1000‰, since spending more than the budget is no merit.
func PerformanceCoefficient(r Rates, execution Rate) int64 {
	var sum, weight int64
	for _, p := range []struct {
		w int64
		r Rate
	}{{2, r.Response}, {3, r.Resolution}, {3, r.Satisfaction}, {2, execution}} {
		if !p.r.Known() {
			continue
		}
		sum += p.w * clamp(p.r.PerMille(), 0, 1000)
		weight += p.w
	}
	if weight == 0 {
		return NeutralPerformance
	}
	return 800 + divRoundHalfUp(400*sum, 1000*weight)
}

// StatusCount is how many funded cases are in one status and what they spent.
type StatusCount struct {
	Status   string `json:"status"`
	Cases    int64  `json:"cases"`
	SpentFen int64  `json:"spent_fen"`
}

// StalledCase is a funded case past its deadline and not completed, which
// staff should chase (事中评审).
type StalledCase struct {
	CaseID          string    `json:"case_id"`
	SubDistrictCode string    `json:"sub_district_code"`
	CommunityCode   string    `json:"community_code"`
	DeadlineAt      time.Time `json:"deadline_at"`
	// DaysOverdue counts whole days past the deadline at the report's asOf.
	DaysOverdue int64 `json:"days_overdue"`
}

// CompletionReport describes how funded cases are being carried out (事后评审).
// Unfunded cases are not part of it.
type CompletionReport struct {
	Funded int64 `json:"funded"`
	// ByStatus is sorted by status.
	ByStatus []StatusCount `json:"by_status"`
	// Resolved counts funded cases completed or closed.
	Resolved int64 `json:"resolved"`
	// CompletionRate is Resolved / Funded.
	CompletionRate Rate `json:"completion_rate"`
	// Stalled are sorted by deadline, then case ID.
	Stalled []StalledCase `json:"stalled"`
	// SpentFen is spent on all funded cases, finished or not.
	SpentFen int64 `json:"spent_fen"`
	// CostPerResolvedFen is the full cost of a resolved case: SpentFen /
	// Resolved rounded half up, so money sunk into unfinished cases raises
	// it; 0 when nothing is resolved.
	CostPerResolvedFen int64 `json:"cost_per_resolved_fen"`
}

// Completion reports on the funded cases among facts as of asOf: counts by
// status, completion rate, stalled cases (funded, deadline set and passed,
// not completed or closed) and full cost per resolved case.
func Completion(facts []CaseFact, asOf time.Time) CompletionReport {
	rep := CompletionReport{ByStatus: []StatusCount{}, Stalled: []StalledCase{}} // [] rather than null in JSON
	byStatus := map[string]*StatusCount{}
	for i := range facts {
		c := &facts[i]
		if !c.Funded {
			continue
		}
		rep.Funded++
		rep.SpentFen += c.SpentFen
		sc := byStatus[c.Status]
		if sc == nil {
			sc = &StatusCount{Status: c.Status}
			byStatus[c.Status] = sc
		}
		sc.Cases++
		sc.SpentFen += c.SpentFen
		if c.resolved() {
			rep.Resolved++
			continue
		}
		if !c.DeadlineAt.IsZero() && asOf.After(c.DeadlineAt) {
			rep.Stalled = append(rep.Stalled, StalledCase{
				CaseID: c.CaseID, SubDistrictCode: c.SubDistrictCode, CommunityCode: c.CommunityCode,
				DeadlineAt: c.DeadlineAt, DaysOverdue: int64(asOf.Sub(c.DeadlineAt) / (24 * time.Hour)),
			})
		}
	}
	for _, s := range slices.Sorted(maps.Keys(byStatus)) {
		rep.ByStatus = append(rep.ByStatus, *byStatus[s])
	}
	slices.SortFunc(rep.Stalled, func(a, b StalledCase) int {
		return cmp.Or(a.DeadlineAt.Compare(b.DeadlineAt), strings.Compare(a.CaseID, b.CaseID))
	})
	rep.CompletionRate = Rate{Num: rep.Resolved, Den: rep.Funded}
	if rep.Resolved > 0 && rep.SpentFen > 0 {
		rep.CostPerResolvedFen = divRoundHalfUp(rep.SpentFen, rep.Resolved)
	}
	return rep
}
