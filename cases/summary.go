package cases

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/store"
)

// summariesCollection holds one slim document per case (案件摘要), keyed by
// the case id, with the fields the queues filter and sort on at the top
// level. The patched embedded engine pushes down only top-level string
// equality and $in (third_party/PATCHES), so a queue that filtered the
// cases themselves on location.community decoded every 2 KB case; on the
// summaries it reads the ~200-byte candidates of one scope through an
// index, then fetches the page's full cases by _id $in.
const summariesCollection = "case_summaries"

// pendingCollection holds a marker {_id: case id} for every case write in
// flight: inserted before the case write, removed after its summary is
// written. A crash in between leaves the marker, and the server's start
// repairs just those summaries (RepairPendingSummaries) instead of reading
// every case; `minsheng check` compares them all.
const pendingCollection = "case_summaries_pending"

// summaryIndexes serve the queue shapes, equality fields first. There is
// deliberately no index that starts with status or area: the engine pushes
// {sub_district: s, status: x} down as disjuncts that keep array-valued
// fields as candidates, and SQLite, without statistics, served the
// "sub_district is an array" disjunct from a status index, reading every
// case of that status in the district; with only scope-first indexes that
// disjunct is an empty range of the same index (TestSummaryQueriesSearchAnIndex).
var summaryIndexes = []store.Index{
	{Collection: summariesCollection, Name: "community_status_filed", Keys: keys("community", "status", "-filed_at", "-_id")},
	{Collection: summariesCollection, Name: "community_filed", Keys: keys("community", "-filed_at", "-_id")},
	{Collection: summariesCollection, Name: "community_due", Keys: keys("community", "due_at", "_id")},
	{Collection: summariesCollection, Name: "community_area_status", Keys: keys("community", "area", "status", "-filed_at")},
	{Collection: summariesCollection, Name: "subdistrict_status_filed", Keys: keys("sub_district", "status", "-filed_at", "-_id")},
	{Collection: summariesCollection, Name: "subdistrict_filed", Keys: keys("sub_district", "-filed_at", "-_id")},
	{Collection: summariesCollection, Name: "subdistrict_due", Keys: keys("sub_district", "due_at", "_id")},
	{Collection: summariesCollection, Name: "budget_filed", Keys: keys("has_budget", "filed_at", "_id")},
	{Collection: summariesCollection, Name: "effect_pending", Keys: keys("effect_pending")},
	{Collection: summariesCollection, Name: "filed", Keys: keys("-filed_at", "-_id")},
	// Searches by callers who may not read every case (residents,
	// anonymous): public cases first, their own beside them (similar.go).
	{Collection: summariesCollection, Name: "public_filed", Keys: keys("public", "-filed_at", "-_id")},
	// Residents' own lists (我的诉求): one equality query each, merged in Go.
	{Collection: summariesCollection, Name: "filer_filed", Keys: keys("filer_id", "-filed_at", "-_id")},
	{Collection: summariesCollection, Name: "cosigners_filed", Keys: keys("cosigners", "-filed_at", "-_id")},
	{Collection: summariesCollection, Name: "due", Keys: keys("due_at", "_id")},
}

// summary is a case's queue document. Its fields carry the names the
// cases have at the top level, so Filter.query reads the same on both
// collections once location's fields are renamed.
type summary struct {
	ID          string    `bson:"_id"`
	Number      string    `bson:"number"`
	SubDistrict string    `bson:"sub_district"`
	Community   string    `bson:"community"`
	Status      Status    `bson:"status"`
	Area        string    `bson:"area"`
	AssignedTo  string    `bson:"assigned_to,omitempty"`
	Title       string    `bson:"title"`
	FiledAt     time.Time `bson:"filed_at"`
	DueAt       time.Time `bson:"due_at"`
	// HasBudget is "1" when the case carries a budget link copy: a string,
	// so that the engine pushes the equality down.
	HasBudget string `bson:"has_budget,omitempty"`
	// EffectPending is "1" while the case's money effect is pending
	// (FinishMoneyEffects looks for these, at every check).
	EffectPending string `bson:"effect_pending,omitempty"`
	Version       int64  `bson:"version"`
	// Facts is what reports read of the case (facts.go).
	Facts caseFacts `bson:"facts"`
	// FilerID and Cosigners are the residents whose lists (我的诉求) show
	// the case; a resident's list is one equality query on each (the
	// engine pushes down a string equality; an array field keeps every
	// row holding an array as a candidate, so Cosigners is left out when
	// empty, and only co-signed cases are candidates).
	FilerID   string   `bson:"filer_id,omitempty"`
	Cosigners []string `bson:"cosigners,omitempty"`
	// Public is "1" for a case filed as 公开, so a search for callers who
	// may read only public cases reads public candidates alone (a string,
	// as the engine pushes down string equality).
	Public string `bson:"public,omitempty"`
}

