package cases

// Money effects of transitions (办结支出, 取消释放), decided before they are
// applied: the order — decide, apply, record or undo — is package
// moneyeffect's; which transition makes an effect and what the timeline
// says of it are here.

import (
	"context"
	"fmt"

	"minsheng"
	"minsheng/cases/casedb"
	"minsheng/cases/moneyeffect"
	"minsheng/internal/auth"
)

// EffectKind is what a transition does to the case's money.
type EffectKind = moneyeffect.Kind

// Effect kinds.
const (
	EffectSpend   = moneyeffect.Spend   // 办结支出
	EffectRelease = moneyeffect.Release // 取消释放
)

// Effect states.
const (
	EffectPending = moneyeffect.Pending
	EffectDone    = moneyeffect.Done
	EffectFailed  = moneyeffect.Failed
)

// MoneyEffect is the money one transition moves (package moneyeffect).
type MoneyEffect = moneyeffect.Effect[Status]

// EffectSupersedes reports whether effect id a is the same as, or later
// than, b (moneyeffect.Supersedes).
func EffectSupersedes(a, b string) bool { return moneyeffect.Supersedes(a, b) }

var refused = moneyeffect.Refused

// newEffect is the pending effect of a transition of c taken by p.
func (s *Service) newEffect(p auth.Principal, c *Case, kind EffectKind, actualFen int64) *MoneyEffect {
	return &MoneyEffect{
		ID: moneyeffect.NewID(c.Version + 1), Kind: kind, ActualCostFen: actualFen,
		State: EffectPending, Version: c.Version + 1, From: c.Status, PrevDueAt: c.DueAt,
		PrevActualCostFen: c.ActualCostFen, By: p.UserID, ByName: p.Name, ByRole: p.Role, At: s.now(),
	}
}

// settle applies c's pending money effect and records the outcome. It
// returns the case as stored afterwards; a refusal is returned as the
// ledger's error after the transition was undone. A case without a pending
// effect is returned as it is.
func (s *Service) settle(ctx context.Context, c *Case) (*Case, error) {
	e := c.MoneyEffect
	if e == nil || e.State != EffectPending {
		return c, nil
	}
	link, noteText, err := s.money.ApplyEffect(ctx, e.Principal(), c, *e)
	switch {
	case err == nil:
		if err := s.recordEffect(ctx, c.ID, e, link, noteText); err != nil {
			return nil, err
		}
	case refused(err):
		if uerr := s.undoEffect(ctx, c, e, minsheng.ErrorMessage(err)); uerr != nil {
			return nil, uerr
		}
		return nil, err
	default:
		return nil, fmt.Errorf("cases: unable to apply money effect %s of case %s: %w", e.ID, c.ID, err)
	}
	return s.load(ctx, c.ID)
}

// recordEffect marks e done with the case's new copy of its link (nil
// leaves the copy) and the note; when another caller recorded it first,
// nothing happens.
func (s *Service) recordEffect(ctx context.Context, caseID string, e *MoneyEffect, link *BudgetLink, noteText string) error {
	now := s.now()
	var entry, copied any
	if link != nil {
		copied = link
	}
	if noteText != "" {
		ev := Event{At: now, Actor: e.By, Role: e.ByRole, Action: ActBudget, Note: noteText}
		if e.ByRole != auth.RoleResident {
			ev.ActorName = e.ByName
		}
		entry = ev
	}
	matched, err := s.cases.Update(ctx, casedb.Change{ID: caseID, If: moneyeffect.WhilePending(e.ID), Update: moneyeffect.DoneUpdate(now, copied, entry)})
	if err != nil {
		return fmt.Errorf("cases: unable to record money effect %s of case %s: %w", e.ID, caseID, err)
	}
	if matched && noteText != "" {
		s.notifyBudget(ctx, caseID, noteText) // notify.go: money spent or released
	}
	return nil
}

// undoEffect returns the case to the state before e's transition and marks
// e failed with the ledger's reason.
func (s *Service) undoEffect(ctx context.Context, c *Case, e *MoneyEffect, reason string) error {
	now := s.now()
	label := "办结"
	if e.Kind == EffectRelease {
		label = "取消"
	}
	ev := Event{At: now, Actor: e.By, Role: e.ByRole, Action: ActUndo, From: c.Status, To: e.From,
		Note: label + "未生效：" + reason}
	if e.ByRole != auth.RoleResident {
		ev.ActorName = e.ByName
	}
	update := moneyeffect.UndoUpdate(e, reason, now, ev)
	if _, err := s.cases.Update(ctx, casedb.Change{ID: c.ID, If: moneyeffect.WhilePending(e.ID), Update: update}); err != nil {
		return fmt.Errorf("cases: unable to undo money effect %s of case %s: %w", e.ID, c.ID, err)
	}
	s.cfg.Logger.Warn("money effect refused; transition undone", "case", c.ID, "effect", e.ID, "reason", reason)
	return nil
}

// SettledEffect is what FinishMoneyEffects did with one pending effect.
type SettledEffect = moneyeffect.Settled

// FinishMoneyEffects applies every pending money effect, as `minsheng
// check` does after a crash fell between a transition and its money
// (moneyeffect.Finish). It returns what it settled; an error only when
// the store fails.
func (s *Service) FinishMoneyEffects(ctx context.Context) ([]SettledEffect, error) {
	return moneyeffect.Finish(ctx, s.cases,
		func(c *Case) (string, *MoneyEffect) { return c.ID, c.MoneyEffect },
		func(ctx context.Context, c *Case) error { _, err := s.settle(ctx, c); return err })
}
