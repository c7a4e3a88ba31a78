package cases

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// maxFilingBatch bounds how many filings one group commit writes.
const maxFilingBatch = 100

// intake writes new cases with group commit. On the embedded engine an
// insert costs about the same for one document as for a hundred (the cost
// is per command: a SQLite transaction), and a filing makes two (its
// summary, then its case), so filings arriving while a batch is being
// written queue up and the next batch writes them all with one command
// per collection. There is no timer: the first filing to find nobody
// writing leads at once and writes what is queued (one filing alone costs
// what InsertOne costs); the batch after it forms while it writes, and the
// leader hands the lead to the first filing queued behind it. Each filing
// is answered with its own outcome once its batch is written (committed),
// so a 201 is only ever sent for a case that is stored.
type intake struct {
	cs    *caseStore
	mu    sync.Mutex
	queue []*filing
	busy  bool // a leader is writing; filings queue
	// beforeWrite, when set (tests), runs in the leader before it writes a
	// batch of n filings.
	beforeWrite func(n int)
}

type filing struct {
	ctx context.Context
	c   *Case
	out chan error // its outcome, or errLead: write the next batch
}

var errLead = errors.New("cases: lead the next batch")

// insert stores c as caseStore.InsertOne does (summary first; a case
// insert that fails takes its summary back), together with the filings
// that arrive meanwhile, and returns c's own outcome.
func (in *intake) insert(ctx context.Context, c *Case) error {
	f := &filing{ctx: ctx, c: c, out: make(chan error, 1)}
	in.mu.Lock()
	in.queue = append(in.queue, f)
	if in.busy {
		in.mu.Unlock()
		if err := <-f.out; err != errLead {
			return err
		}
		in.mu.Lock()
	}
	in.busy = true
	n := min(len(in.queue), maxFilingBatch)
	batch := slices.Clone(in.queue[:n])
	in.queue = slices.Delete(in.queue, 0, n)
	in.mu.Unlock()
	in.lead(batch)
	return <-f.out
}

// lead writes batch, then passes the lead on to the first filing queued
// meanwhile, or ends it.
func (in *intake) lead(batch []*filing) {
	defer func() {
		in.mu.Lock()
		if len(in.queue) > 0 {
			in.queue[0].out <- errLead
		} else {
			in.busy = false
		}
		in.mu.Unlock()
	}()
	defer func() {
		// A panic while writing answers every filing of the batch still
		// waiting (its outcome unknown), then goes on up the leader's stack.
		if r := recover(); r != nil {
			for _, f := range batch {
				select {
				case f.out <- fmt.Errorf("cases: filing batch failed: %v", r):
				default:
				}
			}
			panic(r)
		}
	}()
	if in.beforeWrite != nil {
		in.beforeWrite(len(batch))
	}
	in.write(batch)
}

// queued is how many filings wait for the next batch (tests).
func (in *intake) queued() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.queue)
}

// write stores batch and answers every filing in it.
func (in *intake) write(batch []*filing) {
	var live []*filing
	for _, f := range batch {
		if err := f.ctx.Err(); err != nil {
			f.out <- fmt.Errorf("cases: filing abandoned before it was written: %w", err)
			continue
		}
		live = append(live, f)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		live[0].out <- in.cs.InsertOne(live[0].ctx, live[0].c)
		return
	}
	// The batch is written for all its filings: one client going away
	// must not fail the others' (its filing, if it went away while the
	// batch was written, stays filed, as it would alone).
	ctx := context.WithoutCancel(live[0].ctx)
	cs := make([]*Case, len(live))
	for i, f := range live {
		cs[i] = f.c
	}
	errs := in.cs.insertFilings(ctx, cs)
	for i, f := range live {
		f.out <- errs[i]
	}
}

