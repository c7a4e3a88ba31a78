package cases

// Money effects of transitions (办结支出, 取消释放), decided before they are
// applied.
//
// Completing or cancelling a case moves money on its budget line. Moving it
// before the case's versioned write let every loser of a version race book
// its own cost and note (8 simultaneous completions: one 200, the line
// holding whichever cost ran last, 8 "办结支出" notes). So the order is:
//
//  1. decide: the versioned {_id, version} update records the transition
//     together with a pending MoneyEffect whose id is new for this
//     transition; of simultaneous requests exactly one gets here, and the
//     others leave no trace;
//  2. apply: MoneyEffects.ApplyEffect, idempotent and keyed by the effect's
//     id, so whoever applies it again (a retry, the next transition's
//     step, Check after a crash) moves the money once;
//  3. record: one update conditional on {money_effect.id, state: pending}
//     marks it done, writes the case's copy of its link and the timeline
//     note; only one caller matches, so the note is written once.
//
// An effect the ledger refuses (ECONFLICT or EINVALID: an overrun whose
// money another case took between the pre-check and the apply) undoes its
// transition in the same kind of conditional update and is marked failed
// with the reason.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/casedb"
	"minsheng/internal/auth"
)

// EffectKind is what a transition does to the case's money.
type EffectKind string

// Effect kinds.
const (
	EffectSpend   EffectKind = "spend"   // 办结支出: the reservation becomes spending at the actual cost
	EffectRelease EffectKind = "release" // 取消释放: the reservation (or spending) is released
)

// Effect states.
const (
	EffectPending = "pending" // decided, money not yet known to be moved
	EffectDone    = "done"    // money moved (or nothing to move), copy and note written
	EffectFailed  = "failed"  // refused by the ledger; the transition was undone
)

// MoneyEffect is the money one transition moves, stored on the case by the
// transition's own versioned write (money_effect).
type MoneyEffect struct {
	// ID is new for every transition and keys the effect's application.
	ID            string     `bson:"id" json:"id"`
	Kind          EffectKind `bson:"kind" json:"kind"`
	ActualCostFen int64      `bson:"actual_cost_fen" json:"actual_cost_fen"`
	State         string     `bson:"state" json:"state"`
	Reason        string     `bson:"reason,omitempty" json:"reason,omitempty"`
	// Version is the case's version the transition produced.
	Version int64 `bson:"version" json:"version"`
	// From, PrevDueAt and PrevActualCostFen let a refused effect undo its
	// transition.
	From              Status    `bson:"from" json:"from"`
	PrevDueAt         time.Time `bson:"prev_due_at" json:"prev_due_at"`
	PrevActualCostFen int64     `bson:"prev_actual_cost_fen" json:"prev_actual_cost_fen"`
	// By, ByName and ByRole are who decided it, for the ledger's audit.
	By     string     `bson:"by,omitempty" json:"by,omitempty"`
	ByName string     `bson:"by_name,omitempty" json:"by_name,omitempty"`
	ByRole auth.Role  `bson:"by_role,omitempty" json:"by_role,omitempty"`
	At     time.Time  `bson:"at" json:"at"`
	DoneAt *time.Time `bson:"done_at,omitempty" json:"done_at,omitempty"`
}

// Principal is who decided the effect.
func (e MoneyEffect) Principal() auth.Principal {
	return auth.Principal{UserID: e.By, Name: e.ByName, Role: e.ByRole}
}

// newEffect is the pending effect of a transition of c taken by p.
func (s *Service) newEffect(p auth.Principal, c *Case, kind EffectKind, actualFen int64) *MoneyEffect {
	return &MoneyEffect{
		ID: effectID(c.Version + 1), Kind: kind, ActualCostFen: actualFen,
		State: EffectPending, Version: c.Version + 1, From: c.Status, PrevDueAt: c.DueAt,
		PrevActualCostFen: c.ActualCostFen, By: p.UserID, ByName: p.Name, ByRole: p.Role, At: s.now(),
	}
}

// effectID is a new effect id for the transition that makes version v:
// "TR-" + v zero-padded + random, so ids of one case's effects sort in the
// order of their transitions (the ledger ignores an effect older than the
// one an entry last saw: a request that stalled after deciding).
func effectID(v int64) string {
	return fmt.Sprintf("TR-%012d-%s", v, strings.ReplaceAll(uuid.NewString(), "-", "")[:20])
}

// EffectSupersedes reports whether effect id a is the same as, or later
// than, b: both from effectID for one case.
func EffectSupersedes(a, b string) bool {
	return strings.HasPrefix(a, "TR-") && strings.HasPrefix(b, "TR-") && a >= b
}

