package ledger

// Cases meet the ledger here: classification to the catalog, linking a case
// to a line of its sub-district (reserve on the line, then write the case's
// display copy), re-estimating, unlinking, and the money effects of
// completing or cancelling a case (cases.MoneyEffects). The line is
// authoritative; a crash between the line and the copy is repaired by Check.

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/budgetlink/catalog"
	"minsheng/cases"
	"minsheng/internal/auth"
)

// Service implements cases.MoneyEffects.
var _ cases.MoneyEffects = (*Service)(nil)

// SetCases wires the cases service in both directions: the ledger reads
// cases and writes their copies, and completing or cancelling a case moves
// its money through s. Call it once at start, before serving.
func (s *Service) SetCases(cs *cases.Service) {
	s.cases = casesBook{cs}
	s.casesSvc = cs
	cs.SetMoneyEffects(s)
}

func (s *Service) requireCases() (*cases.Service, error) {
	if s.casesSvc == nil {
		return nil, errors.New("budgetlink: cases service not wired (SetCases)")
	}
	return s.casesSvc, nil
}

// catalogFor returns the catalog that applies to a case: the one in force
// when it was filed (CatalogAt).
func (s *Service) catalogFor(c *cases.Case) (*catalog.Catalog, error) {
	return s.CatalogAt(c.FiledAt)
}

// SuggestItems returns up to n catalog items (3 when n ≤ 0) for a case, best
// first, from its area, title and description. Errors: EFORBIDDEN (not
// staff, or out of scope), ENOTFOUND.
func (s *Service) SuggestItems(ctx context.Context, p auth.Principal, caseID string, n int) ([]catalog.Suggestion, error) {
	cs, err := s.requireCases()
	if err != nil {
		return nil, err
	}
	if err := p.RequireRole(auth.RoleCadre, auth.RoleSubdistrict, auth.RoleFinance, auth.RoleAdmin); err != nil {
		return nil, err
	}
	c, err := cs.Get(ctx, p, caseID)
	if err != nil {
		return nil, err
	}
	cat, err := s.catalogFor(c)
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		n = 3
	}
	return cat.Suggest(c.Area, c.Title+"\n"+c.Description, n), nil
}

// ConfirmItem classifies a case to a catalog item (staff confirm a
// suggestion or pick another) and sets its completion deadline from the
// item's SLA. A case linked to a line of another item must be unlinked
// first. Errors: EFORBIDDEN, EINVALID (unknown item), ENOTFOUND, ECONFLICT
// (stale version, linked elsewhere).
func (s *Service) ConfirmItem(ctx context.Context, p auth.Principal, caseID string, version int64, itemCode string) (*cases.Case, error) {
	cs, err := s.requireCases()
	if err != nil {
		return nil, err
	}
	c, err := cs.Get(ctx, p, caseID)
	if err != nil {
		return nil, err
	}
	cat, err := s.catalogFor(c)
	if err != nil {
		return nil, err
	}
	item, ok := cat.Item(itemCode)
	if !ok {
		return nil, minsheng.Invalid("支出分类不存在", map[string]string{"item_code": "不存在：" + itemCode})
	}
	if l, _, err := s.linkedLine(ctx, caseID); err != nil {
		return nil, err
	} else if l != nil && l.ItemCode != item.Code {
		return nil, minsheng.Errorf(minsheng.ECONFLICT, "案件已关联预算项目「%s」（%s），请先解除关联再改归类", l.ProjectName, l.ItemName)
	}
	return cs.SetCatalogItem(ctx, p, caseID, version, item.Code, item.SLADays)
}

// lineOfCase finds the line holding a live reservation for a case — the
// authority, not the case's copy, which a crash may have left stale — by
// scanning every line: Check's way, which must not trust the claims it
// repairs. Requests use linkedLine (claim.go).
func (s *Service) lineOfCase(ctx context.Context, caseID string) (*BudgetLine, Reservation, error) {
	var ls []*BudgetLine
	if err := s.lines.FindAll(ctx, bson.M{"reservations.case_id": caseID}, &ls); err != nil {
		return nil, Reservation{}, fmt.Errorf("budgetlink: unable to find the line of case %s: %w", caseID, err)
	}
	for _, l := range ls {
		if i, ok := liveEntry(l, caseID); ok {
			return l, l.Reservations[i], nil
		}
	}
	return nil, Reservation{}, nil
}

