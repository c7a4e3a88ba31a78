package cases

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng/internal/store"
)

// newIntake writes new cases with group commit (store.Group): on the
// embedded engine an insert costs about as much for one document as for a
// hundred, so the filings arriving while a batch is written go together
// in the next. Each filing is answered with its own outcome once its
// batch is committed, so a 201 is only ever sent for a case that is
// stored. Where one process owns the store (embedded FerretDB) a filing is
// its case's insert alone, the summaries being written later, together
// (insertLater, summary_later.go); on a shared store (MongoDB) it is two
// inserts, its summary, then its case (insertFilings).
func newIntake(cs *caseStore) *store.Group[*Case] {
	if cs.later != nil {
		return &store.Group[*Case]{
			One:  func(ctx context.Context, c *Case) error { return cs.insertLater(ctx, []*Case{c})[0] },
			Many: cs.insertLater,
		}
	}
	return &store.Group[*Case]{
		One:  func(ctx context.Context, c *Case) error { return cs.InsertOne(ctx, c) },
		Many: cs.insertFilings,
	}
}

// insertLater inserts new cases with one unordered insert and queues the
// summaries of those stored (cs.later writes them). errs[i] is cases[i]'s
// own outcome. When the command fails as a whole, the cases actually
// stored are read back; a case whose outcome stays unknown has its
// summary queued too, so a failure leaves at worst a summary without case
// (lists skip it, check removes it), never a case without summary.
func (cs *caseStore) insertLater(ctx context.Context, cases []*Case) []error {
	ids := make([]string, len(cases))
	docs := make([]any, len(cases))
	for i, c := range cases {
		ids[i], docs[i] = c.ID, c
	}
	defer cs.lockAll(ids)()
	// The report facts' cache learns of each case once its summary is
	// written (laterSummaries.write).
	errs, err := cs.Collection.InsertEach(ctx, docs)
	var stored map[string]bool
	var rerr error
	if err != nil {
		stored, rerr = cs.stored(ctx, ids)
	}
	for i, c := range cases {
		switch {
		case errs[i] == nil, err != nil && rerr == nil && stored[c.ID]:
			errs[i] = nil
		case err != nil && rerr != nil:
			// Unknown: the summary is queued all the same.
		default:
			cs.later.releaseFiling(c.ID)
			continue
		}
		if !cs.interrupted(c.ID) { // a test's crash: the summary is never written
			cs.later.add(c, cs.facts)
		}
	}
	return errs
}

// lockAll takes the striped locks of ids (lockStripes).
func (ps *perStore) lockAll(ids []string) func() {
	stripes := make([]int, len(ids))
	for i, id := range ids {
		stripes[i] = ps.stripe(id)
	}
	return ps.lockStripes(stripes)
}

// lockStripes takes the given stripe locks in ascending order, each once
// (so two callers never wait on each other crosswise; write holds one
// stripe at a time), and returns their unlock.
func (ps *perStore) lockStripes(stripes []int) func() {
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
