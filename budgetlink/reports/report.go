package reports

// Reports per sub-district and fiscal year, summed in Go over projected
// cursors (FerretDB returns wrong $group sums: docs/ARCHITECTURE.md, engine defect 2). Rates
// are integer per-mille, rounded half up, so no float ever touches money or
// the figures finance staff quote.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"minsheng"
	"minsheng/budgetlink/ledger"
	"minsheng/cases/rates"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
)

// Percent returns n/d in percent rounded half up; 0 when d is 0.
func Percent(n, d int64) int64 {
	if d <= 0 {
		return 0
	}
	return (n*100 + d/2) / d
}

// LineExecution is one line's execution.
type LineExecution struct {
	LineID       string `json:"line_id"`
	FiscalYear   int    `json:"fiscal_year"`
	SubDistrict  string `json:"sub_district"`
	ItemCode     string `json:"item_code"`
	ItemName     string `json:"item_name"`
	ProjectName  string `json:"project_name"`
	ApprovedFen  int64  `json:"approved_fen"`
	AdjustedFen  int64  `json:"adjusted_fen"`
	BudgetFen    int64  `json:"budget_fen"` // approved + adjusted
	CommittedFen int64  `json:"committed_fen"`
	SpentFen     int64  `json:"spent_fen"`
	AvailableFen int64  `json:"available_fen"`
	// ExecutionPermille is spent / budget in ‰.
	ExecutionPermille int64  `json:"execution_permille"`
	Adjustments       int64  `json:"adjustments"`
	Outcome           string `json:"outcome"`
	ReviewStage       string `json:"review_stage,omitempty"`
	// ReviewStages is every stage the line was reviewed at (事前、事中、事后),
	// in the order first reviewed; ReviewStage is only the latest.
	ReviewStages []string `json:"review_stages,omitempty"`
}

// Line outcomes, the reform's yardstick: of 2,772 projects approved in 2021
// only 649 were executed exactly as approved (按照批复预算100%执行), 1,970
// were adjusted.
const (
	OutcomeExact    = "exact"    // no adjustment, spent == approved
	OutcomeAdjusted = "adjusted" // at least one adjustment
	OutcomeOther    = "other"    // not adjusted, not (yet) spent as approved
)

func outcomeOf(l *ledger.BudgetLine) string {
	switch {
	case l.AdjustmentCount > 0:
		return OutcomeAdjusted
	case l.SpentFen == l.ApprovedFen:
		return OutcomeExact
	}
	return OutcomeOther
}

// SubDistrictExecution sums a sub-district's lines.
type SubDistrictExecution struct {
	Code              string          `json:"code"`
	Name              string          `json:"name"`
	LineCount         int64           `json:"line_count"`
	ExactCount        int64           `json:"exact_count"`
	AdjustedCount     int64           `json:"adjusted_count"`
	OtherCount        int64           `json:"other_count"`
	ExactPermille     int64           `json:"exact_permille"`
	AdjustedPermille  int64           `json:"adjusted_permille"`
	ExactPercent      int64           `json:"exact_percent"`
	AdjustedPercent   int64           `json:"adjusted_percent"`
	ApprovedFen       int64           `json:"approved_fen"`
	AdjustedFen       int64           `json:"adjusted_fen"`
	BudgetFen         int64           `json:"budget_fen"`
	CommittedFen      int64           `json:"committed_fen"`
	SpentFen          int64           `json:"spent_fen"`
	AvailableFen      int64           `json:"available_fen"`
	ExecutionPermille int64           `json:"execution_permille"`
	Lines             []LineExecution `json:"lines,omitempty"`
}

func (s *SubDistrictExecution) add(l *ledger.BudgetLine) LineExecution {
	le := LineExecution{
		LineID: l.ID, FiscalYear: l.FiscalYear, SubDistrict: l.SubDistrict, ItemCode: l.ItemCode, ItemName: l.ItemName,
		ProjectName: l.ProjectName, ApprovedFen: l.ApprovedFen, AdjustedFen: l.AdjustedFen, BudgetFen: l.BudgetFen(),
		CommittedFen: l.CommittedFen, SpentFen: l.SpentFen, AvailableFen: l.AvailableFen,
		ExecutionPermille: rates.PerMille(l.SpentFen, l.BudgetFen()), Adjustments: l.AdjustmentCount, Outcome: outcomeOf(l),
		ReviewStage: l.ReviewStage, ReviewStages: reviewStages(l.ReviewNotes),
	}
	s.LineCount++
	switch le.Outcome {
	case OutcomeExact:
		s.ExactCount++
	case OutcomeAdjusted:
		s.AdjustedCount++
	default:
		s.OtherCount++
	}
	s.ApprovedFen += le.ApprovedFen
	s.AdjustedFen += le.AdjustedFen
	s.BudgetFen += le.BudgetFen
	s.CommittedFen += le.CommittedFen
	s.SpentFen += le.SpentFen
	s.AvailableFen += le.AvailableFen
	return le
}

func (s *SubDistrictExecution) finish() {
	s.ExactPermille, s.AdjustedPermille = rates.PerMille(s.ExactCount, s.LineCount), rates.PerMille(s.AdjustedCount, s.LineCount)
	s.ExactPercent, s.AdjustedPercent = Percent(s.ExactCount, s.LineCount), Percent(s.AdjustedCount, s.LineCount)
	s.ExecutionPermille = rates.PerMille(s.SpentFen, s.BudgetFen)
}

