package casedb

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng/internal/store"
)

// newIntake returns the group commit that writes new cases with group commit (store.Group): on the
// embedded engine an insert costs about as much for one document as for a
// hundred, so the filings arriving while a batch is written go together
// in the next. Each filing is answered with its own outcome once its
// batch is committed, so a 201 is only ever sent for a case that is
// stored. Where one process owns the store (embedded FerretDB) a filing is
// its case's insert alone, the summaries being written later, together
// (insertLater, later.go); on a shared store (MongoDB) it is two
// inserts, its summary, then its case (insertFilings).
func (db *DB[C, F]) newIntake() *store.Group[*C] {
	if db.later != nil {
		return &store.Group[*C]{
			One:  func(ctx context.Context, c *C) error { return db.insertLater(ctx, []*C{c})[0] },
			Many: db.insertLater,
		}
	}
	return &store.Group[*C]{
		One:  db.Insert,
		Many: db.insertFilings,
	}
}

// insertLater inserts new cases with one unordered insert and queues the
// summaries of those stored (db.later writes them). errs[i] is cases[i]'s
// own outcome. When the command fails as a whole, the cases actually
// stored are read back; a case whose outcome stays unknown has its
// summary queued too, so a failure leaves at worst a summary without case
// (lists skip it, check removes it), never a case without summary.
func (db *DB[C, F]) insertLater(ctx context.Context, cases []*C) []error {
	ids := make([]string, len(cases))
	docs := make([]any, len(cases))
	for i, c := range cases {
		ids[i], docs[i] = db.schema.ID(c), c
	}
	defer db.lockAll(ids)()
	// The report facts' cache learns of each case once its summary is
	// written (laterSummaries.write).
	errs, err := db.cases.InsertEach(ctx, docs)
	var stored map[string]bool
	var rerr error
	if err != nil {
		stored, rerr = db.stored(ctx, ids)
	}
	for i, c := range cases {
		switch {
		case errs[i] == nil, err != nil && rerr == nil && stored[ids[i]]:
			errs[i] = nil
		case err != nil && rerr != nil:
			// Unknown: the summary is queued all the same.
		default:
			db.later.releaseFiling(ids[i])
			continue
		}
		if !db.interrupted(ids[i]) { // a test's crash: the summary is never written
			db.later.add(db.schema.Summarize(c), db.facts)
		}
	}
	return errs
}

// lockAll takes the striped locks of ids (lockStripes).
func (ps *perStore[F]) lockAll(ids []string) func() {
	stripes := make([]int, len(ids))
	for i, id := range ids {
		stripes[i] = ps.stripe(id)
	}
	return ps.lockStripes(stripes)
}

// lockStripes takes the given stripe locks in ascending order, each once
// (so two callers never wait on each other crosswise; write holds one
// stripe at a time), and returns their unlock.
func (ps *perStore[F]) lockStripes(stripes []int) func() {
	stripes = slices.Compact(slices.Sorted(slices.Values(stripes)))
	for _, i := range stripes {
		ps.locks[i].Lock()
	}
	return func() {
		for _, i := range slices.Backward(stripes) {
			ps.locks[i].Unlock()
		}
	}
}

// insertFilings is Insert for several new cases at once: their
// summaries with one unordered insert, then the cases of the summaries
// stored with another. errs[i] is cases[i]'s own outcome: a duplicate
// (idempotency key, number) fails only its case, whose summary is taken
// back, as Insert does. When a case insert command fails as a whole,
// the cases actually stored are read back; a summary is removed only when
// its case is known not to be stored, so a failure leaves at worst a
// summary without case (lists skip it, check removes it), never a case
// without summary.
func (db *DB[C, F]) insertFilings(ctx context.Context, cases []*C) []error {
	errs := make([]error, len(cases))
	ids := make([]string, len(cases))
	written := make([]Summary[F], len(cases))
	for i, c := range cases {
		written[i] = db.schema.Summarize(c)
		ids[i] = written[i].ID
	}
	defer db.lockAll(ids)()
	defer func() {
		for _, sm := range written {
			db.facts.changed(sm.ID, sm.SubDistrict)
		}
	}()

	var sums []any
	var sumOf []int
	for i := range cases {
		if !db.interrupted(ids[i]) {
			sums = append(sums, written[i])
			sumOf = append(sumOf, i)
		}
	}
	var takeBack []string
	if len(sums) > 0 {
		serrs, err := db.sums.InsertEach(ctx, sums)
		for j, i := range sumOf {
			if serrs[j] != nil {
				errs[i] = fmt.Errorf("casedb: unable to insert the summary of %s: %w", ids[i], serrs[j])
			}
		}
		if err != nil {
			// Which of them landed is unknown: take back what may have.
			for _, i := range sumOf {
				takeBack = append(takeBack, ids[i])
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
		cerrs, err := db.cases.InsertEach(ctx, docs)
		var stored map[string]bool
		var rerr error
		if err != nil {
			stored, rerr = db.stored(ctx, ids)
		}
		for j, i := range docOf {
			switch {
			case cerrs[j] == nil:
			case err != nil && rerr == nil && stored[ids[i]]:
				// The command failed but this case is stored.
			case err != nil && rerr != nil:
				// Unknown: keep the summary (check removes an orphan).
				errs[i] = cerrs[j]
			default:
				errs[i] = cerrs[j]
				takeBack = append(takeBack, ids[i])
			}
		}
	}
	if len(takeBack) > 0 {
		slices.Sort(takeBack)
		takeBack = slices.Compact(takeBack)
		if _, err := db.sums.DeleteMany(ctx, inIDs(takeBack)); err != nil {
			for i := range cases {
				if errs[i] != nil && slices.Contains(takeBack, ids[i]) {
					errs[i] = errors.Join(errs[i], err)
				}
			}
		}
	}
	return errs
}

// stored returns which of ids are stored cases.
func (db *DB[C, F]) stored(ctx context.Context, ids []string) (map[string]bool, error) {
	var found []struct {
		ID string `bson:"_id"`
	}
	err := db.cases.FindAll(ctx, inIDs(ids), &found,
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

// File stores a new case through the group commit: it returns once the
// batch holding it is committed, with the case's own outcome, so a filing
// is only ever answered as stored when it is.
func (db *DB[C, F]) File(ctx context.Context, c *C) error { return db.intake.Do(ctx, c) }
