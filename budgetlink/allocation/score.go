package allocation

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"time"

	"minsheng"
	"minsheng/internal/calendar"
)

// Limits that keep every sum in int64. They are far above anything a district
// sees (minsheng.MaxAmountFen bounds one need's estimate, one line's
// available money and a factor-allocation pool), so hitting one means the
// input is wrong, not large.
const (
	// MaxCount bounds every count that enters a score (households, co-signers,
	// elderly, disabled, repeat complaints).
	MaxCount int64 = 1_000_000_000
	// MaxNeeds bounds one run, so MaxNeeds×minsheng.MaxAmountFen still fits
	// in int64.
	MaxNeeds = 8_000_000
	// MaxWeight bounds one score weight (milli-points per unit), so a part
	// never overflows: MaxWeight × √MaxCount × 1000 is about 3×10^16.
	MaxWeight int64 = 1_000_000
)

// Factor names of a score part, stable identifiers for the API and UI.
const (
	FactorSanbao           = "sanbao"
	FactorSafety           = "safety"
	FactorHouseholds       = "households"
	FactorCoSigners        = "co_signers"
	FactorElderly          = "elderly"
	FactorDisabled         = "disabled"
	FactorWaiting          = "waiting_days"
	FactorRepeatComplaints = "repeat_complaints"
	FactorCostPerHousehold = "cost_per_household"
)

// The order of parts in every Score: the fixed order lets a reader compare two
// explanations line by line.
const (
	partSanbao = iota
	partSafety
	partHouseholds
	partCoSigners
	partElderly
	partDisabled
	partWaiting
	partRepeat
	partCost
	numParts
)

var partNames = [numParts]struct{ factor, label string }{
	{FactorSanbao, "三保事项"},
	{FactorSafety, "安全风险"},
	{FactorHouseholds, "受益户数"},
	{FactorCoSigners, "联名人数"},
	{FactorElderly, "老年人"},
	{FactorDisabled, "残疾人"},
	{FactorWaiting, "等待天数"},
	{FactorRepeatComplaints, "重复诉求"},
	{FactorCostPerHousehold, "户均成本"},
}

// Weights set how much each factor counts in a need's priority score for one
// fiscal year. Every weight is in milli-points (1 point = 1000) so scores stay
// integers; finance publishes them with the year's budget so anyone can
// recompute a rank.
type Weights struct {
	// FiscalYear the weights apply to (预算年度).
	FiscalYear int `json:"fiscal_year"`
	// Sanbao is granted whole to a 三保 item (basic livelihood, wages, operations).
	Sanbao int64 `json:"sanbao"`
	// SafetyPerLevel is multiplied by the safety risk level (0 none, 1–3).
	SafetyPerLevel int64 `json:"safety_per_level"`
	// Households is per square root of households affected: the hundredth
	// household adds less than the tenth, so a big estate cannot drown a lane.
	Households int64 `json:"households"`
	// CoSigners is per square root of co-signers, for the same reason.
	CoSigners int64 `json:"co_signers"`
	// Elderly and Disabled are per vulnerable resident, each count capped at
	// VulnerableCap.
	Elderly       int64 `json:"elderly"`
	Disabled      int64 `json:"disabled"`
	VulnerableCap int64 `json:"vulnerable_cap"`
	// WaitingPerDay is per whole day since filing, up to WaitingCapDays.
	WaitingPerDay  int64 `json:"waiting_per_day"`
	WaitingCapDays int64 `json:"waiting_cap_days"`
	// RepeatComplaints is per square root of earlier complaints about the same place.
	RepeatComplaints int64 `json:"repeat_complaints"`
	// CostPerHousehold is the most a need earns for being cheap per household;
	// it earns half of it at CostReferenceFen per household, and less beyond.
	CostPerHousehold int64 `json:"cost_per_household"`
	CostReferenceFen int64 `json:"cost_reference_fen"`
}