func summaryOf(c *Case) summary {
	s := summary{
		ID: c.ID, Number: c.Number, SubDistrict: c.Location.SubDistrict, Community: c.Location.Community,
		Status: c.Status, Area: c.Area, AssignedTo: c.AssignedTo, Title: c.Title,
		FiledAt: c.FiledAt.UTC(), DueAt: c.DueAt.UTC(), Version: c.Version, FilerID: c.FilerID,
		Facts: factsOf(c),
	}
	if len(c.Cosigners) > 0 {
		s.Cosigners = slices.Clone(c.Cosigners)
	}
	if c.Public {
		s.Public = "1"
	}
	if c.Budget != nil && c.Budget.LineID != "" {
		s.HasBudget = "1"
	}
	if c.MoneyEffect != nil && c.MoneyEffect.State == EffectPending {
		s.EffectPending = "1"
	}
	return s
}

// summarySource projects a case on the fields summaryOf reads, so that
// RepairSummaries does not transfer (and the patched embedded engine does
// not decode, third_party/PATCHES "Fields") descriptions, timelines and
// photos of every case.
var summarySource = bson.D{
	// Top-level fields only, in the order of Case's fields, which is the
	// order a case is stored in: the engine's inclusion projection then
	// appends each field, and is linear in the fields, not quadratic
	// (third_party/PATCHES, fourth part); another order or dotted paths
	// give the same result, only slower. location and money_effect are
	// small, and the engine reads them whole anyway (fields pushdown).
	{Key: "number", Value: 1}, {Key: "area", Value: 1}, {Key: "title", Value: 1}, {Key: "location", Value: 1},
	{Key: "filer_id", Value: 1}, {Key: "public", Value: 1}, {Key: "households", Value: 1}, {Key: "cosigners", Value: 1}, {Key: "merged_from", Value: 1},
	{Key: "status", Value: 1}, {Key: "filed_at", Value: 1},
	{Key: "response_due_at", Value: 1}, {Key: "responded_at", Value: 1}, {Key: "accepted_at", Value: 1}, {Key: "completion_due_at", Value: 1},
	{Key: "completed_at", Value: 1}, {Key: "due_at", Value: 1}, {Key: "assigned_to", Value: 1}, {Key: "assessment", Value: 1},
	{Key: "verdict", Value: 1}, {Key: "verdicts", Value: 1}, {Key: "catalog_item", Value: 1}, {Key: "budget", Value: 1},
	{Key: "money_effect", Value: 1}, {Key: "version", Value: 1},
}

// caseStore is the cases collection with its summaries: every write to a
// case goes through it and rewrites that case's summary from the case as
// stored, so no write path can forget it. Reads pass through.
//
// Writes of one case and its summary are serialised by a striped lock
// (perStore, shared by every Service on the store), so a summary written
// from an older read never overwrites a newer one within this process
// (the embedded engine allows one process; on MongoDB with
// several instances a race can leave a summary stale until `minsheng
// check` rebuilds it, as it does after a crash between the two writes).
type caseStore struct {
	*store.Collection
	sums    *store.Collection
	pending *store.Collection
	// perStore is what every Service on this store shares in the process:
	// the case locks, the pending marks' sweep and the new filings'
	// summaries waiting to be written.
	*perStore
	// afterCaseWrite, when set (tests), runs between a case write and its
	// summary write; an error from it skips the summary, as a crash would.
	afterCaseWrite func(id string) error
	// facts is the report facts' cache (facts.go); nil off FerretDB.
	facts *factsCache
}

