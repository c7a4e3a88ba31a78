package reports

// Completion (事中、事后评审) and 12345-rate reports, summed in Go over the
// streamed cases of the caller's scope. Both were planning's; they read
// what planning writes (money on lines) but decide nothing.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"minsheng"
	"minsheng/budgetlink/allocation"
	"minsheng/budgetlink/ledger"
	"minsheng/cases"
	"minsheng/cases/rates"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
)

// factOf is what the engine's rates and completion need of a case.
func factOf(c *cases.Case) allocation.CaseFact {
	f := allocation.CaseFact{
		CaseID: c.ID, SubDistrictCode: c.Location.SubDistrict, CommunityCode: c.Location.Community,
		FiledAt: c.FiledAt, AcceptedAt: c.AcceptedAt, CompletedAt: c.CompletedAt,
		Status: string(c.Status), Verdict: string(c.Verdict),
	}
	if c.CompletionDueAt != nil {
		f.DeadlineAt = *c.CompletionDueAt
	}
	if len(c.Verdicts) > 0 {
		f.FirstVerdict = string(c.Verdicts[0].Verdict)
		if f.Verdict == "" {
			f.Verdict = string(c.Verdicts[len(c.Verdicts)-1].Verdict)
		}
	}
	// A verdict the engine does not know would fail the whole report;
	// count it as not rated instead.
	f.Verdict, f.FirstVerdict = knownVerdict(f.Verdict), knownVerdict(f.FirstVerdict)
	if f.Verdict == "" {
		f.FirstVerdict = ""
	}
	if f.AcceptedAt != nil && f.AcceptedAt.Before(f.FiledAt) {
		f.AcceptedAt = &f.FiledAt
	}
	return f
}

func knownVerdict(v string) string {
	switch v {
	case allocation.VerdictSatisfied, allocation.VerdictBasicallySatisfied, allocation.VerdictDissatisfied:
		return v
	}
	return ""
}

// Completion is allocation.CompletionReport with its completion rate as
// {num, den, per_mille}.
type Completion struct {
	allocation.CompletionReport
	CompletionRate Rate `json:"completion_rate"`
}

func (s *Reporter) completionOf(facts []allocation.CaseFact, asOf time.Time) Completion {
	r := allocation.Completion(facts, asOf)
	for i := range r.Stalled {
		r.Stalled[i].CommunityName = s.communityName(r.Stalled[i].CommunityCode)
	}
	return Completion{CompletionReport: r, CompletionRate: rateOf(r.CompletionRate)}
}

// Money is a line's or a sub-district's budget figures in fen.
type Money struct {
	BudgetFen    int64 `json:"budget_fen"`
	CommittedFen int64 `json:"committed_fen"`
	SpentFen     int64 `json:"spent_fen"`
	AvailableFen int64 `json:"available_fen"`
	// Execution is spent / budget.
	Execution Rate `json:"execution"`
}

func (m *Money) add(l *ledger.BudgetLine) {
	m.BudgetFen += l.BudgetFen()
	m.CommittedFen += l.CommittedFen
	m.SpentFen += l.SpentFen
	m.AvailableFen += l.AvailableFen
	m.Execution = rateOf(allocation.Rate{Num: m.SpentFen, Den: m.BudgetFen})
}

// LineCompletion is how one line's funded cases are being carried out.
type LineCompletion struct {
	LineID      string `json:"line_id"`
	SubDistrict string `json:"sub_district"`
	ItemCode    string `json:"item_code"`
	ItemName    string `json:"item_name"`
	ProjectName string `json:"project_name"`
	Money
	Completion Completion `json:"completion"`
}

// SubDistrictCompletion is the same for all lines of a sub-district.
type SubDistrictCompletion struct {
	SubDistrict string `json:"sub_district"`
	Name        string `json:"name"`
	Money
	Completion Completion `json:"completion"`
}

// CompletionReport covers the funded cases of one fiscal year's lines.
type CompletionReport struct {
	FiscalYear   int                     `json:"fiscal_year"`
	SubDistrict  string                  `json:"sub_district,omitempty"`
	AsOf         time.Time               `json:"as_of"`
	SubDistricts []SubDistrictCompletion `json:"sub_districts"`
	Lines        []LineCompletion        `json:"lines"`
}

// CompletionQuery selects a completion report.
type CompletionQuery struct {
	FiscalYear  int
	SubDistrict string
}

