package moneyeffect

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"minsheng"
	"minsheng/cases/casedb"
)

// Book applies the pending effects of cases of type C and records their
// outcome on the case; casework supplies the ledger's call and the words.
type Book[C, F any, S ~string] struct {
	DB *casedb.DB[C, F]
	// Apply carries out e for c (budgetlink, idempotent by e.ID): the
	// case's new copy of its link (nil leaves it) and the timeline note
	// ("" for none). ECONFLICT or EINVALID refuse it for good.
	Apply func(ctx context.Context, c *C, e Effect[S]) (link any, note string, err error)
	// Done is the timeline entry of a note at at; Undone that of a refusal
	// of c's effect for reason.
	Done   func(e *Effect[S], note string, at time.Time) any
	Undone func(c *C, e *Effect[S], reason string, at time.Time) any
	// Noted runs once the note is written, by the one caller that wrote it.
	Noted func(ctx context.Context, caseID, note string)
	// Load reads a case again.
	Load func(ctx context.Context, id string) (*C, error)
	Now  func() time.Time
	Log  *slog.Logger
}

// Settle applies the pending effect e of case id (c) and records the
// outcome. It returns the case as stored afterwards; a refusal is returned
// as the ledger's error after the transition was undone. Without a pending
// effect c is returned as it is.
func (b Book[C, F, S]) Settle(ctx context.Context, c *C, id string, e *Effect[S]) (*C, error) {
	if e == nil || e.State != Pending {
		return c, nil
	}
	link, note, err := b.Apply(ctx, c, *e)
	switch {
	case err == nil:
		if err := b.record(ctx, id, e, link, note); err != nil {
			return nil, err
		}
	case Refused(err):
		if uerr := b.undo(ctx, c, id, e, minsheng.ErrorMessage(err)); uerr != nil {
			return nil, uerr
		}
		return nil, err
	default:
		return nil, fmt.Errorf("cases: unable to apply money effect %s of case %s: %w", e.ID, id, err)
	}
	return b.Load(ctx, id)
}

// record marks e done with the case's new copy of its link (nil leaves
// the copy) and the note; when another caller recorded it first, nothing
// happens.
func (b Book[C, F, S]) record(ctx context.Context, id string, e *Effect[S], link any, note string) error {
	now := b.Now()
	var entry any
	if note != "" {
		entry = b.Done(e, note, now)
	}
	matched, err := b.DB.Update(ctx, casedb.Change{ID: id, If: WhilePending(e.ID), Update: DoneUpdate(now, link, entry)})
	if err != nil {
		return fmt.Errorf("cases: unable to record money effect %s of case %s: %w", e.ID, id, err)
	}
	if matched && note != "" {
		b.Noted(ctx, id, note)
	}
	return nil
}

// undo returns the case to the state before e's transition and marks e
// failed with the ledger's reason.
func (b Book[C, F, S]) undo(ctx context.Context, c *C, id string, e *Effect[S], reason string) error {
	now := b.Now()
	update := UndoUpdate(e, reason, now, b.Undone(c, e, reason, now))
	if _, err := b.DB.Update(ctx, casedb.Change{ID: id, If: WhilePending(e.ID), Update: update}); err != nil {
		return fmt.Errorf("cases: unable to undo money effect %s of case %s: %w", e.ID, id, err)
	}
	b.Log.Warn("money effect refused; transition undone", "case", id, "effect", e.ID, "reason", reason)
	return nil
}
