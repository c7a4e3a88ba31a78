package casedb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
)

// Change is one write to one case: the case by id, the conditions it must
// still meet besides its id (the version the caller read, a pending
// effect; nil for none), and the update. The id is a field rather than part
// of a filter, so a write that does not name its case cannot be written.
type Change struct {
	ID     string
	If     bson.D
	Update bson.D
}

func (ch Change) filter() bson.D { return append(byID(ch.ID), ch.If...) }

// Update applies ch and rewrites its case's summary; it reports whether a
// case matched.
func (db *DB[C, F]) Update(ctx context.Context, ch Change) (bool, error) {
	var n int64
	err := db.write(ctx, ch.ID, func() (bool, error) {
		var err error
		n, err = db.cases.UpdateOne(ctx, ch.filter(), ch.Update)
		return n > 0, err
	}, func() error { return db.refresh(ctx, ch.ID) })
	return n > 0, err
}

// UpdateAndGet applies ch and returns the case as stored after it, which
// its summary is written from; minsheng.ErrNotFound when no case matched.
func (db *DB[C, F]) UpdateAndGet(ctx context.Context, ch Change) (*C, error) {
	var out C
	err := db.write(ctx, ch.ID, func() (bool, error) {
		return true, db.cases.FindOneAndUpdate(ctx, ch.filter(), ch.Update, &out,
			options.FindOneAndUpdate().SetReturnDocument(options.After))
	}, func() error { return db.putSummary(ctx, &out) })
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateUnsummarized applies update to case id without touching its
// summary: only for fields no summary carries, nor anything derived from
// them (the timeline: a text message sent), so the case alone is written —
// no pending mark, no summary rewrite.
func (db *DB[C, F]) UpdateUnsummarized(ctx context.Context, id string, update bson.D) (bool, error) {
	n, err := db.cases.UpdateOne(ctx, byID(id), update)
	return n > 0, err
}

// UpdateManyUnsummarized updates every case matching filter, for fields
// summaries do not carry (the PIPL purge blanks contacts); it leaves the
// summaries alone and returns how many cases matched.
func (db *DB[C, F]) UpdateManyUnsummarized(ctx context.Context, filter, update bson.D) (int64, error) {
	return db.cases.UpdateMany(ctx, filter, update)
}

// Insert inserts a case's summary, then the case, both without the guard
// (inserts need none) and without a pending mark: a crash in between
// leaves a summary whose case does not exist, which lists skip (ByIDs) and
// check removes. A case insert that fails takes its summary back.
func (db *DB[C, F]) Insert(ctx context.Context, c *C) error {
	id := db.schema.ID(c)
	defer db.lock(id)()
	sum := db.schema.Summarize(c)
	defer db.facts.changed(id, sum.SubDistrict)
	if !db.interrupted(id) {
		if err := db.sums.InsertOne(ctx, sum); err != nil {
			return fmt.Errorf("casedb: unable to insert the summary of %s: %w", id, err)
		}
	}
	if err := db.cases.InsertOne(ctx, c); err != nil {
		if _, derr := db.sums.DeleteOne(ctx, byID(id)); derr != nil {
			return errors.Join(err, derr)
		}
		return err
	}
	return nil
}

// InsertMany inserts cases' summaries in batches, then the cases, as
// Insert does. A summary already there (a retried import) is rewritten.
func (db *DB[C, F]) InsertMany(ctx context.Context, cases []*C) error {
	var sums, docs []any
	written := make([]Summary[F], len(cases))
	for i, c := range cases {
		docs = append(docs, c)
		written[i] = db.schema.Summarize(c)
		if !db.interrupted(written[i].ID) {
			sums = append(sums, written[i])
		}
	}
	defer func() {
		for _, sm := range written {
			db.facts.changed(sm.ID, sm.SubDistrict)
		}
	}()
	if err := db.sums.InsertMany(ctx, sums); err != nil {
		if !errors.Is(err, minsheng.ErrDuplicate) {
			return fmt.Errorf("casedb: unable to insert summaries: %w", err)
		}
		for _, c := range cases {
			if err := db.putSummary(ctx, c); err != nil {
				return err
			}
		}
	}
	// On an error the summaries of cases not inserted stay as orphans,
	// skipped by lists, removed by check.
	return db.cases.InsertMany(ctx, docs)
}

// FindOne decodes into out the case matching filter; reads pass through.
func (db *DB[C, F]) FindOne(ctx context.Context, filter bson.D, out *C) error {
	return db.cases.FindOne(ctx, filter, out)
}

// FindAll decodes into out every case matching filter.
func (db *DB[C, F]) FindAll(ctx context.Context, filter bson.D, out any, opts ...options.Lister[options.FindOptions]) error {
	return db.cases.FindAll(ctx, filter, out, opts...)
}

// EachCase streams the cases matching filter to fn.
func (db *DB[C, F]) EachCase(ctx context.Context, filter bson.D, fn func(*C) error, opts ...options.Lister[options.FindOptions]) error {
	return db.cases.Each(ctx, filter, func(cur *mongo.Cursor) error {
		var c C
		if err := cur.Decode(&c); err != nil {
			return fmt.Errorf("casedb: unable to decode case: %w", err)
		}
		return fn(&c)
	}, opts...)
}

// ErrSkipSummary is what a test's fault (SetFault) returns to skip a
// summary, as a crash would.
var ErrSkipSummary = errors.New("casedb: summary write skipped")

func (db *DB[C, F]) interrupted(id string) bool {
	return db.afterCaseWrite != nil && db.afterCaseWrite(id) != nil
}

// write runs one case write for id under id's lock between a pending mark
// and its summary: do performs the case write and reports whether it
// changed a case; summarize then writes the summary. Unless a test
// interrupts it there (or summarize fails), the mark is cleared with the
// next sweep (finished).
func (db *DB[C, F]) write(ctx context.Context, id string, do func() (bool, error), summarize func() error) error {
	defer db.lock(id)()
	if err := db.begin(ctx, id); err != nil {
		return err
	}
	changed, err := do()
	if err != nil || !changed {
		db.finished(ctx, id)
		return err
	}
	// A new filing's summary still waiting (later.go) is this write's to
	// write now, from the case as stored; a crash before it leaves the
	// pending mark, which the start repairs.
	db.later.forget(id)
	if db.interrupted(id) {
		return nil
	}
	if err := summarize(); err != nil {
		return err
	}
	db.finished(ctx, id)
	return nil
}

// markSweepDelay is how long finished writes' pending marks wait to be
// deleted together (clearMarks): one guarded DeleteMany for all the writes
// of that time instead of one DeleteOne in each. A crash meanwhile leaves
// those marks; the start repairs their summaries, which are already right.
const markSweepDelay = 200 * time.Millisecond

// markSweep holds the ids whose last write finished, so their pending
// marks may go. An id is only ever deleted from the pending collection
// under its stripe lock while it is in done, and a write takes it out of
// done under the same lock before inserting its mark: so no sweep deletes
// the mark of a write in flight, or of one a crash (or a test) interrupted.
type markSweep struct {
	mu      sync.Mutex
	done    map[string]struct{}
	running bool
	delay   time.Duration // markSweepDelay; tests lengthen it
}

// begin marks id's summary as about to go stale; the caller holds id's
// lock. A mark left by an earlier write not yet swept is this one's too.
func (db *DB[C, F]) begin(ctx context.Context, id string) error {
	db.sweep.mu.Lock()
	delete(db.sweep.done, id)
	db.sweep.mu.Unlock()
	if err := db.pending.InsertOne(ctx, byID(id)); err != nil && !errors.Is(err, minsheng.ErrDuplicate) {
		return fmt.Errorf("casedb: unable to mark summaries pending: %w", err)
	}
	return nil
}

// finished records that id's summary follows its case again (or that the
// write changed nothing): its mark goes with the next sweep.
func (db *DB[C, F]) finished(ctx context.Context, id string) {
	db.sweep.mu.Lock()
	defer db.sweep.mu.Unlock()
	if db.sweep.done == nil {
		db.sweep.done = map[string]struct{}{}
	}
	db.sweep.done[id] = struct{}{}
	if !db.sweep.running {
		db.sweep.running = true
		db.sweepLater(context.WithoutCancel(ctx)) // the sweep outlives the request
	}
}

// sweepLater clears the marks after markSweepDelay, and again while
// writes keep finishing.
func (db *DB[C, F]) sweepLater(ctx context.Context) {
	time.AfterFunc(db.sweep.delay, func() {
		_ = db.clearMarks(ctx) // what stays is swept next time, or repaired at start
		db.sweep.mu.Lock()
		defer db.sweep.mu.Unlock()
		if len(db.sweep.done) == 0 {
			db.sweep.running = false
			return
		}
		db.sweepLater(ctx)
	})
}

// clearMarks deletes the pending marks of finished writes, under their
// stripe locks (lockStripes).
func (db *DB[C, F]) clearMarks(ctx context.Context) error {
	db.sweep.mu.Lock()
	var stripes []int
	seen := map[int]bool{}
	for id := range db.sweep.done {
		if i := db.stripe(id); !seen[i] {
			seen[i] = true
			stripes = append(stripes, i)
		}
	}
	db.sweep.mu.Unlock()
	if len(stripes) == 0 {
		return nil
	}
	defer db.lockStripes(stripes)()
	db.sweep.mu.Lock()
	var ids []string
	for id := range db.sweep.done {
		if seen[db.stripe(id)] {
			ids = append(ids, id)
			delete(db.sweep.done, id)
		}
	}
	db.sweep.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	// On an error the marks stay: the start repairs those summaries, which
	// costs a read and a write each and is never wrong.
	if _, err := db.pending.DeleteMany(ctx, inIDs(ids)); err != nil {
		return fmt.Errorf("casedb: unable to clear pending summary marks: %w", err)
	}
	return nil
}