// perStore is the state that must be one per store in a process, however
// many Services use the store (the server builds one; the demo's seeding
// and tests build several): a case's lock serialises its writes across
// all of them, and a read through any of them writes every summary
// waiting to be written first.
type perStore struct {
	seed  maphash.Seed
	locks [64]sync.Mutex
	// sweep clears finished writes' pending marks in batches.
	sweep markSweep
	// later writes new filings' summaries after their cases where one
	// process owns the store (store.OneProcess, summary_later.go); nil
	// elsewhere.
	later *laterSummaries
}

// perStoreKey is perStore's key in store.Local.
type perStoreKey struct{}

func perStoreOf(st *store.Store) *perStore {
	return st.Local(perStoreKey{}, func() any {
		ps := &perStore{seed: maphash.MakeSeed(), sweep: markSweep{delay: markSweepDelay}}
		if st.OneProcess() { // one process owns the store, as the write guard assumes
			ps.later = newLaterSummaries(st, ps)
		}
		return ps
	}).(*perStore)
}

func newCaseStore(st *store.Store) *caseStore {
	return &caseStore{Collection: st.Collection(casesCollection), sums: st.Collection(summariesCollection),
		pending: st.Collection(pendingCollection), perStore: perStoreOf(st), facts: newFactsCache(st)}
}

// stripe is the index of id's lock (the one lock takes).
func (ps *perStore) stripe(id string) int {
	return int(maphash.String(ps.seed, id) % uint64(len(ps.locks)))
}

func (ps *perStore) lock(id string) func() {
	m := &ps.locks[ps.stripe(id)]
	m.Lock()
	return m.Unlock
}

// errSkipSummary is what afterCaseWrite returns to simulate a crash.
var errSkipSummary = errors.New("cases: summary write skipped")

func (cs *caseStore) interrupted(id string) bool {
	return cs.afterCaseWrite != nil && cs.afterCaseWrite(id) != nil
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
func (cs *caseStore) begin(ctx context.Context, id string) error {
	cs.sweep.mu.Lock()
	delete(cs.sweep.done, id)
	cs.sweep.mu.Unlock()
	if err := cs.pending.InsertOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil && !errors.Is(err, minsheng.ErrDuplicate) {
		return fmt.Errorf("cases: unable to mark summaries pending: %w", err)
	}
	return nil
}

// finished records that id's summary follows its case again (or that the
// write changed nothing): its mark goes with the next sweep.
func (cs *caseStore) finished(ctx context.Context, id string) {
	cs.sweep.mu.Lock()
	defer cs.sweep.mu.Unlock()
	if cs.sweep.done == nil {
		cs.sweep.done = map[string]struct{}{}
	}
	cs.sweep.done[id] = struct{}{}
	if !cs.sweep.running {
		cs.sweep.running = true
		cs.sweepLater(context.WithoutCancel(ctx)) // the sweep outlives the request
	}
}

// sweepLater clears the marks after markSweepDelay, and again while
// writes keep finishing.
func (cs *caseStore) sweepLater(ctx context.Context) {
	time.AfterFunc(cs.sweep.delay, func() {
		_ = cs.clearMarks(ctx) // what stays is swept next time, or repaired at start
		cs.sweep.mu.Lock()
		defer cs.sweep.mu.Unlock()
		if len(cs.sweep.done) == 0 {
			cs.sweep.running = false
			return
		}
		cs.sweepLater(ctx)
	})
}

// clearMarks deletes the pending marks of finished writes, under their
// stripe locks (lockStripes).
func (cs *caseStore) clearMarks(ctx context.Context) error {
	cs.sweep.mu.Lock()
	var stripes []int
	seen := map[int]bool{}
	for id := range cs.sweep.done {
		if i := cs.stripe(id); !seen[i] {
			seen[i] = true
			stripes = append(stripes, i)
		}
	}
	cs.sweep.mu.Unlock()
	if len(stripes) == 0 {
		return nil
	}
	defer cs.lockStripes(stripes)()
	cs.sweep.mu.Lock()
	var ids []string
	for id := range cs.sweep.done {
		if seen[cs.stripe(id)] {
			ids = append(ids, id)
			delete(cs.sweep.done, id)
		}
	}
	cs.sweep.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	// On an error the marks stay: the start repairs those summaries, which
	// costs a read and a write each and is never wrong.
	if _, err := cs.pending.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
		return fmt.Errorf("cases: unable to clear pending summary marks: %w", err)
	}
	return nil
}