// ExecutionReport is a fiscal year's execution, per sub-district and line,
// with the district total (Total.Lines is empty).
type ExecutionReport struct {
	FiscalYear   int                    `json:"fiscal_year"`
	SubDistricts []SubDistrictExecution `json:"sub_districts"`
	Total        SubDistrictExecution   `json:"total"`
}

// checkReportYear refuses a missing or out-of-range fiscal year.
func checkReportYear(fiscalYear int) error {
	switch {
	case fiscalYear == 0:
		return minsheng.Invalid("请指定财年", map[string]string{"year": "必填"})
	}
	return calendar.CheckFiscalYear("year", fiscalYear)
}

// reportScope resolves which sub-district a report covers for p: staff of a
// sub-district get their own; finance and admin the one asked for, or all.
func (s *Reporter) reportScope(p auth.Principal, fiscalYear int, subDistrict string) (string, error) {
	if err := ledger.RequireReader(p); err != nil {
		return "", err
	}
	if err := checkReportYear(fiscalYear); err != nil {
		return "", err
	}
	return s.ledger.ReaderScope(p, subDistrict)
}

// reviewStages lists the distinct stages of notes, in the order first seen.
func reviewStages(notes []ledger.ReviewNote) []string {
	var out []string
	for _, n := range notes {
		if !slices.Contains(out, n.Stage) {
			out = append(out, n.Stage)
		}
	}
	return out
}

// ExecutionReport computes execution per line and sub-district for a fiscal
// year: spent against budget in ‰, and how many lines were executed exactly
// as approved versus adjusted. Errors: EFORBIDDEN, EINVALID (no year).
func (s *Reporter) ExecutionReport(ctx context.Context, p auth.Principal, fiscalYear int, subDistrict string) (*ExecutionReport, error) {
	sub, err := s.reportScope(p, fiscalYear, subDistrict)
	if err != nil {
		return nil, err
	}
	bySub := map[string]*SubDistrictExecution{}
	rep := &ExecutionReport{FiscalYear: fiscalYear, Total: SubDistrictExecution{Code: "", Name: "合计"}}
	// The review notes are read: the export lists every stage a line was
	// reviewed at.
	err = s.ledger.EachLineFigures(ctx, fiscalYear, sub, ledger.ByPlace, func(l *ledger.BudgetLine) error {
		if l.Frozen != "" {
			return nil // figures beyond the money bound would wrap the sums; Check lists it
		}
		se, ok := bySub[l.SubDistrict]
		if !ok {
			se = &SubDistrictExecution{Code: l.SubDistrict, Name: l.SubDistrict}
			if sd, err := s.org.SubDistrict(l.SubDistrict); err == nil {
				se.Name = sd.Name
			}
			bySub[l.SubDistrict] = se
		}
		se.Lines = append(se.Lines, se.add(l))
		rep.Total.add(l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, se := range bySub {
		se.finish()
		rep.SubDistricts = append(rep.SubDistricts, *se)
	}
	slices.SortFunc(rep.SubDistricts, func(a, b SubDistrictExecution) int { return strings.Compare(a.Code, b.Code) })
	rep.Total.finish()
	return rep, nil
}

// AdjustmentReport answers the reform's question — how many lines were
// executed exactly as approved, how many adjusted — per sub-district, with
// the adjustments applied by kind.
type AdjustmentReport struct {
	FiscalYear   int                    `json:"fiscal_year"`
	SubDistricts []SubDistrictExecution `json:"sub_districts"`
	Total        SubDistrictExecution   `json:"total"`
	// ByKind counts applied adjustments and sums their amounts per kind
	// (increase, decrease, transfer).
	ByKind map[string]AdjustmentTally `json:"by_kind"`
	// Summary is the sentence finance staff quote, computed from the data.
	Summary string `json:"summary"`
}

// AdjustmentTally counts and sums adjustments of one kind.
type AdjustmentTally struct {
	Count     int64 `json:"count"`
	AmountFen int64 `json:"amount_fen"`
}

// AdjustmentReport computes exact-versus-adjusted execution for a fiscal
// year. Errors: EFORBIDDEN, EINVALID.
func (s *Reporter) AdjustmentReport(ctx context.Context, p auth.Principal, fiscalYear int, subDistrict string) (*AdjustmentReport, error) {
	exec, err := s.ExecutionReport(ctx, p, fiscalYear, subDistrict)
	if err != nil {
		return nil, err
	}
	sub, _ := s.reportScope(p, fiscalYear, subDistrict)
	rep := &AdjustmentReport{FiscalYear: fiscalYear, Total: exec.Total, ByKind: map[string]AdjustmentTally{}}
	for _, se := range exec.SubDistricts {
		se.Lines = nil
		rep.SubDistricts = append(rep.SubDistricts, se)
	}
	err = s.ledger.EachAppliedAdjustment(ctx, fiscalYear, sub, func(kind string, amountFen int64) error {
		t := rep.ByKind[kind]
		t.Count++
		t.AmountFen += amountFen
		rep.ByKind[kind] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	t := rep.Total
	rep.Summary = fmt.Sprintf("%d 年度批复预算项目 %d 个，其中按照批复预算 100%% 执行 %d 个，占 %d%%（%d‰）；进行了项目调整 %d 个，占 %d%%（%d‰）；其余 %d 个未调整且未按批复额执行完毕。",
		fiscalYear, t.LineCount, t.ExactCount, t.ExactPercent, t.ExactPermille, t.AdjustedCount, t.AdjustedPercent, t.AdjustedPermille, t.OtherCount)
	return rep, nil
}
