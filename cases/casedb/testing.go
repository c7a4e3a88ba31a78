package casedb

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/internal/store"
)

// Hooks for the tests of the domain, which drive the engine through the
// domain's verbs (package cases' tests): each simulates a crash or slows a
// background step, so a test can stop the engine where a crash would. The
// server never calls them.

// SetFault runs f between every case write and its summary write; an error
// from f skips the summary (and leaves its pending mark), as a crash there
// would.
func (db *DB[C, F]) SetFault(f func(id string) error) { db.afterCaseWrite = f }

// InsertRaw stores c without its summary, as a data directory from before
// the summaries holds it.
func (db *DB[C, F]) InsertRaw(ctx context.Context, c *C) error { return db.cases.InsertOne(ctx, c) }

// SetMarkSweepDelay sets how long finished writes' pending marks wait to be
// cleared together.
func (db *DB[C, F]) SetMarkSweepDelay(d time.Duration) {
	db.sweep.mu.Lock()
	defer db.sweep.mu.Unlock()
	db.sweep.delay = d
}

// PendingMarks returns the ids of the pending summary marks stored.
func (db *DB[C, F]) PendingMarks(ctx context.Context) ([]string, error) {
	return idsIn(ctx, db.pending)
}

// IntakeMarks returns the ids of the stored marks of case number blocks.
func (db *DB[C, F]) IntakeMarks(ctx context.Context) ([]string, error) {
	return idsIn(ctx, db.st.Collection(IntakeMarksCollection))
}

func idsIn(ctx context.Context, col *store.Collection) ([]string, error) {
	var marks []struct {
		ID string `bson:"_id"`
	}
	if err := col.FindAll(ctx, bson.D{}, &marks); err != nil {
		return nil, err
	}
	ids := make([]string, len(marks))
	for i, m := range marks {
		ids[i] = m.ID
	}
	return ids, nil
}

// SetLaterDelay sets how long new filings' summaries wait to be written
// together (later.go); a long one keeps them waiting until a read or Flush
// writes them.
func (db *DB[C, F]) SetLaterDelay(d time.Duration) {
	db.later.mu.Lock()
	defer db.later.mu.Unlock()
	db.later.delay = d
}

// Waiting is how many new filings' summaries wait to be written.
func (db *DB[C, F]) Waiting() int { return int(db.later.waiting.Load()) }

// LoseWaiting drops the summaries waiting to be written without writing
// them or ending their filings' holds, as a crash would.
func (db *DB[C, F]) LoseWaiting() {
	db.numbers.fetches.Wait() // a crash stops the spare's reservation too; here it lands first
	db.later.mu.Lock()
	defer db.later.mu.Unlock()
	db.later.waiting.Add(-int64(len(db.later.queue)))
	clear(db.later.queue)
}

// DropFacts removes the report facts from id's summary, as a summary
// written by a build from before them lacks them.
func (db *DB[C, F]) DropFacts(ctx context.Context, id string) error {
	_, err := db.sums.UpdateOne(ctx, byID(id), bson.D{{Key: "$unset", Value: bson.D{{Key: "facts", Value: ""}}}})
	db.facts.reset() // such a summary predates this process
	return err
}

// SetIntakeHold runs f in the group commit's leader before it writes a
// batch of n filings (f may block, so that filings queue behind it).
func (db *DB[C, F]) SetIntakeHold(f func(n int)) { db.intake.BeforeWrite = f }

// IntakeQueued is how many filings wait for the next batch.
func (db *DB[C, F]) IntakeQueued() int { return db.intake.Queued() }
