package reports

// Reports that join cases and lines: demand per catalog item (the
// classification consistency report is in consistency.go).

import (
	"context"
	"slices"
	"strings"

	"minsheng/budgetlink/catalog"
	"minsheng/budgetlink/ledger"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
)

// ItemDemand is the residents' demand booked under one catalog item, and
// the money set aside for it.
type ItemDemand struct {
	ItemCode string `json:"item_code"`
	ItemName string `json:"item_name"`
	Area     string `json:"area"`
	// Cases classified to the item (rejected, merged and cancelled ones
	// left out) and their on-site estimates, funded or not: what residents
	// asked for, never mixed with what was reserved or spent.
	Cases       int64 `json:"cases"`
	EstimateFen int64 `json:"estimate_fen"`
	// Funded cases hold a live reservation or spending on a line; FundedFen
	// is ReservedFen (still reserved) plus SpentFen (actually spent).
	FundedCases int64 `json:"funded_cases"`
	FundedFen   int64 `json:"funded_fen"`
	ReservedFen int64 `json:"reserved_fen"`
	SpentFen    int64 `json:"spent_fen"`
	// Unfunded cases have no line yet.
	UnfundedCases       int64 `json:"unfunded_cases"`
	UnfundedEstimateFen int64 `json:"unfunded_estimate_fen"`
	// Lines under the item and their budget and what is still available.
	Lines        int64 `json:"lines"`
	BudgetFen    int64 `json:"budget_fen"`
	AvailableFen int64 `json:"available_fen"`
}

// DemandReport is demand per item for a fiscal year and sub-district ("" for
// the whole district).
type DemandReport struct {
	FiscalYear  int          `json:"fiscal_year"`
	SubDistrict string       `json:"sub_district,omitempty"`
	Items       []ItemDemand `json:"items"`
	// Unclassified counts cases filed that year not yet given an item.
	Unclassified            int64 `json:"unclassified"`
	UnclassifiedEstimateFen int64 `json:"unclassified_estimate_fen"`
}

func countsAsDemand(s cases.Status) bool {
	return s != cases.StatusRejected && s != cases.StatusMerged && s != cases.StatusCancelled
}

// DemandReport sums, per catalog item, the cases filed in a fiscal year
// (in the service's zone) with their estimates, funded or not, beside the lines'
// budgets. Funding is read from the lines, which are authoritative.
// Errors: EFORBIDDEN, EINVALID.
func (s *Reporter) DemandReport(ctx context.Context, p auth.Principal, fiscalYear int, subDistrict string) (*DemandReport, error) {
	sub, err := s.reportScope(p, fiscalYear, subDistrict)
	if err != nil {
		return nil, err
	}
	cs, err := s.ledger.Cases()
	if err != nil {
		return nil, err
	}
	cat, _ := s.ledger.Catalog(fiscalYear)
	t := &demandTally{cat: cat, items: map[string]*ItemDemand{}, funded: map[string]caseMoney{}}
	lines, err := s.linesOf(ctx, fiscalYear, sub)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		t.addLine(l)
	}
	t.rep = &DemandReport{FiscalYear: fiscalYear, SubDistrict: sub}
	err = cs.EachCaseFacts(ctx, s.filedIn(cases.Filter{SubDistrict: sub}, fiscalYear), func(c *cases.Case) error {
		if calendar.FiscalYear(c.FiledAt, s.zone) != fiscalYear || !countsAsDemand(c.Status) {
			return nil
		}
		t.addCase(c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep := t.rep
	for _, d := range t.items {
		rep.Items = append(rep.Items, *d)
	}
	slices.SortFunc(rep.Items, func(a, b ItemDemand) int { return strings.Compare(a.ItemCode, b.ItemCode) })
	return rep, nil
}

// caseMoney is a case's live amount on a line.
type caseMoney struct{ reserved, spent int64 }

// demandTally sums a DemandReport.
type demandTally struct {
	cat    *catalog.Catalog // nil without a catalog for the year
	items  map[string]*ItemDemand
	funded map[string]caseMoney // case id → live amount on a line
	rep    *DemandReport
}

// item returns the demand of the item code, added when first met.
func (t *demandTally) item(code string) *ItemDemand {
	d, ok := t.items[code]
	if !ok {
		d = &ItemDemand{ItemCode: code}
		if t.cat != nil {
			if it, ok := t.cat.Item(code); ok {
				d.ItemName, d.Area = it.Name, it.Area
			}
		}
		t.items[code] = d
	}
	return d
}

// addLine adds a line's budget to its item, and notes the cases it funds.
func (t *demandTally) addLine(l *ledger.BudgetLine) {
	d := t.item(l.ItemCode)
	d.Lines++
	d.BudgetFen += l.BudgetFen()
	d.AvailableFen += l.AvailableFen
	for _, r := range l.Reservations {
		switch r.State {
		case ledger.StateReserved:
			t.funded[r.CaseID] = caseMoney{reserved: r.AmountFen}
		case ledger.StateSpent:
			t.funded[r.CaseID] = caseMoney{spent: r.SpentFen}
		}
	}
}

// addCase adds a case that counts as demand to its item, or to the
// unclassified.
func (t *demandTally) addCase(c *cases.Case) {
	// The estimate is the on-site assessment's, or the one stated when
	// linking; never what was spent.
	estimate := int64(0)
	switch {
	case c.Assessment != nil:
		estimate = c.Assessment.EstimateFen
	case c.Budget != nil:
		estimate = c.Budget.EstimateFen
	}
	if c.CatalogItem == "" {
		t.rep.Unclassified++
		t.rep.UnclassifiedEstimateFen += estimate
		return
	}
	d := t.item(c.CatalogItem)
	d.Cases++
	d.EstimateFen += estimate
	if m, ok := t.funded[c.ID]; ok {
		d.FundedCases++
		d.ReservedFen += m.reserved
		d.SpentFen += m.spent
		d.FundedFen += m.reserved + m.spent
	} else {
		d.UnfundedCases++
		d.UnfundedEstimateFen += estimate
	}
}

// filedIn selects the cases filed in a fiscal year (in the ledger's
// zone), so reports read that year's cases rather than every case.
func (s *Reporter) filedIn(f cases.Filter, fiscalYear int) cases.Filter {
	f.FiledFrom, f.FiledTo = calendar.YearRange(fiscalYear, s.zone)
	return f
}