// putSummary writes c's summary (upsert by _id, through the write guard).
func (cs *caseStore) putSummary(ctx context.Context, c *Case) error {
	s := summaryOf(c)
	if _, err := cs.sums.ReplaceOne(ctx, byID(c.ID), s, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("cases: unable to write summary of %s: %w", c.ID, err)
	}
	cs.facts.changed(c.ID, c.Location.SubDistrict)
	return nil
}

// refresh rewrites id's summary from the case as stored now.
func (cs *caseStore) refresh(ctx context.Context, id string) error {
	var c Case
	err := cs.Collection.FindOne(ctx, byID(id), &c)
	if errors.Is(err, minsheng.ErrNotFound) {
		_, err = cs.sums.DeleteOne(ctx, byID(id))
		cs.facts.changed(id, "")
		return err
	}
	if err != nil {
		return fmt.Errorf("cases: unable to read %s for its summary: %w", id, err)
	}
	return cs.putSummary(ctx, &c)
}

// write runs one case write for id under id's lock between a pending mark
// and its summary: do performs the case write and reports whether it
// changed a case; summarize then writes the summary. Unless a test
// interrupts it there (or summarize fails), the mark is cleared with the
// next sweep (finished).
func (cs *caseStore) write(ctx context.Context, id string, do func() (bool, error), summarize func() error) error {
	defer cs.lock(id)()
	if err := cs.begin(ctx, id); err != nil {
		return err
	}
	changed, err := do()
	if err != nil || !changed {
		cs.finished(ctx, id)
		return err
	}
	// A new filing's summary still waiting (summary_later.go) is this
	// write's to write now, from the case as stored; a crash before it
	// leaves the pending mark, which the start repairs.
	cs.later.forget(id)
	if cs.interrupted(id) {
		return nil
	}
	if err := summarize(); err != nil {
		return err
	}
	cs.finished(ctx, id)
	return nil
}

// InsertOne inserts a case's summary, then the case, both without the
// guard (inserts need none) and without a pending mark: a crash in between
// leaves a summary whose case does not exist, which lists skip (byIDs) and
// check removes. A case insert that fails takes its summary back.
func (cs *caseStore) InsertOne(ctx context.Context, doc any) error {
	c, ok := asCase(doc)
	if !ok {
		return cs.Collection.InsertOne(ctx, doc)
	}
	defer cs.lock(c.ID)()
	defer cs.facts.changed(c.ID, c.Location.SubDistrict)
	if !cs.interrupted(c.ID) {
		if err := cs.sums.InsertOne(ctx, summaryOf(c)); err != nil {
			return fmt.Errorf("cases: unable to insert the summary of %s: %w", c.ID, err)
		}
	}
	if err := cs.Collection.InsertOne(ctx, doc); err != nil {
		if _, derr := cs.sums.DeleteOne(ctx, byID(c.ID)); derr != nil {
			return errors.Join(err, derr)
		}
		return err
	}
	return nil
}

// InsertMany inserts cases' summaries in batches, then the cases, as
// InsertOne does. A summary already there (a retried import) is rewritten.
func (cs *caseStore) InsertMany(ctx context.Context, docs []any) error {
	defer cs.facts.changedCases(docs)
	var sums []any
	for _, d := range docs {
		if c, ok := asCase(d); ok && !cs.interrupted(c.ID) {
			sums = append(sums, summaryOf(c))
		}
	}
	if err := cs.sums.InsertMany(ctx, sums); err != nil {
		if !errors.Is(err, minsheng.ErrDuplicate) {
			return fmt.Errorf("cases: unable to insert summaries: %w", err)
		}
		for _, d := range docs {
			if c, ok := asCase(d); ok {
				if err := cs.putSummary(ctx, c); err != nil {
					return err
				}
			}
		}
	}
	// On an error the summaries of cases not inserted stay as orphans,
	// skipped by lists, removed by check.
	return cs.Collection.InsertMany(ctx, docs)
}