// lockAll takes the striped locks of ids (lockStripes).
func (cs *caseStore) lockAll(ids []string) func() {
	stripes := make([]int, len(ids))
	for i, id := range ids {
		stripes[i] = cs.stripe(id)
	}
	return cs.lockStripes(stripes)
}

// lockStripes takes the given stripe locks in ascending order, each once
// (so two callers never wait on each other crosswise; write holds one
// stripe at a time), and returns their unlock.
func (cs *caseStore) lockStripes(stripes []int) func() {
	stripes = slices.Compact(slices.Sorted(slices.Values(stripes)))
	for _, i := range stripes {
		cs.locks[i].Lock()
	}
	return func() {
		for _, i := range slices.Backward(stripes) {
			cs.locks[i].Unlock()
		}
	}
}

// insertFilings is InsertOne for several new cases at once: their
// summaries with one unordered insert, then the cases of the summaries
// stored with another. errs[i] is cases[i]'s own outcome: a duplicate
// (idempotency key, number) fails only its case, whose summary is taken
// back, as InsertOne does. When a case insert command fails as a whole,
// the cases actually stored are read back; a summary is removed only when
// its case is known not to be stored, so a failure leaves at worst a
// summary without case (lists skip it, check removes it), never a case
// without summary.
func (cs *caseStore) insertFilings(ctx context.Context, cases []*Case) []error {
	errs := make([]error, len(cases))
	ids := make([]string, len(cases))
	for i, c := range cases {
		ids[i] = c.ID
	}
	defer cs.lockAll(ids)()
	defer func() {
		for _, c := range cases {
			cs.facts.changed(c.ID, c.Location.SubDistrict)
		}
	}()

	var sums []any
	var sumOf []int
	for i, c := range cases {
		if !cs.interrupted(c.ID) {
			sums = append(sums, summaryOf(c))
			sumOf = append(sumOf, i)
		}
	}
	var takeBack []string
	if len(sums) > 0 {
		serrs, err := cs.sums.InsertEach(ctx, sums)
		for j, i := range sumOf {
			if serrs[j] != nil {
				errs[i] = fmt.Errorf("cases: unable to insert the summary of %s: %w", cases[i].ID, serrs[j])
			}
		}
		if err != nil {
			// Which of them landed is unknown: take back what may have.
			for _, i := range sumOf {
				takeBack = append(takeBack, cases[i].ID)
			}
		}
	}

	var docs []any
	var docOf []int
	for i, c := range cases {
		if errs[i] == nil {
			docs = append(docs, c)
			docOf = append(docOf, i)
		}
	}
	if len(docs) > 0 {
		cerrs, err := cs.Collection.InsertEach(ctx, docs)
		var stored map[string]bool
		var rerr error
		if err != nil {
			stored, rerr = cs.stored(ctx, ids)
		}
		for j, i := range docOf {
			switch {
			case cerrs[j] == nil:
			case err != nil && rerr == nil && stored[cases[i].ID]:
				// The command failed but this case is stored.
			case err != nil && rerr != nil:
				// Unknown: keep the summary (check removes an orphan).
				errs[i] = cerrs[j]
			default:
				errs[i] = cerrs[j]
				takeBack = append(takeBack, cases[i].ID)
			}
		}
	}
	if len(takeBack) > 0 {
		slices.Sort(takeBack)
		takeBack = slices.Compact(takeBack)
		if _, err := cs.sums.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: takeBack}}}}); err != nil {
			for i, c := range cases {
				if errs[i] != nil && slices.Contains(takeBack, c.ID) {
					errs[i] = errors.Join(errs[i], err)
				}
			}
		}
	}
	return errs
}

// stored returns which of ids are stored cases.
func (cs *caseStore) stored(ctx context.Context, ids []string) (map[string]bool, error) {
	var found []struct {
		ID string `bson:"_id"`
	}
	err := cs.Collection.FindAll(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, &found,
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	m := make(map[string]bool, len(found))
	for _, f := range found {
		m[f.ID] = true
	}
	return m, nil
}