// DefaultWeights are the weights a district starts from: 三保 first, then
// safety, then breadth of benefit; waiting, repeats and cheapness break ties
// between otherwise similar needs. The maxima in points are 30 (三保),
// 30 (safety level 3), about 30 at 100 households, 10 at 25 co-signers,
// 10 + 15 for ten elderly and ten disabled, 18 after 180 days, 8 at four
// repeats and 20 for a free need.
func DefaultWeights(fiscalYear int) Weights {
	return Weights{
		FiscalYear:       fiscalYear,
		Sanbao:           30_000,
		SafetyPerLevel:   10_000,
		Households:       3_000,
		CoSigners:        2_000,
		Elderly:          1_000,
		Disabled:         1_500,
		VulnerableCap:    10,
		WaitingPerDay:    100,
		WaitingCapDays:   180,
		RepeatComplaints: 4_000,
		CostPerHousehold: 20_000,
		CostReferenceFen: 500_000,
	}
}

// Validate reports every out-of-range weight at once, as an EINVALID error
// whose Fields are keyed by JSON name, so the console can mark each input.
func (w Weights) Validate() error {
	fields := map[string]string{}
	if !calendar.ValidFiscalYear(w.FiscalYear) {
		fields["fiscal_year"] = calendar.FiscalYearProblem
	}
	for _, p := range []struct {
		name string
		v    int64
	}{
		{"sanbao", w.Sanbao},
		{"safety_per_level", w.SafetyPerLevel},
		{"households", w.Households},
		{"co_signers", w.CoSigners},
		{"elderly", w.Elderly},
		{"disabled", w.Disabled},
		{"waiting_per_day", w.WaitingPerDay},
		{"repeat_complaints", w.RepeatComplaints},
		{"cost_per_household", w.CostPerHousehold},
	} {
		if p.v < 0 || p.v > MaxWeight {
			fields[p.name] = fmt.Sprintf("权重应在0至%d之间", MaxWeight)
		}
	}
	if w.VulnerableCap < 0 || w.VulnerableCap > MaxCount {
		fields["vulnerable_cap"] = fmt.Sprintf("上限应在0至%d之间", MaxCount)
	}
	if w.WaitingCapDays < 0 || w.WaitingCapDays > 3650 {
		fields["waiting_cap_days"] = "上限应在0至3650天之间"
	}
	if msg := minsheng.FenProblem(w.CostReferenceFen); msg != "" {
		fields["cost_reference_fen"] = msg
	} else if w.CostPerHousehold > 0 && w.CostReferenceFen == 0 {
		fields["cost_reference_fen"] = "设置了户均成本权重时必须大于0"
	}
	if len(fields) > 0 {
		return minsheng.Invalid("优先级权重无效", fields)
	}
	return nil
}

// Need is one linked, not-yet-funded case as the engine sees it: the line it
// is linked to, its cost estimate and the inputs of its priority score.
type Need struct {
	CaseID      string
	LineID      string
	EstimateFen int64
	// FiledAt orders needs of equal score (earlier first) and sets days waiting.
	FiledAt time.Time
	// Sanbao marks a 三保 item (basic livelihood, wages, operations).
	Sanbao bool
	// SafetyLevel is the assessed safety risk: 0 none, 1 low to 3 high.
	SafetyLevel      int64
	Households       int64
	CoSigners        int64
	Elderly          int64
	Disabled         int64
	RepeatComplaints int64
}

// validate checks one need; i is its index, so the message can point at it.
func (n *Need) validate(i int) error {
	field := func(name string) string { return fmt.Sprintf("needs[%d].%s", i, name) }
	switch {
	case n.CaseID == "":
		return minsheng.Invalid("需求缺少案件编号", map[string]string{field("case_id"): "必填"})
	case n.LineID == "":
		return minsheng.Invalid("需求未关联预算项目", map[string]string{field("line_id"): "必填"})
	case !minsheng.ValidAmount(n.EstimateFen):
		return minsheng.CheckFen(field("estimate_fen"), n.EstimateFen)
	case n.FiledAt.IsZero():
		return minsheng.Invalid("需求缺少登记时间", map[string]string{field("filed_at"): "必填"})
	case n.SafetyLevel < 0 || n.SafetyLevel > 3:
		return minsheng.Invalid("安全风险等级无效", map[string]string{field("safety_level"): "应为0至3"})
	}
	for _, c := range []struct {
		name string
		v    int64
	}{
		{"households", n.Households},
		{"co_signers", n.CoSigners},
		{"elderly", n.Elderly},
		{"disabled", n.Disabled},
		{"repeat_complaints", n.RepeatComplaints},
	} {
		if c.v < 0 || c.v > MaxCount {
			return minsheng.Invalid("需求计数无效", map[string]string{field(c.name): fmt.Sprintf("应在0至%d之间", MaxCount)})
		}
	}
	return nil
}

