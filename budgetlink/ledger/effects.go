package ledger

// The ledger's side of a case's money effects (cases/effects.go): cases
// decides a completion or cancellation in its versioned write, with a
// pending effect whose id is new for that transition, and then asks the
// ledger to apply it here. Spending is keyed by the effect id — it becomes
// the entry's Movement and the audit entry's id — so applying one effect
// twice (a retry, the next step, Check after a crash) books its cost once,
// while a later completion of a reopened case (a new effect) re-books the
// cost it states. A release needs no key: it frees a live entry, and a
// cancelled case has none left to free.

import (
	"context"
	"fmt"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/auth"
)

// FixCaseEffect is Check's report of a money effect it finished for a case
// whose transition was decided but whose money a crash left unmoved.
const FixCaseEffect = "case_effect"

// CanComplete refuses a completion at actualFen that the case's line cannot
// cover (cases.MoneyEffects); it moves nothing. An unlinked case is fine.
func (s *Service) CanComplete(ctx context.Context, c *cases.Case, actualFen int64) error {
	l, _, err := s.linkedLine(ctx, c.ID)
	if err != nil || l == nil {
		return err
	}
	i, _ := liveEntry(l, c.ID)
	_, _, err = s.spendChange(l, i, auth.Principal{}, actualFen, "")
	return err
}

// ApplyEffect carries out a decided money effect (cases.MoneyEffects) and
// returns the case's new copy of its link and the timeline note. Spending
// is idempotent by the effect's id; an unlinked case has no effect.
// Errors: ECONFLICT when the line can no longer cover an overrun.
func (s *Service) ApplyEffect(ctx context.Context, p auth.Principal, c *cases.Case, e cases.MoneyEffect) (*cases.BudgetLink, string, error) {
	if s.faultBeforeEffect != nil {
		if err := s.faultBeforeEffect(); err != nil {
			return nil, "", err
		}
	}
	switch e.Kind {
	case cases.EffectSpend:
		l, _, err := s.linkedLine(ctx, c.ID)
		if err != nil || l == nil {
			return nil, "", err
		}
		r, err := s.spendEffect(ctx, p, l.ID, c.ID, e.ID, e.ActualCostFen)
		if err != nil {
			return nil, "", err
		}
		return copyOf(l, r).budgetLink(), fmt.Sprintf("办结支出 %s（预留 %s）", minsheng.Yuan(r.SpentFen), minsheng.Yuan(r.AmountFen)), nil
	case cases.EffectRelease:
		l, r, err := s.linkedLine(ctx, c.ID)
		if err != nil {
			return nil, "", err
		}
		if l == nil {
			// Released already — by another attempt of this effect, such
			// as a request settling it at the same moment — or never
			// linked. The released copy and its note are returned all the
			// same, from the case's copy as it was before: only one
			// attempt records the effect (cases.recordEffect), and if it
			// is this one, the copy must not stay "reserved" nor the note
			// go missing.
			if c.Budget == nil || c.Budget.State == StateReleased {
				return nil, "", nil
			}
			link, note := releasedCopy(fromBudgetLink(c.Budget))
			return link, note, nil
		}
		if _, err := s.release(ctx, p, l.ID, c.ID, "案件取消", true); err != nil {
			return nil, "", err
		}
		link, note := releasedCopy(copyOf(l, r))
		return link, note, nil
	}
	return nil, "", minsheng.Errorf(minsheng.EINTERNAL, "未知的资金操作")
}

// releasedCopy is the copy cc once released, and the note saying what was
// freed: the reservation, or what was spent.
func releasedCopy(cc *caseCopy) (*cases.BudgetLink, string) {
	freed := cc.ReservedFen
	if cc.State == StateSpent {
		freed = cc.SpentFen
	}
	cc.State, cc.ReservedFen, cc.SpentFen = StateReleased, 0, 0
	return cc.budgetLink(), "案件取消，释放预留资金 " + minsheng.Yuan(freed)
}