// Completion reports, per line and per sub-district, the funded cases (live
// money on a line of the year, per the ledger) by state, spending against
// commitments, funded cases stalled past their completion deadline, the
// completion rate and the full cost per resolved case. Sub-district staff
// get their own sub-district, finance and admin any or all.
// Errors: EFORBIDDEN, EINVALID.
func (s *Reporter) Completion(ctx context.Context, p auth.Principal, q CompletionQuery) (CompletionReport, error) {
	if q.FiscalYear == 0 {
		q.FiscalYear = calendar.FiscalYear(s.now(), s.zone)
	}
	sub, err := s.scopeSubDistrict(p, q.SubDistrict)
	if err != nil {
		return CompletionReport{}, err
	}
	if err := calendar.CheckFiscalYear("fiscal_year", q.FiscalYear); err != nil {
		return CompletionReport{}, err
	}
	lines, err := s.LinesForReports(ctx, p, q.FiscalYear, sub)
	if err != nil {
		return CompletionReport{}, err
	}
	cs, err := s.ledger.Cases()
	if err != nil {
		return CompletionReport{}, err
	}
	slices.SortFunc(lines, func(a, b *ledger.BudgetLine) int { return strings.Compare(a.ID, b.ID) })
	// Which line funds each case, and what it spent there.
	type funding struct {
		line          int
		spent, amount int64
	}
	funded := map[string]funding{}
	for i, l := range lines {
		for _, r := range l.Reservations {
			if r.Live() && r.CaseID != "" {
				funded[r.CaseID] = funding{line: i, spent: r.SpentFen, amount: max(r.AmountFen, r.SpentFen)}
			}
		}
	}
	perLine := make([][]allocation.CaseFact, len(lines))
	perSub := map[string][]allocation.CaseFact{}
	err = cs.EachCaseFacts(ctx, cases.Filter{SubDistrict: sub}, func(c *cases.Case) error {
		f, ok := funded[c.ID]
		if !ok {
			return nil
		}
		fact := factOf(c)
		fact.Funded, fact.SpentFen, fact.FundedFen = true, f.spent, f.amount
		fact.Number, fact.Title = c.Number, c.Title
		perLine[f.line] = append(perLine[f.line], fact)
		perSub[lines[f.line].SubDistrict] = append(perSub[lines[f.line].SubDistrict], fact)
		return nil
	})
	if err != nil {
		return CompletionReport{}, fmt.Errorf("planning: unable to read cases: %w", err)
	}
	asOf := s.now()
	rep := CompletionReport{FiscalYear: q.FiscalYear, SubDistrict: sub, AsOf: asOf, Lines: make([]LineCompletion, len(lines))}
	money := map[string]*Money{}
	for i, l := range lines {
		lc := LineCompletion{LineID: l.ID, SubDistrict: l.SubDistrict, ItemCode: l.ItemCode, ItemName: l.ItemName, ProjectName: l.ProjectName,
			Completion: s.completionOf(perLine[i], asOf)}
		lc.Money.add(l)
		rep.Lines[i] = lc
		if money[l.SubDistrict] == nil {
			money[l.SubDistrict] = &Money{}
		}
		money[l.SubDistrict].add(l)
	}
	rep.SubDistricts = []SubDistrictCompletion{}
	for _, code := range slices.Sorted(maps.Keys(money)) {
		rep.SubDistricts = append(rep.SubDistricts, SubDistrictCompletion{SubDistrict: code, Name: s.subName(code), Money: *money[code],
			Completion: s.completionOf(perSub[code], asOf)})
	}
	return rep, nil
}

// UnitRates are the 12345 rates of a sub-district (Community "") or of
// one of its communities, as package rates counts them.
type UnitRates struct {
	SubDistrict   string `json:"sub_district"`
	Name          string `json:"name"`
	Community     string `json:"community,omitempty"`
	CommunityName string `json:"community_name,omitempty"`
	rates.Set
}

// RatesReport holds the rates of the caller's scope over a period, with
// the period and the definitions every screen states beside them.
type RatesReport struct {
	From         time.Time          `json:"from"`
	To           time.Time          `json:"to"`
	AsOf         time.Time          `json:"as_of"`
	Period       rates.Period       `json:"period"`
	Definitions  []rates.Definition `json:"definitions"`
	Total        UnitRates          `json:"total"`
	SubDistricts []UnitRates        `json:"sub_districts"`
	Communities  []UnitRates        `json:"communities"`
}

// RatesQuery selects a rates report. From and To are dates (2006-01-02, in
// Beijing time) or RFC 3339 times; From defaults to 1 January of this
// year and To to now. To is exclusive; a date means the start of that day.
type RatesQuery struct {
	From        string
	To          string
	SubDistrict string
}

