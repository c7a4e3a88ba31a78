package casedb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/store"
)

// Indexes serve the queue shapes on the summaries, equality fields first.
// There is deliberately no index that starts with status or area: the
// engine pushes {sub_district: s, status: x} down as disjuncts that keep
// array-valued fields as candidates, and SQLite, without statistics,
// served the "sub_district is an array" disjunct from a status index,
// reading every case of that status in the district; with only
// scope-first indexes that disjunct is an empty range of the same index
// (TestSummaryQueriesSearchAnIndex).
var Indexes = []store.Index{
	{Collection: SummariesCollection, Name: "community_status_filed", Keys: Keys("community", "status", "-filed_at", "-_id")},
	{Collection: SummariesCollection, Name: "community_filed", Keys: Keys("community", "-filed_at", "-_id")},
	{Collection: SummariesCollection, Name: "community_due", Keys: Keys("community", "due_at", "_id")},
	{Collection: SummariesCollection, Name: "community_area_status", Keys: Keys("community", "area", "status", "-filed_at")},
	{Collection: SummariesCollection, Name: "subdistrict_status_filed", Keys: Keys("sub_district", "status", "-filed_at", "-_id")},
	{Collection: SummariesCollection, Name: "subdistrict_filed", Keys: Keys("sub_district", "-filed_at", "-_id")},
	{Collection: SummariesCollection, Name: "subdistrict_due", Keys: Keys("sub_district", "due_at", "_id")},
	{Collection: SummariesCollection, Name: "budget_filed", Keys: Keys("has_budget", "filed_at", "_id")},
	{Collection: SummariesCollection, Name: "effect_pending", Keys: Keys("effect_pending")},
	{Collection: SummariesCollection, Name: "filed", Keys: Keys("-filed_at", "-_id")},
	// Searches by callers who may not read every case (residents,
	// anonymous): public cases first, their own beside them.
	{Collection: SummariesCollection, Name: "public_filed", Keys: Keys("public", "-filed_at", "-_id")},
	// Residents' own lists (我的诉求): one equality query each, merged in Go.
	{Collection: SummariesCollection, Name: "filer_filed", Keys: Keys("filer_id", "-filed_at", "-_id")},
	{Collection: SummariesCollection, Name: "cosigners_filed", Keys: Keys("cosigners", "-filed_at", "-_id")},
	{Collection: SummariesCollection, Name: "due", Keys: Keys("due_at", "_id")},
}

