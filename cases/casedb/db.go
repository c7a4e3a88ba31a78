// Package casedb is the casework's write-behind index engine: it stores the
// cases and keeps beside each its summary (案件摘要), the slim document the
// queues, searches and reports read, with what keeps the two in step — the
// striped case locks, the pending marks a crash leaves, the repair at start
// and in `minsheng check`, the group commit of new filings, the blocks of
// case numbers, the summaries written after their filings and the report
// facts' cache (docs/ARCHITECTURE.md, engine defects 1 and 3).
//
// It knows nothing of casework: package cases declares the case type C and
// the facts F it keeps on a summary, and tells the engine through a Schema
// how a case makes its summary. Every write names its case by id, so no
// write can miss its summary.
//
// Errors: a write whose conditions no longer hold returns
// minsheng.ErrNotFound (wrapped) from UpdateAndGet, and false from Update;
// a duplicate insert minsheng.ErrDuplicate; anything else is the store's
// error, wrapped with the action that failed.
package casedb

import (
	"hash/maphash"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/internal/store"
)

// Collections of the engine. Cases is the domain's documents; the others
// are the engine's own.
const (
	CasesCollection = "cases"
	// SummariesCollection holds one slim document per case, keyed by the
	// case id, with the fields the queues filter and sort on at the top
	// level. The patched embedded engine pushes down only top-level string
	// equality and $in (third_party/PATCHES), so a queue that filtered the
	// cases themselves on location.community decoded every 2 KB case; on
	// the summaries it reads the ~200-byte candidates of one scope through
	// an index, then fetches the page's full cases by _id $in.
	SummariesCollection = "case_summaries"
	// PendingCollection holds a marker {_id: case id} for every case write
	// in flight: inserted before the case write, removed after its summary
	// is written. A crash in between leaves the marker, and the server's
	// start repairs just those summaries (RepairPending) instead of
	// reading every case; `minsheng check` compares them all.
	PendingCollection = "case_summaries_pending"
	// IntakeMarksCollection holds one mark per block of case numbers
	// (numbers.go) whose filings' summaries may not all be written yet.
	IntakeMarksCollection = "case_summaries_intake"
)

// Schema is what the engine needs to know of the domain's case type C and
// the report facts F a summary carries.
type Schema[C, F any] struct {
	// ID is a case's id.
	ID func(c *C) string
	// Summarize is the summary of a case as stored.
	Summarize func(c *C) Summary[F]
	// Source projects a case on the fields Summarize reads, so that a
	// repair does not transfer (and the patched embedded engine does not
	// decode) descriptions, timelines and photos of every case.
	Source bson.D
}

// DB is the cases collection with its summaries: every write to a case goes
// through it and rewrites that case's summary from the case as stored, so
// no write path can forget it. Reads pass through.
//
// Writes of one case and its summary are serialised by a striped lock
// (perStore, shared by every DB on the store), so a summary written from
// an older read never overwrites a newer one within this process (the
// embedded engine allows one process; on MongoDB with several instances a
// race can leave a summary stale until `minsheng check` rebuilds it, as it
// does after a crash between the two writes).
type DB[C, F any] struct {
	schema  Schema[C, F]
	st      *store.Store
	cases   *store.Collection
	sums    *store.Collection
	pending *store.Collection
	// perStore is what every DB on this store shares in the process: the
	// case locks, the pending marks' sweep and the new filings' summaries
	// waiting to be written.
	*perStore[F]
	// afterCaseWrite, when set (tests), runs between a case write and its
	// summary write; an error from it skips the summary, as a crash would.
	afterCaseWrite func(id string) error
	// facts is the report facts' cache (facts.go); nil off FerretDB.
	facts *factsCache[F]
	// numbers hands out case numbers from reserved blocks (numbers.go).
	numbers numbers[F]
	// intake writes new cases with group commit (intake.go).
	intake *store.Group[*C]
}

// New returns the engine on st for cases of the given schema.
func New[C, F any](st *store.Store, schema Schema[C, F]) *DB[C, F] {
	db := &DB[C, F]{schema: schema, st: st, cases: st.Collection(CasesCollection), sums: st.Collection(SummariesCollection),
		pending: st.Collection(PendingCollection), perStore: perStoreOf[F](st), facts: newFactsCache[F](st)}
	db.numbers = numbers[F]{later: db.later}
	db.intake = db.newIntake()
	return db
}

// perStore is the state that must be one per store in a process, however
// many DBs use the store (the server builds one; the demo's seeding and
// tests build several): a case's lock serialises its writes across all of
// them, and a read through any of them writes every summary waiting to be
// written first.
type perStore[F any] struct {
	seed  maphash.Seed
	locks [64]sync.Mutex
	// sweep clears finished writes' pending marks in batches.
	sweep markSweep
	// later writes new filings' summaries after their cases where one
	// process owns the store (store.OneProcess, later.go); nil elsewhere.
	later *laterSummaries[F]
}

// perStoreKey is perStore's key in store.Local.
type perStoreKey[F any] struct{}

func perStoreOf[F any](st *store.Store) *perStore[F] {
	return st.Local(perStoreKey[F]{}, func() any {
		ps := &perStore[F]{seed: maphash.MakeSeed(), sweep: markSweep{delay: markSweepDelay}}
		if st.OneProcess() { // one process owns the store, as the write guard assumes
			ps.later = newLaterSummaries(st, ps)
		}
		return ps
	}).(*perStore[F])
}

// stripe is the index of id's lock (the one lock takes).
func (ps *perStore[F]) stripe(id string) int {
	return int(maphash.String(ps.seed, id) % uint64(len(ps.locks)))
}

func (ps *perStore[F]) lock(id string) func() {
	m := &ps.locks[ps.stripe(id)]
	m.Lock()
	return m.Unlock
}

// Keys builds an index key; a leading "-" means descending.
func Keys(names ...string) bson.D {
	d := make(bson.D, len(names))
	for i, n := range names {
		if strings.HasPrefix(n, "-") {
			d[i] = bson.E{Key: n[1:], Value: -1}
		} else {
			d[i] = bson.E{Key: n, Value: 1}
		}
	}
	return d
}

func byID(id string) bson.D { return bson.D{{Key: "_id", Value: id}} }

func inIDs[T any](ids []T) bson.D {
	return bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
}
