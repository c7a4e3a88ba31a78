package ledger

import (
	"context"

	"minsheng"
	"minsheng/internal/auth"
)

// CaseName is how a person reads a case: its number and title.
type CaseName struct {
	Number string `json:"number"`
	Title  string `json:"title"`
}

// LineWithCases is a line with the number and title of every case its
// reservations name, so a line's page shows "XC2026-000123 楼道堆物" and not
// a bare id.
type LineWithCases struct {
	*BudgetLine
	Cases map[string]CaseName `json:"cases"`
}

// LineWithCases returns a line (as Line does) and its cases' names.
// Errors: those of Line.
func (s *Service) LineWithCases(ctx context.Context, p auth.Principal, id string) (*LineWithCases, error) {
	l, err := s.Line(ctx, p, id)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(l.Reservations))
	for _, r := range l.Reservations {
		ids = append(ids, r.CaseID, r.ReleasedCaseID)
	}
	refs, err := s.caseRefs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range l.Reservations {
		if r := &l.Reservations[i]; r.State == StateSpent && r.AmountFen > r.SpentFen {
			r.ReleasedFen = r.AmountFen - r.SpentFen
		}
	}
	return &LineWithCases{BudgetLine: l, Cases: refs}, nil
}

// AuditWithCases returns a page of the audit trail (as Audit does) and the
// number and title of every case its entries name. Errors: those of Audit.
func (s *Service) AuditWithCases(ctx context.Context, p auth.Principal, f AuditFilter) ([]AuditEntry, map[string]CaseName, string, error) {
	items, next, err := s.Audit(ctx, p, f)
	if err != nil {
		return nil, nil, "", err
	}
	ids := make([]string, 0, len(items))
	for _, e := range items {
		ids = append(ids, e.CaseID)
	}
	refs, err := s.caseRefs(ctx, ids)
	if err != nil {
		return nil, nil, "", err
	}
	return items, refs, next, nil
}

// caseRefs looks cases up by id, one _id read each (the engine's indexed
// path); a case since purged or unknown is left out, never an error.
func (s *Service) caseRefs(ctx context.Context, ids []string) (map[string]CaseName, error) {
	out := map[string]CaseName{}
	cs, err := s.requireCases()
	if err != nil {
		return out, nil // a ledger without cases (some tests) shows ids
	}
	for _, id := range ids {
		if id == "" {
			continue
		}
		if _, ok := out[id]; ok {
			continue
		}
		c, err := cs.FindByID(ctx, id)
		if minsheng.ErrorCode(err) == minsheng.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = CaseName{Number: c.Number, Title: c.Title}
	}
	return out, nil
}