// ScorePart is one factor's contribution to a score: what went in and how many
// milli-points came out.
type ScorePart struct {
	// Factor is a stable identifier such as "sanbao".
	Factor string `json:"factor"`
	// Label is the Chinese name shown to staff, such as "三保事项".
	Label string `json:"label"`
	// Input is the value the factor used: 1/0 for 三保, the level, a count,
	// days waiting (capped) or fen per household.
	Input int64 `json:"input"`
	// Points is the contribution in milli-points.
	Points int64 `json:"points"`
}

// Score is a need's priority in milli-points with its explanation; Total is
// the sum of Parts' Points.
type Score struct {
	Total int64       `json:"total"`
	Parts []ScorePart `json:"parts"`
}

// ScoreNeed scores one need as of asOf (which fixes days waiting), part by
// part, for the "why this rank" view. Inputs out of range are clamped; Run and
// Prioritize reject them first.
//
// The score, in milli-points (W = the year's Weights, ⌊⌋ = round down):
//
//	sanbao             = W.sanbao if the need is a 三保 item, else 0
//	safety             = W.safety_per_level × level (0–3)
//	households         = ⌊W.households × ⌊√(households × 10⁶)⌋ / 1000⌋
//	co_signers         = ⌊W.co_signers × ⌊√(co_signers × 10⁶)⌋ / 1000⌋
//	elderly            = W.elderly × min(elderly, W.vulnerable_cap)
//	disabled           = W.disabled × min(disabled, W.vulnerable_cap)
//	waiting_days       = W.waiting_per_day × min(⌊(asOf − filed_at) / 24h⌋, W.waiting_cap_days)
//	repeat_complaints  = ⌊W.repeat_complaints × ⌊√(repeats × 10⁶)⌋ / 1000⌋
//	cost_per_household = ⌊W.cost_per_household × W.cost_reference_fen / (W.cost_reference_fen + c)⌋
//	                     where c = ⌊estimate_fen / max(households, 1)⌋
//	total              = sum of the nine parts
//
// ⌊√(x × 10⁶)⌋ is √x to three decimals, so the square root keeps its
// diminishing returns without a float.
func ScoreNeed(n Need, w Weights, asOf time.Time) Score {
	in, pts := scoreParts(&n, &w, asOf.Unix())
	s := Score{Parts: make([]ScorePart, numParts)}
	for i := range numParts {
		s.Parts[i] = ScorePart{Factor: partNames[i].factor, Label: partNames[i].label, Input: in[i], Points: pts[i]}
		s.Total += pts[i]
	}
	return s
}

// scoreTotal is ScoreNeed without the explanation, for Run's hot loop.
func scoreTotal(n *Need, w *Weights, asOfUnix int64) int64 {
	_, pts := scoreParts(n, w, asOfUnix)
	var t int64
	for _, p := range pts {
		t += p
	}
	return t
}