// UpdateOne updates one case and rewrites its summary. The filter must name
// the case's _id.
func (cs *caseStore) UpdateOne(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateOneOptions]) (int64, error) {
	id, ok := idOf(filter)
	if !ok {
		return 0, errNoID
	}
	var n int64
	err := cs.write(ctx, id, func() (bool, error) {
		var err error
		n, err = cs.Collection.UpdateOne(ctx, filter, update, opts...)
		return n > 0, err
	}, func() error { return cs.refresh(ctx, id) })
	return n, err
}

var errNoID = errors.New("cases: a case write must name the case's _id, to keep its summary")

// FindOneAndUpdate updates one case, decodes it into out (a *Case) and
// rewrites its summary from it when it is the document after the update,
// otherwise from a fresh read.
func (cs *caseStore) FindOneAndUpdate(ctx context.Context, filter, update, out any, opts ...options.Lister[options.FindOneAndUpdateOptions]) error {
	id, ok := idOf(filter)
	if !ok {
		return errNoID
	}
	var after options.FindOneAndUpdateOptions
	for _, o := range opts {
		for _, set := range o.List() {
			_ = set(&after)
		}
	}
	return cs.write(ctx, id, func() (bool, error) {
		return true, cs.Collection.FindOneAndUpdate(ctx, filter, update, out, opts...)
	}, func() error {
		if c, ok := out.(*Case); ok && after.ReturnDocument != nil && *after.ReturnDocument == options.After {
			return cs.putSummary(ctx, c)
		}
		return cs.refresh(ctx, id)
	})
}

// recordOnTimeline appends an entry to a case's timeline without a
// version change (a text message sent): the summary carries neither the
// timeline nor anything derived from it (summaryOf, factsOf), so the case
// alone is written — no pending mark, no summary rewrite.
func (cs *caseStore) recordOnTimeline(ctx context.Context, id string, ev Event) (int64, error) {
	return cs.Collection.UpdateOne(ctx, byID(id), bson.D{{Key: "$push", Value: bson.D{{Key: "timeline", Value: ev}}}})
}

// UpdateMany is only for fields summaries do not carry (the PIPL purge
// blanks contacts); it leaves the summaries alone.
func (cs *caseStore) UpdateMany(ctx context.Context, filter, update any) (int64, error) {
	return cs.Collection.UpdateMany(ctx, filter, update)
}

// ReplaceOne replaces one case and rewrites its summary.
func (cs *caseStore) ReplaceOne(ctx context.Context, filter, doc any, opts ...options.Lister[options.ReplaceOptions]) (int64, error) {
	id, ok := idOf(filter)
	if !ok {
		return 0, errNoID
	}
	var n int64
	err := cs.write(ctx, id, func() (bool, error) {
		var err error
		n, err = cs.Collection.ReplaceOne(ctx, filter, doc, opts...)
		return n > 0, err
	}, func() error { return cs.refresh(ctx, id) })
	return n, err
}

// DeleteOne deletes one case and its summary.
func (cs *caseStore) DeleteOne(ctx context.Context, filter any) (bool, error) {
	id, ok := idOf(filter)
	if !ok {
		return false, errNoID
	}
	var deleted bool
	err := cs.write(ctx, id, func() (bool, error) {
		var err error
		deleted, err = cs.Collection.DeleteOne(ctx, filter)
		return deleted, err
	}, func() error { return cs.refresh(ctx, id) })
	return deleted, err
}

func asCase(doc any) (*Case, bool) {
	switch c := doc.(type) {
	case *Case:
		return c, c != nil
	case Case:
		return &c, true
	}
	return nil, false
}

// idOf returns the string _id a filter names at its top level.
func idOf(filter any) (string, bool) {
	switch f := filter.(type) {
	case bson.D:
		for _, e := range f {
			if e.Key == "_id" {
				id, ok := e.Value.(string)
				return id, ok
			}
		}
	case bson.M:
		id, ok := f["_id"].(string)
		return id, ok
	}
	return "", false
}

// findSummaries returns the summaries matching q in the given order, at
// most limit (0: all).
func (cs *caseStore) findSummaries(ctx context.Context, q, sort bson.D, limit int64) ([]summary, error) {
	if err := cs.later.sync(ctx); err != nil {
		return nil, err
	}
	opts := options.Find().SetSort(sort)
	if limit > 0 {
		opts.SetLimit(limit)
	}
	var out []summary
	if err := cs.sums.FindAll(ctx, q, &out, opts); err != nil {
		return nil, fmt.Errorf("cases: unable to list summaries: %w", err)
	}
	return out, nil
}