// LinkCase links an open, classified case to a line of its sub-district,
// reserving estimateFen (the on-site assessment's estimate when 0). It is
// idempotent: linking again with the same estimate changes nothing.
// Errors: EFORBIDDEN, EINVALID, ENOTFOUND, ECONFLICT (closed case, another
// item or sub-district, linked elsewhere, not enough available).
func (s *Service) LinkCase(ctx context.Context, p auth.Principal, caseID, lineID string, estimateFen int64) (*cases.BudgetLink, error) {
	cs, err := s.requireCases()
	if err != nil {
		return nil, err
	}
	c, err := cs.Get(ctx, p, caseID)
	if err != nil {
		return nil, err
	}
	if !c.Status.Open() {
		return nil, minsheng.Errorf(minsheng.ECONFLICT, "案件已%s，不能关联预算", c.Status.Label())
	}
	if estimateFen == 0 && c.Assessment != nil {
		estimateFen = c.Assessment.EstimateFen
	}
	l, err := s.FindLineByID(ctx, lineID)
	if err != nil {
		return nil, err
	}
	if err := requireLinker(p, l.SubDistrict); err != nil {
		return nil, err
	}
	r, fresh, err := s.reserve(ctx, p, l, CaseRef{ID: c.ID, SubDistrict: c.Location.SubDistrict, ItemCode: c.CatalogItem}, estimateFen)
	if err != nil {
		return nil, err
	}
	if s.faultAfterReserve != nil {
		if err := s.faultAfterReserve(); err != nil {
			return nil, err
		}
	}
	link := copyOf(l, r).budgetLink()
	// The timeline notes the link once per reservation: only the request
	// that made it (its ledger claim's winner, ledgerclaim.go) writes the
	// note, so copies re-posted, retried or sent at once by a phone do not
	// (docs/ARCHITECTURE.md: "at most once" is an insert under a unique index, here
	// the reservation's claim res/<line>/<case>/<generation>, never a guard
	// on the timeline array). Unlinking starts a new generation, so a
	// later link is noted again. A crash between the reservation and the
	// copy loses the note, never money: Check rewrites the copy.
	note := ""
	if fresh {
		note = fmt.Sprintf("关联预算项目「%s」，预留 %s", l.ProjectName, minsheng.Yuan(r.AmountFen))
	}
	if err := cs.SetBudgetCopy(ctx, p, c.ID, link, note); err != nil {
		return nil, err
	}
	return link, nil
}

// ReestimateCase changes the reservation of a linked case.
// Errors: EFORBIDDEN, EINVALID, ENOTFOUND (not linked), ECONFLICT.
func (s *Service) ReestimateCase(ctx context.Context, p auth.Principal, caseID string, estimateFen int64) (*cases.BudgetLink, error) {
	cs, err := s.requireCases()
	if err != nil {
		return nil, err
	}
	c, err := cs.Get(ctx, p, caseID)
	if err != nil {
		return nil, err
	}
	l, _, err := s.linkedLine(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, minsheng.Errorf(minsheng.ENOTFOUND, "案件尚未关联预算项目")
	}
	if err := requireLinker(p, l.SubDistrict); err != nil {
		return nil, err
	}
	r, err := s.reestimate(ctx, p, l.ID, c.ID, estimateFen)
	if err != nil {
		return nil, err
	}
	link := copyOf(l, r).budgetLink()
	if err := cs.SetBudgetCopy(ctx, p, c.ID, link, fmt.Sprintf("重新估算，预留调整为 %s", minsheng.Yuan(r.AmountFen))); err != nil {
		return nil, err
	}
	return link, nil
}

// UnlinkCase releases a case's reservation and removes its copy. Unlinking
// a case that is not linked is a no-op. Errors: EFORBIDDEN, ENOTFOUND,
// ECONFLICT (already spent).
func (s *Service) UnlinkCase(ctx context.Context, p auth.Principal, caseID string) error {
	cs, err := s.requireCases()
	if err != nil {
		return err
	}
	c, err := cs.Get(ctx, p, caseID)
	if err != nil {
		return err
	}
	l, _, err := s.linkedLine(ctx, c.ID)
	if err != nil {
		return err
	}
	if l != nil {
		if err := requireLinker(p, l.SubDistrict); err != nil {
			return err
		}
		if _, err := s.release(ctx, p, l.ID, c.ID, "解除关联", false); err != nil {
			return err
		}
		if s.faultAfterRelease != nil {
			if err := s.faultAfterRelease(); err != nil {
				return err
			}
		}
	} else if err := requireLinker(p, c.Location.SubDistrict); err != nil {
		return err
	}
	if c.Budget == nil {
		return nil
	}
	return cs.SetBudgetCopy(ctx, p, c.ID, nil, "解除预算关联，释放预留资金")
}

// The money effects of completing and cancelling a case
// (cases.MoneyEffects: CanComplete, ApplyEffect) are in effects.go.

func (c *caseCopy) budgetLink() *cases.BudgetLink {
	if c == nil {
		return nil
	}
	return &cases.BudgetLink{LineID: c.LineID, ItemCode: c.ItemCode, EstimateFen: c.EstimateFen, ReservedFen: c.ReservedFen,
		SpentFen: c.SpentFen, State: c.State, LinkedAt: c.LinkedAt, LinkedBy: c.LinkedBy}
}

func fromBudgetLink(b *cases.BudgetLink) *caseCopy {
	if b == nil {
		return nil
	}
	return &caseCopy{LineID: b.LineID, ItemCode: b.ItemCode, EstimateFen: b.EstimateFen, ReservedFen: b.ReservedFen,
		SpentFen: b.SpentFen, State: b.State, LinkedAt: b.LinkedAt, LinkedBy: b.LinkedBy}
}

// casesBook adapts *cases.Service to what Check needs.
type casesBook struct{ cs *cases.Service }

func (b casesBook) budgetCopy(ctx context.Context, caseID string) (*caseCopy, error) {
	c, err := b.cs.FindByID(ctx, caseID)
	if err != nil {
		return nil, err
	}
	return fromBudgetLink(c.Budget), nil
}

func (b casesBook) setCopy(ctx context.Context, caseID string, c *caseCopy, note string) error {
	return b.cs.SetBudgetCopy(ctx, auth.Principal{}, caseID, c.budgetLink(), note)
}

func (b casesBook) eachLinked(ctx context.Context, fn func(caseID string, c *caseCopy) error) error {
	return b.cs.EachCaseFacts(ctx, cases.Filter{HasBudget: true}, func(c *cases.Case) error {
		if c.Budget == nil {
			return nil
		}
		return fn(c.ID, fromBudgetLink(c.Budget))
	})
}
