package casedb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
)

// eachBatch is how many documents one insert or one _id $in reads or
// writes in a repair.
const eachBatch = 200

// repairWorkers is how many batches of cases Repair reads at
// once, and RepairBatch how many cases a batch has: the engine applies
// the $in in Go to every candidate, comparing with each value, so a batch
// stays small; each query costs a round trip, so it is not tiny.
const (
	repairWorkers = 3
	RepairBatch   = 250
)

// Repair is what DB.Repair did.
type Repair struct {
	Cases    int           `json:"cases"`
	Missing  int           `json:"missing"` // cases without a summary, written
	Stale    int           `json:"stale"`   // summaries that differed from their case, rewritten
	Orphans  int           `json:"orphans"` // summaries without a case, removed
	Duration time.Duration `json:"duration"`
}

// Repair compares every case with its summary and rewrites the
// missing and stale ones, removing summaries of cases that are gone: a
// crash between a case write and its summary write leaves one behind.
// `minsheng check` runs it.
func (db *DB[C, F]) Repair(ctx context.Context) (Repair, error) {
	start := time.Now()
	defer db.facts.reset()
	var rep Repair
	if err := db.later.sync(ctx); err != nil {
		return rep, err
	}
	d, err := db.diffSummaries(ctx)
	rep.Cases = d.cases
	if err != nil {
		return rep, err
	}
	if err := db.writeRepairs(ctx, d, &rep); err != nil {
		return rep, err
	}
	if _, err := db.RepairPending(ctx); err != nil {
		return rep, err
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// repairScan is what the scans of diffSummaries share.
type repairScan[C, F any] struct {
	db     *DB[C, F]
	ctx    context.Context // the scans' context, cancelled by the first error
	cancel context.CancelFunc
	mu     sync.Mutex
	first  error           // the first error of any scan, which cancels the others
	listed map[string]bool // the ids of the case scan
	sumIDs []string        // the ids of the summary scan
	diff   batchDiff[F]    // what the batches found, summed
	onlyID *options.FindOptionsBuilder
}

// diffSummaries compares every case with its summary. The gone of its
// result are the orphans as well as the summaries of a batch whose case
// was not there; missing, stale and gone come in the ids' order.
//
// A scan that reads only _id lists the cases; their ids go out in
// batches, and repairWorkers at once read a batch's cases and its
// summaries by _id $in (both pushed down to the _id index) and compare
// them: each query is served by the engine in its own goroutine, so the
// decoding uses every core, and no summary waits in memory for its
// case. (One scan of every summary beside the batches was the last to
// finish, alone on a core, and held all 50,000 summaries.) A second
// scan that reads only _id lists the summaries, to find those whose
// case the first did not list: the orphans. A write between the scans
// is no harm: whatever differs is repaired by repairOne, which reads
// the case again under its lock; a case gone before its batch is read
// leaves its summary an orphan, which repairOne removes.
func (db *DB[C, F]) diffSummaries(ctx context.Context) (batchDiff[F], error) {
	scan, cancel := context.WithCancel(ctx)
	defer cancel()
	sc := &repairScan[C, F]{db: db, ctx: scan, cancel: cancel, listed: map[string]bool{},
		onlyID: options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}})}
	var wg sync.WaitGroup
	wg.Go(sc.listSummaries)
	batches := make(chan []string, repairWorkers)
	wg.Go(func() { sc.listCases(batches) })
	for range repairWorkers {
		wg.Go(func() { sc.compare(batches) })
	}
	wg.Wait()
	d := sc.diff
	if sc.first != nil {
		return d, sc.first
	}
	for _, id := range sc.sumIDs {
		if !sc.listed[id] {
			d.gone = append(d.gone, id)
		}
	}
	// In the ids' order, as one sorted pass over cases and summaries would.
	slices.SortFunc(d.missing, func(a, b Summary[F]) int { return strings.Compare(a.ID, b.ID) })
	slices.Sort(d.stale)
	slices.Sort(d.gone)
	return d, nil
}

// fail records the first error of any scan and cancels the others.
func (sc *repairScan[C, F]) fail(err error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.first == nil {
		sc.first = err
		sc.cancel()
	}
}

// listSummaries lists the ids of every summary.
func (sc *repairScan[C, F]) listSummaries() {
	err := sc.db.sums.Each(sc.ctx, bson.D{}, func(cur *mongo.Cursor) error {
		id, ok := cur.Current.Lookup("_id").StringValueOK()
		if !ok {
			return fmt.Errorf("casedb: a summary's _id is not a string: %s", cur.Current.Lookup("_id"))
		}
		sc.sumIDs = append(sc.sumIDs, id)
		return nil
	}, sc.onlyID)
	if err != nil {
		sc.fail(err)
	}
}