// Rates reports the 12345 rates (package rates: the one definition the
// public board and the factor allocation also use) of the cases filed in
// [From, To), per sub-district and per community. Cadres get their
// community, sub-district staff their sub-district, finance and admin any
// or all. Errors: EFORBIDDEN, EINVALID.
func (s *Reporter) Rates(ctx context.Context, p auth.Principal, q RatesQuery) (RatesReport, error) {
	if !p.IsStaff() {
		return RatesReport{}, minsheng.Errorf(minsheng.EFORBIDDEN, "当前角色（%s）无权查看考核指标", p.Role.Label())
	}
	f := cases.Filter{SubDistrict: strings.TrimSpace(q.SubDistrict)}
	if p.Role == auth.RoleCadre {
		if f.SubDistrict != "" && f.SubDistrict != p.SubDistrict {
			return RatesReport{}, minsheng.Errorf(minsheng.EFORBIDDEN, "无权访问其他社区或街道的数据")
		}
		f.SubDistrict, f.Community = p.SubDistrict, p.Community
	} else {
		sub, err := s.scopeSubDistrict(p, f.SubDistrict)
		if err != nil {
			return RatesReport{}, err
		}
		f.SubDistrict = sub
	}
	asOf := s.now()
	from, to := calendar.YearStart(calendar.FiscalYear(asOf, s.zone), s.zone).UTC(), asOf
	fields := map[string]string{}
	if q.From != "" {
		t, err := s.parseTime(q.From)
		if err != nil {
			fields["from"] = "应为日期（2006-01-02）或 RFC 3339 时间"
		}
		from = t
	}
	if q.To != "" {
		t, err := s.parseTime(q.To)
		if err != nil {
			fields["to"] = "应为日期（2006-01-02）或 RFC 3339 时间"
		}
		to = t
	}
	if len(fields) == 0 && !from.Before(to) {
		fields["to"] = "结束时间应晚于开始时间"
	}
	if len(fields) > 0 {
		return RatesReport{}, minsheng.Invalid("统计期间无效", fields)
	}
	f.FiledFrom, f.FiledTo = from, to
	tally := rates.NewTally(rates.NewPeriod(from, to, asOf))
	cs, err := s.ledger.Cases()
	if err != nil {
		return RatesReport{}, err
	}
	err = cs.EachCaseFacts(ctx, f, func(c *cases.Case) error {
		tally.Add(c)
		return nil
	})
	if err != nil {
		return RatesReport{}, fmt.Errorf("planning: unable to read cases: %w", err)
	}
	rep := RatesReport{From: from, To: to, AsOf: asOf, Period: tally.Period, Definitions: rates.Definitions(),
		Total: UnitRates{Name: s.org.District().Name, Set: tally.Total().Rates()}, SubDistricts: []UnitRates{}, Communities: []UnitRates{}}
	if f.SubDistrict != "" {
		rep.Total.SubDistrict, rep.Total.Name = f.SubDistrict, s.subName(f.SubDistrict)
	}
	// Every sub-district of the scope is listed, one without a case due
	// with "—", as the public board shows it.
	listed := map[string]bool{}
	for _, u := range tally.SubDistricts() {
		rep.SubDistricts = append(rep.SubDistricts, s.unit(u))
		listed[u.SubDistrict] = true
	}
	scope := []string{f.SubDistrict}
	if f.SubDistrict == "" {
		scope = scope[:0]
		for _, sd := range s.org.District().SubDistricts {
			scope = append(scope, sd.Code)
		}
	}
	for _, code := range scope {
		if !listed[code] {
			rep.SubDistricts = append(rep.SubDistricts, s.unit(rates.Unit{SubDistrict: code}))
		}
	}
	slices.SortFunc(rep.SubDistricts, func(a, b UnitRates) int { return strings.Compare(a.SubDistrict, b.SubDistrict) })
	for _, u := range tally.Communities() {
		rep.Communities = append(rep.Communities, s.unit(u))
	}
	return rep, nil
}

func (s *Reporter) unit(u rates.Unit) UnitRates {
	out := UnitRates{SubDistrict: u.SubDistrict, Community: u.Community, Set: u.Counts.Rates()}
	if u.SubDistrict != "" {
		out.Name = s.subName(u.SubDistrict)
	}
	if u.Community != "" {
		if c, err := s.org.Community(u.Community); err == nil {
			out.CommunityName = c.Name
		}
	}
	return out
}

// parseTime reads a date in the service's zone or an RFC 3339 time.
func (s *Reporter) parseTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.ParseInLocation(time.DateOnly, v, s.zone); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	return t.UTC(), err
}

// Rate is an exact fraction with its per-mille figure and text, by the one
// rounding rule of package rates (per-mille rounded half up; null and "—"
// when there was nothing to measure).
type Rate = rates.Rate

func rateOf(r allocation.Rate) Rate { return rates.NewRate(r.Num, r.Den) }

// scopeSubDistrict resolves the sub-district a completion or rates report
// of p covers: sub-district staff get their own (asking for another is
// EFORBIDDEN), finance and admin what they asked for ("" = the whole
// district). An unknown code is EINVALID.
func (s *Reporter) scopeSubDistrict(p auth.Principal, sub string) (string, error) {
	if err := ledger.RequireReader(p); err != nil {
		return "", err
	}
	return p.SubDistrictScope(s.org, sub)
}

// communityName is a community's name, its code when unknown.
func (s *Reporter) communityName(code string) string {
	if c, err := s.org.Community(code); err == nil {
		return c.Name
	}
	return code
}

// subName is a sub-district's name, its code when unknown.
func (s *Reporter) subName(code string) string {
	if sd, err := s.org.SubDistrict(code); err == nil {
		return sd.Name
	}
	return code
}
