// Package rates owns the 12345 rates of casework (响应率, 解决率, 满意率,
// with 一次满意率 and the internal 办结率): one definition, one rounding
// rule, one display text. The public board, the console's reports, their
// exports and the performance coefficient of the factor allocation all
// count cases through Tally and nothing else, so no two screens can
// disagree (docs/API.md, "12345 rates").
package rates

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"minsheng/cases"
	"minsheng/internal/calendar"
)

// Rate is one rate as every screen shows it: the counts, the per-mille
// figure rounded half up (null when nothing was due) and the text to
// display ("96.9%", or "—" when Den is 0).
type Rate struct {
	Num      int64  `json:"num"`
	Den      int64  `json:"den"`
	PerMille *int64 `json:"per_mille"`
	Text     string `json:"text"`
}

// NoData is the text of a rate with nothing to measure: never "0.0%".
const NoData = "—"

// NewRate is the one rounding rule: num/den in per-mille rounded half up,
// in integers, shown as a percentage with one decimal (2/3 → 667 → "66.7%").
// A zero denominator gives PerMille nil and the text "—".
func NewRate(num, den int64) Rate {
	r := Rate{Num: num, Den: den, Text: NoData}
	if den <= 0 {
		return r
	}
	pm := perMille(num, den)
	r.PerMille = &pm
	r.Text = fmt.Sprintf("%d.%d%%", pm/10, pm%10)
	return r
}

// Known reports whether the rate had anything to measure.
func (r Rate) Known() bool { return r.Den > 0 }

// PerMille is num/den ×1000 rounded half up — the one rounding rule, for
// the 三率 and every other ratio the reports show (budget execution, exact
// and adjusted lines) — and 0 when den ≤ 0 (callers that must tell "nothing
// to measure" from 0 use NewRate).
func PerMille(num, den int64) int64 {
	if den <= 0 {
		return 0
	}
	return perMille(num, den)
}

// perMille returns num/den ×1000 rounded half up, for num ≥ 0 and den > 0,
// without overflowing where num×1000+den/2 would.
func perMille(num, den int64) int64 {
	q, rem := num/den, num%den
	pm := q * 1000
	// rem < den: rem×1000 overflows only for den above 9.2e15 cases.
	f, frem := rem*1000/den, rem*1000%den
	if frem >= den-frem {
		f++
	}
	return pm + f
}

// Set is the rates of one unit over one period.
type Set struct {
	// Response is 响应率: cases answered (accepted, or rejected / merged
	// with a reason) by their response deadline ÷ cases whose response is
	// due (answered, or past the deadline at the report's time).
	Response Rate `json:"response"`
	// Resolution is 解决率: latest 回访 answers "问题已解决" ÷ cases with a
	// 回访 answer.
	Resolution Rate `json:"resolution"`
	// Satisfaction is 满意率: latest answers 满意 or 基本满意 ÷ cases with
	// a 回访 answer.
	Satisfaction Rate `json:"satisfaction"`
	// FirstSatisfaction is 一次满意率: first answers 满意 or 基本满意 ÷
	// the same, so rework cannot hide behind a good final figure.
	FirstSatisfaction Rate `json:"first_satisfaction"`
	// Completion is 办结率, an internal figure: accepted cases completed
	// (办结, awaiting or past 回访) ÷ accepted cases. Never called 解决率.
	Completion Rate `json:"completion"`
}

// Counts are the numerators and denominators behind a Set; they add up
// across units.
type Counts struct {
	Responded      int64 // answered by the response deadline
	ResponseDue    int64 // answered, or unanswered past the deadline
	Answered       int64 // cases with a 回访 answer
	Resolved       int64 // latest answer: 问题已解决
	Satisfied      int64 // latest answer: 满意 or 基本满意
	FirstSatisfied int64 // first answer: 满意 or 基本满意
	Accepted       int64 // accepted (受理), not merged away
	Completed      int64 // of those, completed or closed
}

func (c *Counts) add(o Counts) {
	c.Responded += o.Responded
	c.ResponseDue += o.ResponseDue
	c.Answered += o.Answered
	c.Resolved += o.Resolved
	c.Satisfied += o.Satisfied
	c.FirstSatisfied += o.FirstSatisfied
	c.Accepted += o.Accepted
	c.Completed += o.Completed
}