// listCases lists the ids of every case and sends them in batches of
// RepairBatch, closing batches when done.
func (sc *repairScan[C, F]) listCases(batches chan<- []string) {
	defer close(batches)
	batch := make([]string, 0, RepairBatch)
	send := func() error {
		select {
		case batches <- batch:
			batch = make([]string, 0, RepairBatch)
			return nil
		case <-sc.ctx.Done():
			return sc.ctx.Err()
		}
	}
	err := sc.db.cases.Each(sc.ctx, bson.D{}, func(cur *mongo.Cursor) error {
		id, ok := cur.Current.Lookup("_id").StringValueOK()
		if !ok {
			return fmt.Errorf("casedb: a case's _id is not a string: %s", cur.Current.Lookup("_id"))
		}
		sc.listed[id] = true
		if batch = append(batch, id); len(batch) == RepairBatch {
			return send()
		}
		return nil
	}, sc.onlyID)
	if err == nil && len(batch) > 0 {
		err = send()
	}
	if err != nil {
		sc.fail(err)
	}
}

// compare compares the batches' cases with their summaries until
// batches is closed.
func (sc *repairScan[C, F]) compare(batches <-chan []string) {
	for batch := range batches {
		d, err := sc.db.compareBatch(sc.ctx, batch)
		if err != nil {
			sc.fail(err)
			continue // drain the batches, so that the id scan ends
		}
		sc.mu.Lock()
		sc.diff.cases += d.cases
		sc.diff.missing = append(sc.diff.missing, d.missing...)
		sc.diff.stale = append(sc.diff.stale, d.stale...)
		sc.diff.gone = append(sc.diff.gone, d.gone...)
		sc.mu.Unlock()
	}
}

// writeRepairs writes what diffSummaries found: the missing summaries,
// then the stale ones, then the removal of the gone, counting each in rep.
func (db *DB[C, F]) writeRepairs(ctx context.Context, d batchDiff[F], rep *Repair) error {
	rep.Missing, rep.Stale = len(d.missing), len(d.stale)
	if err := db.insertMissingSummaries(ctx, d.missing); err != nil {
		return err
	}
	for _, id := range d.stale {
		if err := db.repairOne(ctx, id); err != nil {
			return err
		}
	}
	for _, id := range d.gone {
		if err := db.repairOne(ctx, id); err != nil {
			return err
		}
		rep.Orphans++
	}
	return nil
}

