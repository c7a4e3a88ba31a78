package allocation

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"minsheng/cases/rates"
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

// CaseFact is what the completion report needs of one case. The 12345
// rates are counted by package cases/rates, not here.
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
	// Funded marks a case that got money from a budget line; FundedFen is
	// what its line holds for it (reserved, or spent once spent).
	Funded    bool
	FundedFen int64
	// Number and Title name the case to people (the stalled list).
	Number, Title string
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

// NeutralPerformance is the coefficient of a sub-district with nothing to
// judge it by: no case, no rating, no budget.
const NeutralPerformance int64 = 1000

// PerformanceCoefficient turns last year's rates (as cases/rates counts
// them, the figures every screen shows) and budget execution (spent
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
func PerformanceCoefficient(r rates.Set, execution Rate) int64 {
	var sum, weight int64
	add := func(w int64, known bool, pm int64) {
		if known {
			sum += w * clamp(pm, 0, 1000)
			weight += w
		}
	}
	for _, p := range []struct {
		w int64
		r rates.Rate
	}{{2, r.Response}, {3, r.Resolution}, {3, r.Satisfaction}} {
		if p.r.Known() {
			add(p.w, true, *p.r.PerMille)
		}
	}
	add(2, execution.Known(), execution.PerMille())
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
	CaseID          string `json:"case_id"`
	Number          string `json:"number"`
	Title           string `json:"title"`
	FundedFen       int64  `json:"funded_fen"`
	SubDistrictCode string `json:"sub_district_code"`
	CommunityCode   string `json:"community_code"`
	// CommunityName is left to the caller, which knows the district.
	CommunityName string    `json:"community_name"`
	DeadlineAt    time.Time `json:"deadline_at"`
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
				CaseID: c.CaseID, Number: c.Number, Title: c.Title, FundedFen: c.FundedFen,
				SubDistrictCode: c.SubDistrictCode, CommunityCode: c.CommunityCode,
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