// refused reports whether the ledger refused an effect for good (rather
// than failing to reach the store).
func refused(err error) bool {
	switch minsheng.ErrorCode(err) {
	case minsheng.ECONFLICT, minsheng.EINVALID:
		return true
	}
	return false
}

// whilePending is the condition that holds for a case only while e is still
// pending.
func whilePending(e *MoneyEffect) bson.D {
	return bson.D{{Key: "money_effect.id", Value: e.ID}, {Key: "money_effect.state", Value: EffectPending}}
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
	set := bson.D{{Key: "money_effect.state", Value: EffectDone}, {Key: "money_effect.done_at", Value: now}}
	if link != nil {
		set = append(set, bson.E{Key: "budget", Value: link})
	}
	update := bson.D{{Key: "$set", Value: set}}
	if noteText != "" {
		ev := Event{At: now, Actor: e.By, Role: e.ByRole, Action: ActBudget, Note: noteText}
		if e.ByRole != auth.RoleResident {
			ev.ActorName = e.ByName
		}
		update = append(update, bson.E{Key: "$push", Value: bson.D{{Key: "timeline", Value: ev}}})
	}
	matched, err := s.cases.Update(ctx, casedb.Change{ID: caseID, If: whilePending(e), Update: update})
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
	unset := bson.D{{Key: "completed_at", Value: ""}}
	if e.Kind == EffectRelease {
		label = "取消"
		unset = bson.D{{Key: "closed_at", Value: ""}, {Key: "reason", Value: ""}}
	}
	ev := Event{At: now, Actor: e.By, Role: e.ByRole, Action: ActUndo, From: c.Status, To: e.From,
		Note: label + "未生效：" + reason}
	if e.ByRole != auth.RoleResident {
		ev.ActorName = e.ByName
	}
	update := bson.D{
		{Key: "$set", Value: bson.D{
			{Key: "status", Value: e.From},
			{Key: "due_at", Value: e.PrevDueAt},
			{Key: "actual_cost_fen", Value: e.PrevActualCostFen},
			{Key: "money_effect.state", Value: EffectFailed},
			{Key: "money_effect.reason", Value: reason},
			{Key: "money_effect.done_at", Value: now},
		}},
		{Key: "$unset", Value: unset},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}},
		{Key: "$push", Value: bson.D{{Key: "timeline", Value: ev}}},
	}
	if _, err := s.cases.Update(ctx, casedb.Change{ID: c.ID, If: whilePending(e), Update: update}); err != nil {
		return fmt.Errorf("cases: unable to undo money effect %s of case %s: %w", e.ID, c.ID, err)
	}
	s.cfg.Logger.Warn("money effect refused; transition undone", "case", c.ID, "effect", e.ID, "reason", reason)
	return nil
}

// SettledEffect is what FinishMoneyEffects did with one pending effect.
type SettledEffect struct {
	CaseID   string     `json:"case_id"`
	EffectID string     `json:"effect_id"`
	Kind     EffectKind `json:"kind"`
	// State is EffectDone or EffectFailed (then Reason says why).
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// FinishMoneyEffects applies every pending money effect, as `minsheng
// check` does after a crash fell between a transition and its money. Each
// is applied idempotently, so running it beside live traffic moves no
// money twice. It returns what it settled; an error only when the store
// fails.
func (s *Service) FinishMoneyEffects(ctx context.Context) ([]SettledEffect, error) {
	// The summaries carry the pending state at the top level, which the
	// embedded engine pushes down; money_effect.state on the cases it
	// would decode every case for, at every check.
	sums, err := s.cases.Summaries(ctx, bson.D{{Key: "effect_pending", Value: "1"}}, bson.D{{Key: "_id", Value: 1}}, 0)
	if err != nil {
		return nil, fmt.Errorf("cases: unable to find pending money effects: %w", err)
	}
	ids := make([]string, len(sums))
	for i, sm := range sums {
		ids[i] = sm.ID
	}
	found, err := s.cases.ByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("cases: unable to find pending money effects: %w", err)
	}
	var out []SettledEffect
	for _, c := range found {
		if c.MoneyEffect == nil || c.MoneyEffect.State != EffectPending {
			continue // settled since its summary was read
		}
		e := *c.MoneyEffect
		done := SettledEffect{CaseID: c.ID, EffectID: e.ID, Kind: e.Kind, State: EffectDone}
		if _, err := s.settle(ctx, c); err != nil {
			if !refused(err) {
				return out, err
			}
			done.State, done.Reason = EffectFailed, minsheng.ErrorMessage(err)
		}
		out = append(out, done)
	}
	return out, nil
}
