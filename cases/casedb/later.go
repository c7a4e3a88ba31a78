package casedb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/store"
)

// laterDelay is how long a new filing's summary may wait to be written
// together with the summaries of the filings after it; laterMax how many
// may wait before they are written at once.
const (
	laterDelay = 100 * time.Millisecond
	laterMax   = 500
)

// laterSummaries writes the summaries of new filings after their cases,
// together, off the request path (FerretDB only, where one process owns
// the store, as its write guard already assumes). A filing is then one insert, its case, as the raw
// driver's insert is: on the embedded engine each insert command costs
// about a millisecond (its own SQLite transaction), whatever it holds.
//
// Reads never see a filing without its summary: every read of the
// summaries first writes those waiting (sync), and so does `minsheng
// check`. A crash loses none either: a case takes its number from a block
// that has a mark in IntakeMarksCollection, inserted before the block's
// first number is used and removed only once every filing numbered from it
// has its summary written (or failed); the start reads the cases of the
// blocks still marked and writes the summaries they lack
// (RepairPending). A later case write (a transition, a delete)
// writes its summary itself, under the case's lock, so it takes the
// waiting summary out of the queue (forget).
type laterSummaries[F any] struct {
	ps    *perStore[F] // the case locks
	sums  *store.Collection
	marks *store.Collection
	delay time.Duration

	mu     sync.Mutex
	queue  map[string]laterSum[F] // by case id
	holds  map[string]string      // case id → mark, for filings not yet inserted
	blocks map[string]*numberMark
	retire []string // marks of blocks done with, removed with the next flush
	timed  bool     // a flush is scheduled
	rushed bool     // a flush runs because laterMax wait
	// failures counts the timer's flushes failed in a row.
	failures int
	// waiting is len(queue), read without mu by sync.
	waiting atomic.Int64

	flushMu sync.Mutex // one flush at a time
}

type laterSum[F any] struct {
	sum  Summary[F]
	mark string
	// facts is the cache of the DB that filed the case, told once
	// the summary is written.
	facts *factsCache[F]
}

// numberMark is the state of a marked block in this process.
type numberMark struct {
	open   int  // numbers given to filings whose summary is not yet written
	closed bool // its counter moved on to another block
}

// intakeMark is a block's stored mark: the numbers Prefix-First …
// Prefix-(First+Size-1).
type intakeMark struct {
	ID     string    `bson:"_id"`
	Prefix string    `bson:"prefix"`
	First  int64     `bson:"first"`
	Size   int64     `bson:"size"`
	At     time.Time `bson:"at"`
}

func newLaterSummaries[F any](st *store.Store, ps *perStore[F]) *laterSummaries[F] {
	return &laterSummaries[F]{ps: ps, sums: st.Collection(SummariesCollection), marks: st.Collection(IntakeMarksCollection), delay: laterDelay,
		queue: map[string]laterSum[F]{}, holds: map[string]string{}, blocks: map[string]*numberMark{}}
}