// spendEffect books the actual cost of effect effectID on the case's live
// entry; an entry whose last movement is this effect is returned as it is.
func (s *Service) spendEffect(ctx context.Context, p auth.Principal, lineID, caseID, effectID string, actualFen int64) (Reservation, error) {
	var out Reservation
	_, _, err := s.mutateLine(ctx, lineID, func(l *BudgetLine) (*lineChange, error) {
		i, ok := liveEntry(l, caseID)
		if !ok {
			return nil, minsheng.Errorf(minsheng.ECONFLICT, "该案件已不在预算项目「%s」预留资金", l.ProjectName)
		}
		// Applied already, or a later completion of the reopened case
		// was: a request that stalled after deciding must not re-book
		// its older cost.
		if cases.EffectSupersedes(l.Reservations[i].Movement, effectID) {
			out = l.Reservations[i]
			return nil, nil
		}
		ch, r, err := s.spendChange(l, i, p, actualFen, effectID)
		out = r
		return ch, err
	})
	return out, err
}

// spendChange is what spending actualFen on entry i of l does, under the
// movement id: the one rule of spending, for a completion (ApplyEffect),
// its check beforehand (CanComplete) and a reopened case completed again
// (re-booked at the new cost). EINVALID for an amount outside
// 0..MaxAmountFen; ECONFLICT when the line's available money cannot cover
// an overrun. i < 0 (no live entry) needs nothing.
func (s *Service) spendChange(l *BudgetLine, i int, p auth.Principal, actualFen int64, movement string) (*lineChange, Reservation, error) {
	if i < 0 {
		return nil, Reservation{}, nil
	}
	if err := minsheng.CheckFen("actual_cost_fen", actualFen); err != nil {
		return nil, Reservation{}, err
	}
	r := l.Reservations[i]
	rs := copyReservations(l.Reservations)
	if r.State == StateSpent {
		// A reopened case completed again: re-book at the new cost.
		d := actualFen - r.SpentFen
		if d == 0 {
			return nil, r, nil
		}
		if d > l.AvailableFen {
			return nil, Reservation{}, minsheng.Errorf(minsheng.ECONFLICT, "实际费用改为 %s 需再支出 %s，但预算项目「%s」可用额度仅 %s；请先申请预算调整",
				minsheng.Yuan(actualFen), minsheng.Yuan(d), l.ProjectName, minsheng.Yuan(l.AvailableFen))
		}
		r.SpentFen, r.Movement, r.UpdatedAt = actualFen, movement, s.now()
		rs[i] = r
		return &lineChange{reservations: rs, spent: d, available: -d, audit: AuditEntry{
			ID: movement, Kind: AuditSpend, CaseID: r.CaseID, AmountFen: d, By: p.UserID, ByName: p.Name, ByRole: p.Role,
			Note: fmt.Sprintf("实际支出更正为 %s", minsheng.Yuan(actualFen)),
		}}, r, nil
	}
	if over := actualFen - r.AmountFen; over > l.AvailableFen {
		return nil, Reservation{}, minsheng.Errorf(minsheng.ECONFLICT, "实际费用 %s 超出预留 %s，超出的 %s 需由预算项目「%s」的可用额度支付，但可用额度仅 %s；请先申请预算调整",
			minsheng.Yuan(actualFen), minsheng.Yuan(r.AmountFen), minsheng.Yuan(over), l.ProjectName, minsheng.Yuan(l.AvailableFen))
	}
	reserved := r.AmountFen
	r.State, r.SpentFen, r.Movement, r.UpdatedAt = StateSpent, actualFen, movement, s.now()
	rs[i] = r
	return &lineChange{reservations: rs, committed: -reserved, spent: actualFen, available: reserved - actualFen, audit: AuditEntry{
		ID: movement, Kind: AuditSpend, CaseID: r.CaseID, AmountFen: actualFen, By: p.UserID, ByName: p.Name, ByRole: p.Role,
		Note: fmt.Sprintf("预留 %s，实际支出 %s", minsheng.Yuan(reserved), minsheng.Yuan(actualFen)),
	}}, r, nil
}

// checkCaseEffects finishes the money effects of transitions a crash left
// pending, before the lines are checked, so their totals already hold them.
func (s *Service) checkCaseEffects(ctx context.Context, rep *CheckReport) error {
	if s.casesSvc == nil {
		return nil
	}
	settled, err := s.casesSvc.FinishMoneyEffects(ctx)
	for _, e := range settled {
		detail := fmt.Sprintf("完成案件状态变更后未执行的资金操作（%s）", e.Kind)
		if e.State == cases.EffectFailed {
			detail = fmt.Sprintf("资金操作（%s）无法执行，已撤销该状态变更：%s", e.Kind, e.Reason)
		}
		rep.fix(CheckFix{Kind: FixCaseEffect, CaseID: e.CaseID, Detail: detail})
	}
	return err
}