// byIDs fetches the cases with the given ids by _id $in, in the ids' order;
// an id whose case is gone is left out.
func (cs *caseStore) byIDs(ctx context.Context, ids []string) ([]*Case, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var found []*Case
	if err := cs.Collection.FindAll(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, &found); err != nil {
		return nil, fmt.Errorf("cases: unable to fetch cases: %w", err)
	}
	at := make(map[string]*Case, len(found))
	for _, c := range found {
		at[c.ID] = c
	}
	out := make([]*Case, 0, len(ids))
	for _, id := range ids {
		if c, ok := at[id]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// summaryQuery is f's filter on the summaries: the same as on the cases,
// with location's fields at the top level and the budget marker a string.
func (f Filter) summaryQuery(now time.Time) bson.D {
	q := f.query(now)
	for i, e := range q {
		switch e.Key {
		case "location.sub_district":
			q[i].Key = "sub_district"
		case "location.community":
			q[i].Key = "community"
		case "budget.line_id":
			q[i] = bson.E{Key: "has_budget", Value: "1"}
		}
	}
	return q
}

// repairWorkers is how many batches of cases RepairSummaries reads at
// once, and repairBatch how many cases a batch has: the engine applies
// the $in in Go to every candidate, comparing with each value, so a batch
// stays small; each query costs a round trip, so it is not tiny.
const (
	repairWorkers = 3
	repairBatch   = 250
)

// SummaryRepair is what RepairSummaries did.
type SummaryRepair struct {
	Cases    int           `json:"cases"`
	Missing  int           `json:"missing"` // cases without a summary, written
	Stale    int           `json:"stale"`   // summaries that differed from their case, rewritten
	Orphans  int           `json:"orphans"` // summaries without a case, removed
	Duration time.Duration `json:"duration"`
}

// RepairSummaries compares every case with its summary and rewrites the
// missing and stale ones, removing summaries of cases that are gone: a
// crash between a case write and its summary write leaves one behind.
// `minsheng check` runs it.
func (s *Service) RepairSummaries(ctx context.Context) (SummaryRepair, error) {
	start := time.Now()
	defer s.cases.facts.reset()
	var rep SummaryRepair
	if err := s.cases.later.sync(ctx); err != nil {
		return rep, err
	}
	d, err := s.diffSummaries(ctx)
	rep.Cases = d.cases
	if err != nil {
		return rep, err
	}
	if err := s.writeRepairs(ctx, d, &rep); err != nil {
		return rep, err
	}
	if _, err := s.RepairPendingSummaries(ctx); err != nil {
		return rep, err
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// repairScan is what the scans of diffSummaries share.
type repairScan struct {
	s      *Service
	ctx    context.Context // the scans' context, cancelled by the first error
	cancel context.CancelFunc
	mu     sync.Mutex
	first  error           // the first error of any scan, which cancels the others
	listed map[string]bool // the ids of the case scan
	sumIDs []string        // the ids of the summary scan
	diff   batchDiff       // what the batches found, summed
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
func (s *Service) diffSummaries(ctx context.Context) (batchDiff, error) {
	scan, cancel := context.WithCancel(ctx)
	defer cancel()
	sc := &repairScan{s: s, ctx: scan, cancel: cancel, listed: map[string]bool{},
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
	slices.SortFunc(d.missing, func(a, b summary) int { return strings.Compare(a.ID, b.ID) })
	slices.Sort(d.stale)
	slices.Sort(d.gone)
	return d, nil
}

// fail records the first error of any scan and cancels the others.
func (sc *repairScan) fail(err error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.first == nil {
		sc.first = err
		sc.cancel()
	}
}

// listSummaries lists the ids of every summary.
func (sc *repairScan) listSummaries() {
	err := sc.s.cases.sums.Each(sc.ctx, bson.D{}, func(cur *mongo.Cursor) error {
		id, ok := cur.Current.Lookup("_id").StringValueOK()
		if !ok {
			return fmt.Errorf("cases: a summary's _id is not a string: %s", cur.Current.Lookup("_id"))
		}
		sc.sumIDs = append(sc.sumIDs, id)
		return nil
	}, sc.onlyID)
	if err != nil {
		sc.fail(err)
	}
}

// listCases lists the ids of every case and sends them in batches of
// repairBatch, closing batches when done.
func (sc *repairScan) listCases(batches chan<- []string) {
	defer close(batches)
	batch := make([]string, 0, repairBatch)
	send := func() error {
		select {
		case batches <- batch:
			batch = make([]string, 0, repairBatch)
			return nil
		case <-sc.ctx.Done():
			return sc.ctx.Err()
		}
	}
	err := sc.s.cases.Collection.Each(sc.ctx, bson.D{}, func(cur *mongo.Cursor) error {
		id, ok := cur.Current.Lookup("_id").StringValueOK()
		if !ok {
			return fmt.Errorf("cases: a case's _id is not a string: %s", cur.Current.Lookup("_id"))
		}
		sc.listed[id] = true
		if batch = append(batch, id); len(batch) == repairBatch {
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
func (sc *repairScan) compare(batches <-chan []string) {
	for batch := range batches {
		d, err := sc.s.compareBatch(sc.ctx, batch)
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
func (s *Service) writeRepairs(ctx context.Context, d batchDiff, rep *SummaryRepair) error {
	rep.Missing, rep.Stale = len(d.missing), len(d.stale)
	if err := s.insertMissingSummaries(ctx, d.missing); err != nil {
		return err
	}
	for _, id := range d.stale {
		if err := s.repairOne(ctx, id); err != nil {
			return err
		}
	}
	for _, id := range d.gone {
		if err := s.repairOne(ctx, id); err != nil {
			return err
		}
		rep.Orphans++
	}
	return nil
}

// insertMissingSummaries inserts the summaries of cases that had none.
func (s *Service) insertMissingSummaries(ctx context.Context, missing []summary) error {
	for start := 0; start < len(missing); start += eachBatch {
		batch := missing[start:min(start+eachBatch, len(missing))]
		docs := make([]any, len(batch))
		for i := range batch {
			docs[i] = batch[i]
		}
		// Inserted in batches: a data directory from before the summaries
		// has none, and one guarded write per case is slow.
		if err := s.cases.sums.InsertMany(ctx, docs); err != nil {
			if !errors.Is(err, minsheng.ErrDuplicate) {
				return fmt.Errorf("cases: unable to insert summaries: %w", err)
			}
			// A write since the scan inserted some: one by one, from the
			// cases as they are now.
			for _, sm := range batch {
				if err := s.repairOne(ctx, sm.ID); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// batchDiff is what compareBatch found in one batch of case ids.
type batchDiff struct {
	cases   int       // cases read
	missing []summary // what the summaries of cases without one must be
	stale   []string  // ids whose summary differs from its case
	gone    []string  // ids with a summary but no case any more
}

// compareBatch reads the cases with the given ids (projected on
// summarySource) and their summaries, and compares each summary with
// what its case makes of it.
func (s *Service) compareBatch(ctx context.Context, ids []string) (batchDiff, error) {
	var d batchDiff
	in := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	wants := make(map[string]summary, len(ids))
	err := s.cases.Collection.Each(ctx, in, func(cur *mongo.Cursor) error {
		var c Case // the fields of summarySource only
		if err := cur.Decode(&c); err != nil {
			return fmt.Errorf("cases: unable to decode case: %w", err)
		}
		wants[c.ID] = summaryOf(&c)
		return nil
	}, options.Find().SetProjection(summarySource))
	if err != nil {
		return d, err
	}
	d.cases = len(wants)
	err = s.cases.sums.Each(ctx, in, func(cur *mongo.Cursor) error {
		id, ok := cur.Current.Lookup("_id").StringValueOK()
		if !ok {
			return fmt.Errorf("cases: a summary's _id is not a string: %s", cur.Current.Lookup("_id"))
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
		var got summary
		if err := cur.Decode(&got); err != nil {
			return fmt.Errorf("cases: unable to decode summary: %w", err)
		}
		if !sameSummary(got, want) {
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

// EnsureSummaries is what the server runs at start: on a store whose
// summaries were never built (a data directory from before them) the full
// RepairSummaries once, then the repair of interrupted writes. It returns
// how many summaries it wrote.
func (s *Service) EnsureSummaries(ctx context.Context) (int, error) {
	meta := s.st.Collection(summariesMeta)
	var m struct {
		ID string `bson:"_id"`
	}
	err := meta.FindOne(ctx, byID(summariesBuilt), &m)
	if errors.Is(err, minsheng.ErrNotFound) {
		rep, err := s.RepairSummaries(ctx)
		if err != nil {
			return 0, err
		}
		if err := meta.InsertOne(ctx, bson.D{{Key: "_id", Value: summariesBuilt}, {Key: "at", Value: time.Now().UTC()}}); err != nil && !errors.Is(err, minsheng.ErrDuplicate) {
			return 0, fmt.Errorf("cases: unable to record the summaries as built: %w", err)
		}
		return rep.Missing + rep.Stale + rep.Orphans, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cases: unable to read the summaries' state: %w", err)
	}
	return s.RepairPendingSummaries(ctx)
}

// RepairPendingSummaries rewrites the summaries of the case writes a crash
// interrupted (their pending marks), writes those of the new filings a
// crash kept from being written (the cases of the marked number blocks,
// summary_later.go), and returns how many; the server runs it at start,
// where reading every case would take too long.
func (s *Service) RepairPendingSummaries(ctx context.Context) (int, error) {
	// Marks of writes that finished are not interrupted ones.
	if err := s.cases.clearMarks(ctx); err != nil {
		return 0, err
	}
	var marks []struct {
		ID string `bson:"_id"`
	}
	if err := s.cases.pending.FindAll(ctx, bson.D{}, &marks); err != nil {
		return 0, fmt.Errorf("cases: unable to read pending summary marks: %w", err)
	}
	for _, m := range marks {
		if err := s.repairOne(ctx, m.ID); err != nil {
			return 0, err
		}
	}
	// New filings whose summaries a crash kept from being written.
	n, err := s.repairIntake(ctx)
	return len(marks) + n, err
}

// FlushSummaries writes the summaries of new filings still waiting
// (summary_later.go); the server calls it when it stops. Without it
// nothing is lost: the next start writes them from the cases.
func (s *Service) FlushSummaries(ctx context.Context) error {
	return s.cases.later.sync(ctx)
}

// repairOne rewrites id's summary from its case and clears its mark.
func (s *Service) repairOne(ctx context.Context, id string) error {
	defer s.cases.lock(id)()
	if err := s.cases.refresh(ctx, id); err != nil {
		return err
	}
	if _, err := s.cases.pending.DeleteOne(ctx, byID(id)); err != nil {
		return fmt.Errorf("cases: unable to clear the pending summary mark of %s: %w", id, err)
	}
	return nil
}

func sameSummary(a, b summary) bool {
	return a.ID == b.ID && a.Number == b.Number && a.SubDistrict == b.SubDistrict && a.Community == b.Community &&
		a.Status == b.Status && a.Area == b.Area && a.AssignedTo == b.AssignedTo && a.Title == b.Title &&
		a.FiledAt.Equal(b.FiledAt) && a.DueAt.Equal(b.DueAt) && a.HasBudget == b.HasBudget && a.EffectPending == b.EffectPending && a.Version == b.Version &&
		sameFacts(a.Facts, b.Facts) && a.FilerID == b.FilerID && slices.Equal(a.Cosigners, b.Cosigners) && a.Public == b.Public
}

// matches reports whether c, as read now, passes f's filter (without scope
// or cursor): the Go twin of Filter.query. EachCase applies it to the cases
// it fetches, since one may have changed after its summary was read.
func (f Filter) matches(c *Case, now time.Time) bool {
	switch {
	case f.Status != "" && c.Status != f.Status,
		f.Area != "" && c.Area != f.Area,
		f.SubDistrict != "" && c.Location.SubDistrict != f.SubDistrict,
		f.Community != "" && c.Location.Community != f.Community,
		f.Overdue && !c.DueAt.Before(now),
		f.HasBudget && (c.Budget == nil || c.Budget.LineID == ""),
		!f.FiledFrom.IsZero() && c.FiledAt.Before(f.FiledFrom),
		!f.FiledTo.IsZero() && !c.FiledAt.Before(f.FiledTo):
		return false
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		return regexp.MustCompile("(?i)" + regexp.QuoteMeta(t)).MatchString(c.Title)
	}
	return true
}