// markBlock stores the mark of a new block of numbers, before any of them
// is used (numbers.go calls it). On a nil receiver (the store is shared) it does
// nothing and returns "".
func (l *laterSummaries[F]) markBlock(ctx context.Context, prefix string, first, size int64) (string, error) {
	if l == nil {
		return "", nil
	}
	id := fmt.Sprintf("%s:%d", prefix, first)
	m := intakeMark{ID: id, Prefix: prefix, First: first, Size: size, At: time.Now().UTC()}
	if err := l.marks.InsertOne(ctx, m); err != nil && !errors.Is(err, minsheng.ErrDuplicate) {
		return "", fmt.Errorf("casedb: unable to mark a block of case numbers: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.blocks[id] = &numberMark{}
	return id, nil
}

// closeBlock records that mark's counter moved on to another block: the
// mark is removed once every filing numbered from it is resolved.
func (l *laterSummaries[F]) closeBlock(mark string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.blocks[mark]; b != nil {
		b.closed = true
		l.retireIfDone(mark, b)
	}
}

// hold counts the filing of case id, numbered from mark's block, until
// its summary is written or the filing fails (releaseFiling).
func (l *laterSummaries[F]) hold(mark, id string) {
	if l == nil || mark == "" || id == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.blocks[mark]; b != nil {
		b.open++
		l.holds[id] = mark
	}
}

// release counts one filing of mark's block less; the caller holds l.mu.
func (l *laterSummaries[F]) release(mark string) {
	if b := l.blocks[mark]; b != nil {
		b.open--
		l.retireIfDone(mark, b)
	}
}

// releaseFiling ends the hold of a filing that stored nothing (or whose
// outcome its caller handles otherwise); once is enough, more do nothing.
func (l *laterSummaries[F]) releaseFiling(id string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if mark, ok := l.holds[id]; ok {
		delete(l.holds, id)
		l.release(mark)
	}
}

func (l *laterSummaries[F]) retireIfDone(id string, b *numberMark) {
	if b.closed && b.open == 0 {
		delete(l.blocks, id)
		l.retire = append(l.retire, id)
		l.schedule()
	}
}

// add queues the summary of a case just inserted, which takes over its
// filing's hold; the caller holds the case's lock. facts is told once the
// summary is written.
func (l *laterSummaries[F]) add(sum Summary[F], facts *factsCache[F]) {
	l.mu.Lock()
	defer l.mu.Unlock()
	mark := l.holds[sum.ID]
	delete(l.holds, sum.ID)
	if w, ok := l.queue[sum.ID]; ok {
		l.release(w.mark)
	} else {
		l.waiting.Add(1)
	}
	l.queue[sum.ID] = laterSum[F]{sum: sum, mark: mark, facts: facts}
	if len(l.queue) >= laterMax && !l.rushed {
		l.rushed = true
		go func() {
			_ = l.flush(context.Background()) // the next read or timer retries a failure
			l.mu.Lock()
			l.rushed = false
			l.mu.Unlock()
		}()
	}
	l.schedule()
}

// schedule starts the timer of the next flush; the caller holds l.mu.
// After failed flushes the timer waits longer (up to 30 s), and stops once
// the store is closed: the summaries then wait for the next start.
func (l *laterSummaries[F]) schedule() {
	if l.timed {
		return
	}
	l.timed = true
	time.AfterFunc(min(l.delay<<min(l.failures, 10), 30*time.Second), func() {
		// No request's context: the flush serves every filing waiting.
		err := l.flush(context.Background())
		l.mu.Lock()
		defer l.mu.Unlock()
		l.timed = false
		switch {
		case err == nil:
			l.failures = 0
		case errors.Is(err, mongo.ErrClientDisconnected):
		default:
			l.failures++
			l.schedule() // reads meanwhile flush (and fail) themselves
		}
	})
}

// forget takes id's waiting summary out of the queue: the case write the
// caller is making (under id's lock, after its pending mark) writes the
// summary itself.
func (l *laterSummaries[F]) forget(id string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w, ok := l.queue[id]; ok {
		delete(l.queue, id)
		l.waiting.Add(-1)
		l.release(w.mark)
	}
}

// sync writes every waiting summary: reads of the summaries call it
// first, so they see every filing answered so far. It costs nothing when
// none waits. The caller must hold no case lock.
func (l *laterSummaries[F]) sync(ctx context.Context) error {
	if l == nil || l.waiting.Load() == 0 {
		return nil
	}
	return l.flush(ctx)
}

// flush writes the waiting summaries with one unordered insert, under
// their cases' locks, then removes the marks of the blocks done with.
func (l *laterSummaries[F]) flush(ctx context.Context) error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	for {
		l.mu.Lock()
		ids := make([]string, 0, min(len(l.queue), laterMax))
		for id := range l.queue {
			if ids = append(ids, id); len(ids) == laterMax {
				break
			}
		}
		l.mu.Unlock()
		if len(ids) == 0 {
			return l.removeRetired(ctx)
		}
		if err := l.write(ctx, ids); err != nil {
			return err
		}
	}
}

// write inserts the waiting summaries of ids (those still waiting once
// their locks are held; a case write may have taken one meanwhile).
func (l *laterSummaries[F]) write(ctx context.Context, ids []string) error {
	defer l.ps.lockAll(ids)()
	l.mu.Lock()
	var docs []any
	var of []string
	for _, id := range ids {
		if w, ok := l.queue[id]; ok {
			docs = append(docs, w.sum)
			of = append(of, id)
		}
	}
	l.mu.Unlock()
	if len(docs) == 0 {
		return nil
	}
	errs, err := l.sums.InsertEach(context.WithoutCancel(ctx), docs)
	l.mu.Lock()
	defer l.mu.Unlock()
	var failed error
	for i, id := range of {
		// A duplicate is a summary a repair wrote meanwhile from the case.
		if errs[i] != nil && !errors.Is(errs[i], minsheng.ErrDuplicate) {
			failed = errs[i]
			continue
		}
		w := l.queue[id]
		delete(l.queue, id)
		l.waiting.Add(-1)
		l.release(w.mark)
		w.facts.changed(id, w.sum.SubDistrict) // after it landed, as every summary write
	}
	if failed == nil {
		failed = err
	}
	if failed != nil {
		return fmt.Errorf("casedb: unable to write the summaries of new cases: %w", failed)
	}
	return nil
}

// removeRetired deletes the marks of the blocks done with; on an error
// they stay, and the next start checks their cases again (never wrong).
func (l *laterSummaries[F]) removeRetired(ctx context.Context) error {
	l.mu.Lock()
	ids := l.retire
	l.retire = nil
	l.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	if _, err := l.marks.DeleteMany(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
		return fmt.Errorf("casedb: unable to remove marks of case number blocks: %w", err)
	}
	return nil
}

// live reports whether mark is a block this process still numbers from
// or waits on.
func (l *laterSummaries[F]) live(mark string) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.blocks[mark]
	return ok || slices.Contains(l.retire, mark)
}