// Rates turns counts into the rates every screen shows.
func (c Counts) Rates() Set {
	return Set{
		Response:          NewRate(c.Responded, c.ResponseDue),
		Resolution:        NewRate(c.Resolved, c.Answered),
		Satisfaction:      NewRate(c.Satisfied, c.Answered),
		FirstSatisfaction: NewRate(c.FirstSatisfied, c.Answered),
		Completion:        NewRate(c.Completed, c.Accepted),
	}
}

// CountCase is the definition: what one case adds to its unit's counts as
// of asOf (each count 0 or 1).
//
//   - Response: a case answered — accepted, rejected with a reason, merged
//     into another — is due and counts as responded when answered by its
//     response deadline. An unanswered case is due once its deadline has
//     passed at asOf: a case filed an hour ago is not yet due, so a new
//     filing never lowers the rate. A case cancelled by its filer before
//     any answer is never due.
//   - 回访: the latest verdict decides 解决率 (its "问题是否解决" answer; a
//     verdict recorded without that answer counts as solved when 满意 or
//     基本满意) and 满意率; the first verdict decides 一次满意率. A case
//     reopened after 不满意 and not yet rated again keeps its 不满意.
//   - 办结率: accepted cases not merged away; completed when completed or
//     closed (a reopened case is in progress again).
func CountCase(c *cases.Case, asOf time.Time) Counts {
	var n Counts
	switch {
	case c.RespondedAt != nil:
		n.ResponseDue = 1
		if !c.RespondedAt.After(c.ResponseDueAt) {
			n.Responded = 1
		}
	case c.Status == cases.StatusCancelled:
	case !c.ResponseDueAt.IsZero() && !asOf.Before(c.ResponseDueAt):
		n.ResponseDue = 1
	}
	if len(c.Verdicts) > 0 || c.Verdict != "" {
		first, last := c.Verdict, c.Verdict
		var resolved *bool
		if k := len(c.Verdicts); k > 0 {
			first, last, resolved = c.Verdicts[0].Verdict, c.Verdicts[k-1].Verdict, c.Verdicts[k-1].Resolved
		}
		if last.Valid() {
			n.Answered = 1
			if satisfied(last) {
				n.Satisfied = 1
			}
			if satisfied(first) {
				n.FirstSatisfied = 1
			}
			if (resolved == nil && satisfied(last)) || (resolved != nil && *resolved) {
				n.Resolved = 1
			}
		}
	}
	if c.AcceptedAt != nil && c.Status != cases.StatusMerged {
		n.Accepted = 1
		if c.Status == cases.StatusCompleted || c.Status == cases.StatusClosed {
			n.Completed = 1
		}
	}
	return n
}

func satisfied(v cases.Verdict) bool {
	return v == cases.VerdictSatisfied || v == cases.VerdictBasicallySatisfied
}

// Period is the cases a report covers — those filed in [From, To) — and
// the moment AsOf at which "due" is judged.
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	AsOf time.Time `json:"as_of"`
	// Text states the period for a reader, in Beijing time.
	Text string `json:"text"`
}

// NewPeriod returns the period of cases filed in [from, to) judged at asOf,
// with its text ("登记于 2026-01-01 至 2026-12-07 的诉求，截至 2026-12-07 16:05").
func NewPeriod(from, to, asOf time.Time) Period {
	last := to.Add(-time.Nanosecond)
	if asOf.Before(last) {
		last = asOf
	}
	text := fmt.Sprintf("登记于 %s 至 %s 的诉求，截至 %s", from.In(calendar.Zone()).Format(time.DateOnly),
		last.In(calendar.Zone()).Format(time.DateOnly), asOf.In(calendar.Zone()).Format("2006-01-02 15:04"))
	return Period{From: from.UTC(), To: to.UTC(), AsOf: asOf.UTC(), Text: text}
}

// Contains reports whether c was filed in the period.
func (p Period) Contains(c *cases.Case) bool {
	return !c.FiledAt.Before(p.From) && c.FiledAt.Before(p.To)
}

