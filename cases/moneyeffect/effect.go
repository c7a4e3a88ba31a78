// Package moneyeffect is the record a transition leaves of the money it
// moves (办结支出, 取消释放) and the protocol that applies it once: the
// effect, its kinds and states, its ids (which sort in the order of a case's
// transitions), the conditional updates that mark it done or undo its
// transition, and the sweep that finishes effects a crash left pending.
// Which transition makes an effect, what the timeline says and what the
// money does are casework's and the ledger's (packages cases and
// budgetlink); this package keeps the effect moving exactly once.
//
// Completing or cancelling a case moves money on its budget line. Moving it
// before the case's versioned write let every loser of a version race book
// its own cost and note (8 simultaneous completions: one 200, the line
// holding whichever cost ran last, 8 "办结支出" notes). So the order is:
//
//  1. decide: the versioned {_id, version} update records the transition
//     together with a pending Effect whose id is new for this
//     transition; of simultaneous requests exactly one gets here, and the
//     others leave no trace;
//  2. apply: cases.MoneyEffects.ApplyEffect, idempotent and keyed by the effect's
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
//
// Errors: Refused tells a refusal for good (ECONFLICT, EINVALID) from a
// failure to reach the store; the store's errors are wrapped with the
// action that failed.
package moneyeffect

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

// Kind is what a transition does to the case's money.
type Kind string

// Effect kinds.
const (
	Spend   Kind = "spend"   // 办结支出: the reservation becomes spending at the actual cost
	Release Kind = "release" // 取消释放: the reservation (or spending) is released
)

// Effect states.
const (
	Pending = "pending" // decided, money not yet known to be moved
	Done    = "done"    // money moved (or nothing to move), copy and note written
	Failed  = "failed"  // refused by the ledger; the transition was undone
)

// Effect is the money one transition moves, stored on the case by the
// transition's own versioned write (money_effect); S is the case's status
// type.
type Effect[S ~string] struct {
	// ID is new for every transition and keys the effect's application.
	ID            string `bson:"id" json:"id"`
	Kind          Kind   `bson:"kind" json:"kind"`
	ActualCostFen int64  `bson:"actual_cost_fen" json:"actual_cost_fen"`
	State         string `bson:"state" json:"state"`
	Reason        string `bson:"reason,omitempty" json:"reason,omitempty"`
	// Version is the case's version the transition produced.
	Version int64 `bson:"version" json:"version"`
	// From, PrevDueAt and PrevActualCostFen let a refused effect undo its
	// transition.
	From              S         `bson:"from" json:"from"`
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
func (e Effect[S]) Principal() auth.Principal {
	return auth.Principal{UserID: e.By, Name: e.ByName, Role: e.ByRole}
}

// NewID is a new effect id for the transition that makes version v:
// "TR-" + v zero-padded + random, so ids of one case's effects sort in the
// order of their transitions (the ledger ignores an effect older than the
// one an entry last saw: a request that stalled after deciding).
func NewID(v int64) string {
	return fmt.Sprintf("TR-%012d-%s", v, strings.ReplaceAll(uuid.NewString(), "-", "")[:20])
}

// Supersedes reports whether effect id a is the same as, or later than, b:
// both from NewID for one case.
func Supersedes(a, b string) bool {
	return strings.HasPrefix(a, "TR-") && strings.HasPrefix(b, "TR-") && a >= b
}

// Refused reports whether the ledger refused an effect for good (rather
// than failing to reach the store).
func Refused(err error) bool {
	switch minsheng.ErrorCode(err) {
	case minsheng.ECONFLICT, minsheng.EINVALID:
		return true
	}
	return false
}

// WhilePending is the condition that holds for a case only while effect id
// is still pending.
func WhilePending(id string) bson.D {
	return bson.D{{Key: "money_effect.id", Value: id}, {Key: "money_effect.state", Value: Pending}}
}

// DoneUpdate marks the effect done at now, with the case's new copy of its
// link (nil leaves the copy) and, when entry is not nil, its timeline entry.
func DoneUpdate(now time.Time, link, entry any) bson.D {
	set := bson.D{{Key: "money_effect.state", Value: Done}, {Key: "money_effect.done_at", Value: now}}
	if link != nil {
		set = append(set, bson.E{Key: "budget", Value: link})
	}
	update := bson.D{{Key: "$set", Value: set}}
	if entry != nil {
		update = append(update, bson.E{Key: "$push", Value: bson.D{{Key: "timeline", Value: entry}}})
	}
	return update
}

// UndoUpdate returns the case to the state before e's transition, marks e
// failed with the ledger's reason at now and records entry on the timeline.
func UndoUpdate[S ~string](e *Effect[S], reason string, now time.Time, entry any) bson.D {
	unset := bson.D{{Key: "completed_at", Value: ""}}
	if e.Kind == Release {
		unset = bson.D{{Key: "closed_at", Value: ""}, {Key: "reason", Value: ""}}
	}
	return bson.D{
		{Key: "$set", Value: bson.D{
			{Key: "status", Value: e.From},
			{Key: "due_at", Value: e.PrevDueAt},
			{Key: "actual_cost_fen", Value: e.PrevActualCostFen},
			{Key: "money_effect.state", Value: Failed},
			{Key: "money_effect.reason", Value: reason},
			{Key: "money_effect.done_at", Value: now},
		}},
		{Key: "$unset", Value: unset},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}},
		{Key: "$push", Value: bson.D{{Key: "timeline", Value: entry}}},
	}
}

// Settled is what Finish did with one pending effect.
type Settled struct {
	CaseID   string `json:"case_id"`
	EffectID string `json:"effect_id"`
	Kind     Kind   `json:"kind"`
	// State is Done or Failed (then Reason says why).
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// Finish applies every pending effect through settle, as `minsheng check`
// does after a crash fell between a transition and its money; effect is
// the pending effect of a case and its id (nil once settled). Each is
// applied idempotently, so running it beside live traffic moves no money
// twice. It returns what it settled; an error only when the store fails.
func Finish[C, F any, S ~string](ctx context.Context, db *casedb.DB[C, F], effect func(*C) (string, *Effect[S]), settle func(context.Context, *C) error) ([]Settled, error) {
	// The summaries carry the pending state at the top level, which the
	// embedded engine pushes down; money_effect.state on the cases it
	// would decode every case for, at every check.
	sums, err := db.Summaries(ctx, bson.D{{Key: "effect_pending", Value: "1"}}, bson.D{{Key: "_id", Value: 1}}, 0)
	if err != nil {
		return nil, fmt.Errorf("cases: unable to find pending money effects: %w", err)
	}
	ids := make([]string, len(sums))
	for i, sm := range sums {
		ids[i] = sm.ID
	}
	found, err := db.ByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("cases: unable to find pending money effects: %w", err)
	}
	var out []Settled
	for _, c := range found {
		id, e := effect(c)
		if e == nil || e.State != Pending {
			continue // settled since its summary was read
		}
		done := Settled{CaseID: id, EffectID: e.ID, Kind: e.Kind, State: Done}
		if err := settle(ctx, c); err != nil {
			if !Refused(err) {
				return out, err
			}
			done.State, done.Reason = Failed, minsheng.ErrorMessage(err)
		}
		out = append(out, done)
	}
	return out, nil
}