// scoreParts computes every part's input and points; arrays keep it free of
// allocation. Days waiting use whole seconds so the result does not depend on
// the monotonic clock reading a time.Time may carry.
func scoreParts(n *Need, w *Weights, asOfUnix int64) (in, pts [numParts]int64) {
	if n.Sanbao {
		in[partSanbao] = 1
		pts[partSanbao] = w.Sanbao
	}
	in[partSafety] = clamp(n.SafetyLevel, 0, 3)
	pts[partSafety] = w.SafetyPerLevel * in[partSafety]

	households := clamp(n.Households, 0, MaxCount)
	in[partHouseholds] = households
	pts[partHouseholds] = w.Households * milliSqrt(households) / 1000
	in[partCoSigners] = clamp(n.CoSigners, 0, MaxCount)
	pts[partCoSigners] = w.CoSigners * milliSqrt(in[partCoSigners]) / 1000

	capV := clamp(w.VulnerableCap, 0, MaxCount)
	in[partElderly] = clamp(n.Elderly, 0, capV)
	pts[partElderly] = w.Elderly * in[partElderly]
	in[partDisabled] = clamp(n.Disabled, 0, capV)
	pts[partDisabled] = w.Disabled * in[partDisabled]

	days := (asOfUnix - n.FiledAt.Unix()) / 86400
	in[partWaiting] = clamp(days, 0, clamp(w.WaitingCapDays, 0, 3650))
	pts[partWaiting] = w.WaitingPerDay * in[partWaiting]

	in[partRepeat] = clamp(n.RepeatComplaints, 0, MaxCount)
	pts[partRepeat] = w.RepeatComplaints * milliSqrt(in[partRepeat]) / 1000

	perHousehold := clamp(n.EstimateFen, 0, minsheng.MaxAmountFen) / max(households, 1)
	in[partCost] = perHousehold
	if ref := clamp(w.CostReferenceFen, 0, minsheng.MaxAmountFen); ref > 0 {
		// Both factors are bounded (MaxWeight × minsheng.MaxAmountFen = 10^18 < 2^63).
		pts[partCost] = w.CostPerHousehold * ref / (ref + perHousehold)
	}
	return in, pts
}

func clamp(v, lo, hi int64) int64 { return min(max(v, lo), hi) }

// sqrtTableSize covers the counts real needs have, so the hot loop seldom
// takes the slower Newton path.
const sqrtTableSize = 1 << 14

// sqrtTable holds ⌊√(x × 10⁶)⌋ for small x; it is built on first use.
var sqrtTable = sync.OnceValue(func() []uint32 {
	t := make([]uint32, sqrtTableSize)
	for x := range t {
		t[x] = uint32(isqrt(uint64(x) * 1_000_000))
	}
	return t
})

// milliSqrt returns ⌊√(x × 10⁶)⌋, i.e. √x to three decimals, for 0 ≤ x ≤ MaxCount.
func milliSqrt(x int64) int64 {
	if x < sqrtTableSize {
		return int64(sqrtTable()[x])
	}
	return int64(isqrt(uint64(x) * 1_000_000))
}

// isqrt returns ⌊√x⌋ by Newton's method on integers.
func isqrt(x uint64) uint64 {
	if x < 2 {
		return x
	}
	// Start above the root: 2^⌈bits/2⌉ > √x, and Newton then decreases monotonically.
	r := uint64(1) << ((bits.Len64(x) + 1) / 2)
	for {
		next := (r + x/r) / 2
		if next >= r {
			return r
		}
		r = next
	}
}

// Ranked is one need in priority order with its explained score.
type Ranked struct {
	// Index is the need's position in the slice given to Prioritize.
	Index int   `json:"index"`
	Score Score `json:"score"`
}

// Prioritize ranks needs for display: score descending, then filed time
// ascending (who waited longer goes first), then case ID, so the order is
// total and the same on every run. Run uses the same order within a line.
func Prioritize(needs []Need, w Weights, asOf time.Time) ([]Ranked, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	out := make([]Ranked, len(needs))
	for i := range needs {
		if err := needs[i].validate(i); err != nil {
			return nil, err
		}
		out[i] = Ranked{Index: i, Score: ScoreNeed(needs[i], w, asOf)}
	}
	slices.SortFunc(out, func(a, b Ranked) int {
		na, nb := &needs[a.Index], &needs[b.Index]
		return comparePriority(a.Score.Total, na, b.Score.Total, nb)
	})
	return out, nil
}

// comparePriority is the one ordering of needs: score desc, filed asc, case ID asc.
func comparePriority(sa int64, a *Need, sb int64, b *Need) int {
	if c := cmp.Compare(sb, sa); c != 0 {
		return c
	}
	if c := a.FiledAt.Compare(b.FiledAt); c != 0 {
		return c
	}
	return strings.Compare(a.CaseID, b.CaseID)
}