// Unit is the rates of a sub-district (Community "") or of a community.
type Unit struct {
	SubDistrict string
	Community   string
	Counts      Counts
}

// Tally counts the cases of one period for a whole scope, per sub-district
// and per community. Add every case of the scope; cases outside the period
// are ignored.
type Tally struct {
	Period      Period
	total       Counts
	subs        map[string]*Counts
	communities map[[2]string]*Counts
}

// NewTally starts counting the cases of p.
func NewTally(p Period) *Tally {
	return &Tally{Period: p, subs: map[string]*Counts{}, communities: map[[2]string]*Counts{}}
}

// Add counts c if it was filed in the period.
func (t *Tally) Add(c *cases.Case) {
	if !t.Period.Contains(c) {
		return
	}
	n := CountCase(c, t.Period.AsOf)
	t.total.add(n)
	sub := c.Location.SubDistrict
	if t.subs[sub] == nil {
		t.subs[sub] = &Counts{}
	}
	t.subs[sub].add(n)
	if c.Location.Community != "" {
		k := [2]string{sub, c.Location.Community}
		if t.communities[k] == nil {
			t.communities[k] = &Counts{}
		}
		t.communities[k].add(n)
	}
}

// Total is the counts of every case added.
func (t *Tally) Total() Counts { return t.total }

// SubDistrict is the counts of one sub-district (zero when it had none).
func (t *Tally) SubDistrict(code string) Counts {
	if c := t.subs[code]; c != nil {
		return *c
	}
	return Counts{}
}

// SubDistricts lists the sub-districts that had cases, by code.
func (t *Tally) SubDistricts() []Unit {
	out := []Unit{}
	for _, code := range slices.Sorted(maps.Keys(t.subs)) {
		out = append(out, Unit{SubDistrict: code, Counts: *t.subs[code]})
	}
	return out
}

// Communities lists the communities that had cases, by sub-district then
// community code.
func (t *Tally) Communities() []Unit {
	keys := slices.SortedFunc(maps.Keys(t.communities), func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	})
	out := []Unit{}
	for _, k := range keys {
		out = append(out, Unit{SubDistrict: k[0], Community: k[1], Counts: *t.communities[k]})
	}
	return out
}

// Definition says what a rate means, for the ⓘ beside it.
type Definition struct {
	Key         string `json:"key"`
	Label       string `json:"label"`
	Formula     string `json:"formula"`
	Numerator   string `json:"numerator"`
	Denominator string `json:"denominator"`
	// Internal marks a figure staff use that is not a 12345 rate.
	Internal bool `json:"internal,omitempty"`
}

// Definitions are the rates' definitions in the order screens show them.
func Definitions() []Definition {
	return []Definition{
		{Key: "response", Label: "响应率", Formula: "按时响应的诉求 ÷ 应响应的诉求",
			Numerator:   "在响应时限内受理、或说明理由退回（不予受理）、合并的诉求",
			Denominator: "已响应的诉求，加上已过响应时限仍未响应的诉求（刚登记、未到时限的不计入）"},
		{Key: "resolution", Label: "解决率", Formula: "回访答“问题已解决”的诉求 ÷ 有回访答复的诉求",
			Numerator:   "最近一次回访答“问题已解决”（未答此问时，满意或基本满意视为已解决）",
			Denominator: "有回访答复（满意、基本满意或不满意）的诉求"},
		{Key: "satisfaction", Label: "满意率", Formula: "回访满意、基本满意的诉求 ÷ 有回访答复的诉求",
			Numerator:   "最近一次回访为满意或基本满意",
			Denominator: "有回访答复的诉求"},
		{Key: "first_satisfaction", Label: "一次满意率", Formula: "首次回访即满意、基本满意的诉求 ÷ 有回访答复的诉求",
			Numerator:   "第一次回访为满意或基本满意（重办后的满意不计）",
			Denominator: "有回访答复的诉求"},
		{Key: "completion", Label: "办结率", Formula: "已办结的诉求 ÷ 已受理的诉求", Internal: true,
			Numerator:   "已受理且已办结（含已关闭）；重办中的不计",
			Denominator: "已受理的诉求（合并掉的不计）；内部指标，不是解决率"},
	}
}
