package cases

// Money effects of transitions (办结支出, 取消释放), decided before they are
// applied: the order — decide, apply, record or undo — is package
// moneyeffect's; which transition makes an effect and what the timeline
// says of it are here.

import (
	"context"
	"time"

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

// settle applies c's pending money effect and records the outcome
// (moneyeffect.Book.Settle): the case as stored afterwards, or the
// ledger's refusal after the transition was undone.
func (s *Service) settle(ctx context.Context, c *Case) (*Case, error) {
	return s.book().Settle(ctx, c, c.ID, c.MoneyEffect)
}

// book is the money effects' protocol on this service's cases: the
// ledger's call, and what the timeline says of a note and of a refusal.
func (s *Service) book() moneyeffect.Book[Case, caseFacts, Status] {
	by := func(e *MoneyEffect, ev Event) Event {
		ev.Actor, ev.Role = e.By, e.ByRole
		if e.ByRole != auth.RoleResident {
			ev.ActorName = e.ByName
		}
		return ev
	}
	return moneyeffect.Book[Case, caseFacts, Status]{DB: s.cases, Load: s.load, Now: s.now, Log: s.cfg.Logger,
		Apply: func(ctx context.Context, c *Case, e MoneyEffect) (any, string, error) {
			link, note, err := s.money.ApplyEffect(ctx, e.Principal(), c, e)
			if link == nil {
				return nil, note, err
			}
			return link, note, err
		},
		Done: func(e *MoneyEffect, note string, at time.Time) any {
			return by(e, Event{At: at, Action: ActBudget, Note: note})
		},
		Undone: func(c *Case, e *MoneyEffect, reason string, at time.Time) any {
			label := "办结"
			if e.Kind == EffectRelease {
				label = "取消"
			}
			return by(e, Event{At: at, Action: ActUndo, From: c.Status, To: e.From, Note: label + "未生效：" + reason})
		},
		Noted: s.notifyBudget, // notify.go: money spent or released
	}
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