// repairIntake writes the summaries missing for the cases numbered from
// the blocks still marked that this process does not hold (a crash left
// them) and removes those marks. It returns how many it wrote.
func (db *DB[C, F]) repairIntake(ctx context.Context) (int, error) {
	var marks []intakeMark
	if err := db.st.Collection(IntakeMarksCollection).FindAll(ctx, bson.D{}, &marks); err != nil {
		return 0, fmt.Errorf("casedb: unable to read the marks of case number blocks: %w", err)
	}
	n := 0
	for _, m := range marks {
		if db.later.live(m.ID) {
			continue
		}
		for first := m.First; first < m.First+m.Size; first += eachBatch {
			numbers := make([]string, 0, eachBatch)
			for seq := first; seq < min(first+eachBatch, m.First+m.Size); seq++ {
				numbers = append(numbers, FormatNumber(m.Prefix, seq))
			}
			k, err := db.repairNumbered(ctx, numbers)
			if err != nil {
				return n, err
			}
			n += k
		}
		if _, err := db.st.Collection(IntakeMarksCollection).DeleteOne(ctx, byID(m.ID)); err != nil {
			return n, fmt.Errorf("casedb: unable to remove the mark of case number block %s: %w", m.ID, err)
		}
	}
	return n, nil
}

// repairNumbered writes the missing summaries of the cases with the given
// numbers.
func (db *DB[C, F]) repairNumbered(ctx context.Context, numbers []string) (int, error) {
	type idOnly struct {
		ID string `bson:"_id"`
	}
	only := options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}})
	var found []idOnly
	if err := db.cases.FindAll(ctx, bson.D{{Key: "number", Value: bson.D{{Key: "$in", Value: numbers}}}}, &found, only); err != nil {
		return 0, fmt.Errorf("casedb: unable to read the cases of a marked number block: %w", err)
	}
	if len(found) == 0 {
		return 0, nil
	}
	ids := make([]string, len(found))
	for i, f := range found {
		ids[i] = f.ID
	}
	var have []idOnly
	if err := db.sums.FindAll(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, &have, only); err != nil {
		return 0, fmt.Errorf("casedb: unable to read summaries: %w", err)
	}
	written := make(map[string]bool, len(have))
	for _, h := range have {
		written[h.ID] = true
	}
	n := 0
	for _, id := range ids {
		if !written[id] {
			if err := db.repairOne(ctx, id); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