// insertMissingSummaries inserts the summaries of cases that had none.
func (db *DB[C, F]) insertMissingSummaries(ctx context.Context, missing []Summary[F]) error {
	for start := 0; start < len(missing); start += eachBatch {
		batch := missing[start:min(start+eachBatch, len(missing))]
		docs := make([]any, len(batch))
		for i := range batch {
			docs[i] = batch[i]
		}
		// Inserted in batches: a data directory from before the summaries
		// has none, and one guarded write per case is slow.
		if err := db.sums.InsertMany(ctx, docs); err != nil {
			if !errors.Is(err, minsheng.ErrDuplicate) {
				return fmt.Errorf("casedb: unable to insert summaries: %w", err)
			}
			// A write since the scan inserted some: one by one, from the
			// cases as they are now.
			for _, sm := range batch {
				if err := db.repairOne(ctx, sm.ID); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// batchDiff is what compareBatch found in one batch of case ids.
type batchDiff[F any] struct {
	cases   int          // cases read
	missing []Summary[F] // what the summaries of cases without one must be
	stale   []string     // ids whose summary differs from its case
	gone    []string     // ids with a summary but no case any more
}

// compareBatch reads the cases with the given ids (projected on
// summarySource) and their summaries, and compares each summary with
// what its case makes of it.
func (db *DB[C, F]) compareBatch(ctx context.Context, ids []string) (batchDiff[F], error) {
	var d batchDiff[F]
	in := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	wants := make(map[string]Summary[F], len(ids))
	err := db.cases.Each(ctx, in, func(cur *mongo.Cursor) error {
		var c C // the fields of the schema's Source only
		if err := cur.Decode(&c); err != nil {
			return fmt.Errorf("casedb: unable to decode case: %w", err)
		}
		sum := db.schema.Summarize(&c)
		wants[sum.ID] = sum
		return nil
	}, options.Find().SetProjection(db.schema.Source))
	if err != nil {
		return d, err
	}
	d.cases = len(wants)
	err = db.sums.Each(ctx, in, func(cur *mongo.Cursor) error {
		id, ok := cur.Current.Lookup("_id").StringValueOK()
		if !ok {
			return fmt.Errorf("casedb: a summary's _id is not a string: %s", cur.Current.Lookup("_id"))
		}
		want, ok := wants[id]
		if !ok {
			d.gone = append(d.gone, id)
			return nil
		}
		delete(wants, id)
		// A summary is stored as the driver encodes it, and read back the
		// same: the bytes of what it must be, when equal, say so without
		// decoding it. Bytes that differ (a summary from an older build,
		// another encoding of equal values) are decoded and compared field
		// by field, which decides.
		if raw, err := bson.Marshal(want); err == nil && bytes.Equal(raw, cur.Current) {
			return nil
		}
		var got Summary[F]
		if err := cur.Decode(&got); err != nil {
			return fmt.Errorf("casedb: unable to decode summary: %w", err)
		}
		if !got.Same(&want) {
			d.stale = append(d.stale, id)
		}
		return nil
	})
	if err != nil {
		return d, err
	}
	for _, want := range wants {
		d.missing = append(d.missing, want)
	}
	return d, nil
}

// summariesMeta records that the summaries were built once for this
// store, so that a data directory from before them gets them at start.
const summariesMeta = "case_summaries_meta"

// summariesBuilt is the meta document's id: a new one whenever the
// summaries gain fields, so that the first start after an upgrade rebuilds
// them (v2: the residents' filer_id and cosigners; v3: public).
const summariesBuilt = "built-v3"

// Ensure is what the server runs at start: on a store whose
// summaries were never built (a data directory from before them) the full
// Repair once, then the repair of interrupted writes. It returns
// how many summaries it wrote.
func (db *DB[C, F]) Ensure(ctx context.Context) (int, error) {
	meta := db.st.Collection(summariesMeta)
	var m struct {
		ID string `bson:"_id"`
	}
	err := meta.FindOne(ctx, byID(summariesBuilt), &m)
	if errors.Is(err, minsheng.ErrNotFound) {
		rep, err := db.Repair(ctx)
		if err != nil {
			return 0, err
		}
		if err := meta.InsertOne(ctx, bson.D{{Key: "_id", Value: summariesBuilt}, {Key: "at", Value: time.Now().UTC()}}); err != nil && !errors.Is(err, minsheng.ErrDuplicate) {
			return 0, fmt.Errorf("casedb: unable to record the summaries as built: %w", err)
		}
		return rep.Missing + rep.Stale + rep.Orphans, nil
	}
	if err != nil {
		return 0, fmt.Errorf("casedb: unable to read the summaries' state: %w", err)
	}
	return db.RepairPending(ctx)
}

// RepairPending rewrites the summaries of the case writes a crash
// interrupted (their pending marks), writes those of the new filings a
// crash kept from being written (the cases of the marked number blocks,
// later.go), and returns how many; the server runs it at start,
// where reading every case would take too long.
func (db *DB[C, F]) RepairPending(ctx context.Context) (int, error) {
	// Marks of writes that finished are not interrupted ones.
	if err := db.clearMarks(ctx); err != nil {
		return 0, err
	}
	var marks []struct {
		ID string `bson:"_id"`
	}
	if err := db.pending.FindAll(ctx, bson.D{}, &marks); err != nil {
		return 0, fmt.Errorf("casedb: unable to read pending summary marks: %w", err)
	}
	for _, m := range marks {
		if err := db.repairOne(ctx, m.ID); err != nil {
			return 0, err
		}
	}
	// New filings whose summaries a crash kept from being written.
	n, err := db.repairIntake(ctx)
	return len(marks) + n, err
}

// Flush writes the summaries of new filings still waiting
// (later.go); the server calls it when it stops. Without it
// nothing is lost: the next start writes them from the cases.
func (db *DB[C, F]) Flush(ctx context.Context) error {
	return db.later.sync(ctx)
}

// repairOne rewrites id's summary from its case and clears its mark.
func (db *DB[C, F]) repairOne(ctx context.Context, id string) error {
	defer db.lock(id)()
	if err := db.refresh(ctx, id); err != nil {
		return err
	}
	if _, err := db.pending.DeleteOne(ctx, byID(id)); err != nil {
		return fmt.Errorf("casedb: unable to clear the pending summary mark of %s: %w", id, err)
	}
	return nil
}

// Refresh rewrites id's summary from its case as stored now and clears its
// pending mark: for a write made with UpdateManyUnsummarized that did
// change what a summary carries (forgetting a resident takes them off
// their cases' lists).
func (db *DB[C, F]) Refresh(ctx context.Context, id string) error { return db.repairOne(ctx, id) }