// Summary is a case's queue document. Its fields carry the names the cases
// have at the top level, so a queue's filter reads the same on both
// collections once location's fields are renamed. Facts is what reports
// read of the case beyond these fields; the domain defines it.
type Summary[F any] struct {
	ID          string    `bson:"_id"`
	Number      string    `bson:"number"`
	SubDistrict string    `bson:"sub_district"`
	Community   string    `bson:"community"`
	Status      string    `bson:"status"`
	Area        string    `bson:"area"`
	AssignedTo  string    `bson:"assigned_to,omitempty"`
	Title       string    `bson:"title"`
	FiledAt     time.Time `bson:"filed_at"`
	DueAt       time.Time `bson:"due_at"`
	// HasBudget is "1" when the case carries a budget link copy: a string,
	// so that the engine pushes the equality down.
	HasBudget string `bson:"has_budget,omitempty"`
	// EffectPending is "1" while the case's money effect is pending
	// (cases' FinishMoneyEffects looks for these, at every check).
	EffectPending string `bson:"effect_pending,omitempty"`
	Version       int64  `bson:"version"`
	Facts         F      `bson:"facts"`
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

// Same reports whether a and b are the same summary; facts are compared
// as stored (times at BSON's millisecond).
func (a *Summary[F]) Same(b *Summary[F]) bool {
	return a.ID == b.ID && a.Number == b.Number && a.SubDistrict == b.SubDistrict && a.Community == b.Community &&
		a.Status == b.Status && a.Area == b.Area && a.AssignedTo == b.AssignedTo && a.Title == b.Title &&
		a.FiledAt.Equal(b.FiledAt) && a.DueAt.Equal(b.DueAt) && a.HasBudget == b.HasBudget && a.EffectPending == b.EffectPending && a.Version == b.Version &&
		sameFacts(a.Facts, b.Facts) && a.FilerID == b.FilerID && slices.Equal(a.Cosigners, b.Cosigners) && a.Public == b.Public
}

func sameFacts[F any](a, b F) bool {
	x, errA := bson.Marshal(a)
	y, errB := bson.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}

// putSummary writes c's summary (upsert by _id, through the write guard).
func (db *DB[C, F]) putSummary(ctx context.Context, c *C) error {
	s := db.schema.Summarize(c)
	if _, err := db.sums.ReplaceOne(ctx, byID(s.ID), s, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("casedb: unable to write summary of %s: %w", s.ID, err)
	}
	db.facts.changed(s.ID, s.SubDistrict)
	return nil
}

// refresh rewrites id's summary from the case as stored now.
func (db *DB[C, F]) refresh(ctx context.Context, id string) error {
	var c C
	err := db.cases.FindOne(ctx, byID(id), &c)
	if errors.Is(err, minsheng.ErrNotFound) {
		_, err = db.sums.DeleteOne(ctx, byID(id))
		db.facts.changed(id, "")
		return err
	}
	if err != nil {
		return fmt.Errorf("casedb: unable to read %s for its summary: %w", id, err)
	}
	return db.putSummary(ctx, &c)
}

// Summaries returns the summaries matching q in the given order, at most
// limit (0: all). Every new filing answered so far is among them.
func (db *DB[C, F]) Summaries(ctx context.Context, q, sort bson.D, limit int64) ([]Summary[F], error) {
	if err := db.later.sync(ctx); err != nil {
		return nil, err
	}
	opts := options.Find().SetSort(sort)
	if limit > 0 {
		opts.SetLimit(limit)
	}
	var out []Summary[F]
	if err := db.sums.FindAll(ctx, q, &out, opts); err != nil {
		return nil, fmt.Errorf("casedb: unable to list summaries: %w", err)
	}
	return out, nil
}

// EachSummary streams the summaries matching q, oldest first (filing
// time, then id), to fn, whose error stops the scan and is returned.
func (db *DB[C, F]) EachSummary(ctx context.Context, q bson.D, fn func(*Summary[F]) error) error {
	return db.EachSummaryBy(ctx, q, bson.D{{Key: "filed_at", Value: 1}, {Key: "_id", Value: 1}}, fn)
}

// EachSummaryBy is EachSummary in the order sort: one cursor, read as it
// goes, so a scan of tens of thousands holds one batch at a time.
func (db *DB[C, F]) EachSummaryBy(ctx context.Context, q, sort bson.D, fn func(*Summary[F]) error) error {
	if err := db.later.sync(ctx); err != nil {
		return err
	}
	opts := options.Find().SetSort(sort)
	return db.sums.Each(ctx, q, func(cur *mongo.Cursor) error {
		var sm Summary[F]
		if err := cur.Decode(&sm); err != nil {
			return fmt.Errorf("casedb: unable to decode summary: %w", err)
		}
		return fn(&sm)
	}, opts)
}

// ByIDs fetches the cases with the given ids by _id $in, in the ids'
// order; an id whose case is gone is left out.
func (db *DB[C, F]) ByIDs(ctx context.Context, ids []string) ([]*C, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var found []*C
	if err := db.cases.FindAll(ctx, inIDs(ids), &found); err != nil {
		return nil, fmt.Errorf("casedb: unable to fetch cases: %w", err)
	}
	at := make(map[string]*C, len(found))
	for _, c := range found {
		at[db.schema.ID(c)] = c
	}
	out := make([]*C, 0, len(ids))
	for _, id := range ids {
		if c, ok := at[id]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}
