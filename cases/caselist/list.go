package caselist

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng/cases/casedb"
	"minsheng/internal/auth"
	"minsheng/internal/page"
)

// batch is how many cases Each fetches per _id $in.
const batch = 200

// Source is casework's cases as the lists read them: the store of cases
// of type C with their summaries (facts F), and what a filter reads of a
// case.
type Source[C, F any, S Status] struct {
	DB *casedb.DB[C, F]
	// Fields is what a filter, a cursor and a resident's list read of c.
	Fields func(c *C) Fields[S]
	// Ready fills what a case read for a stream derives (counts, labels).
	Ready func(c *C)
	// OnCases, set only by tests, makes Page and Each query the cases
	// themselves as they did before the summaries, so a test can compare.
	OnCases bool
}

// Page returns one page of the cases matching f (checked, and scoped for
// p: scoped is Filter.Scope's answer), not yet shown to anyone, and the
// cursor of the next page ("" on the last one).
func (src Source[C, F, S]) Page(ctx context.Context, p auth.Principal, f Filter[S], scoped bson.D, now time.Time) ([]*C, string, error) {
	// Every scope reads the summaries, then the page's cases by _id; a
	// resident's scope, filed or co-signed ($or, which the engine does not
	// push down), is one equality query for each, merged (mine).
	q := f.SummaryQuery(now)
	if src.OnCases {
		q = append(f.Query(now), scoped...)
	}
	if f.Cursor != "" {
		bad := map[string]string{}
		cur := page.Decode(cursorList(f.Sort), f.Cursor, bad)
		if len(bad) > 0 {
			return nil, "", page.Invalid(bad)
		}
		field, op := "filed_at", "$lt"
		if f.Sort == SortDeadline {
			field, op = "due_at", "$gt"
		}
		q = append(q, bson.E{Key: "$and", Value: bson.A{bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: field, Value: bson.D{{Key: op, Value: cur.At}}}},
			bson.D{{Key: field, Value: cur.At}, {Key: "_id", Value: bson.D{{Key: op, Value: cur.ID}}}},
		}}}}})
	}
	sort := bson.D{{Key: "filed_at", Value: -1}, {Key: "_id", Value: -1}}
	if f.Sort == SortDeadline {
		sort = bson.D{{Key: "due_at", Value: 1}, {Key: "_id", Value: 1}}
	}
	var found []*C
	var err error
	switch {
	case !src.OnCases && p.Role == auth.RoleResident:
		if found, err = src.mine(ctx, p.UserID, q, sort, f.Limit+1); err != nil {
			return nil, "", err
		}
	case !src.OnCases:
		sums, err := src.DB.Summaries(ctx, q, sort, int64(f.Limit+1))
		if err != nil {
			return nil, "", err
		}
		ids := make([]string, len(sums))
		for i, sm := range sums {
			ids[i] = sm.ID
		}
		if found, err = src.DB.ByIDs(ctx, ids); err != nil {
			return nil, "", err
		}
	default:
		opts := options.Find().SetSort(sort).SetLimit(int64(f.Limit + 1))
		if err := src.DB.FindAll(ctx, q, &found, opts); err != nil {
			return nil, "", fmt.Errorf("cases: unable to list cases: %w", err)
		}
	}
	next := ""
	if len(found) > f.Limit {
		found = found[:f.Limit]
		last := src.Fields(found[len(found)-1])
		at := last.FiledAt
		if f.Sort == SortDeadline {
			at = last.DueAt
		}
		next = page.Encode(cursorList(f.Sort), page.Cursor{At: at, ID: last.ID})
	}
	return found, next, nil
}

// mine returns the first n cases, in sort's order, whose summaries match q
// and name userID as their filer or a co-signer: one query on filer_id and
// one on cosigners, each pushed down by equality, merged. A case as read
// now must still be the resident's (a summary may lag behind a write that
// bypassed it, such as ForgetResident's).
func (src Source[C, F, S]) mine(ctx context.Context, userID string, q, sort bson.D, n int) ([]*C, error) {
	var sums []casedb.Summary[F]
	for _, field := range []string{"filer_id", "cosigners"} {
		part, err := src.DB.Summaries(ctx, append(slices.Clone(q), bson.E{Key: field, Value: userID}), sort, int64(n))
		if err != nil {
			return nil, err
		}
		sums = append(sums, part...)
	}
	byDue := sort[0].Key == "due_at"
	slices.SortFunc(sums, func(a, b casedb.Summary[F]) int {
		if byDue {
			return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.ID, b.ID))
		}
		return cmp.Or(b.FiledAt.Compare(a.FiledAt), cmp.Compare(b.ID, a.ID))
	})
	sums = slices.CompactFunc(sums, func(a, b casedb.Summary[F]) bool { return a.ID == b.ID })
	ids := make([]string, 0, n)
	for _, sm := range sums[:min(n, len(sums))] {
		ids = append(ids, sm.ID)
	}
	found, err := src.DB.ByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(found, func(c *C) bool {
		v := src.Fields(c)
		return v.FilerID != userID && !slices.Contains(v.Cosigners, userID)
	}), nil
}

// Each streams every case matching f (checked) to fn, oldest first,
// without scope or redaction. fn's error stops the scan and is returned.
func (src Source[C, F, S]) Each(ctx context.Context, f Filter[S], now time.Time, fn func(*C) error) error {
	if src.OnCases {
		opts := options.Find().SetSort(bson.D{{Key: "filed_at", Value: 1}, {Key: "_id", Value: 1}})
		var all []*C
		if err := src.DB.FindAll(ctx, f.Query(now), &all, opts); err != nil {
			return err
		}
		for _, c := range all {
			src.Ready(c)
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	// The matching ids come from the summaries (top-level fields the
	// engine pushes down), then the cases in batches by _id $in, so a
	// report on one sub-district decodes that sub-district's cases only.
	sums, err := src.DB.Summaries(ctx, f.SummaryQuery(now),
		bson.D{{Key: "filed_at", Value: 1}, {Key: "_id", Value: 1}}, 0)
	if err != nil {
		return err
	}
	match := f.Matcher(now)
	for start := 0; start < len(sums); start += batch {
		ids := make([]string, 0, batch)
		for _, sm := range sums[start:min(start+batch, len(sums))] {
			ids = append(ids, sm.ID)
		}
		found, err := src.DB.ByIDs(ctx, ids)
		if err != nil {
			return err
		}
		for _, c := range found {
			if !match(src.Fields(c)) {
				continue
			}
			src.Ready(c)
			if err := fn(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stream sends every case matching f (checked, and already narrowed by
// Filter.Scope: a resident's scope, an $or, is not served here) to fn in
// f's sort order, size cases at a time: one cursor over the summaries
// (equality on top-level fields and an indexed sort, which the engine
// pushes down), then each batch's cases by _id $in, each checked again
// against f as read now (Matcher). A keyset page per batch would re-scan
// the summaries on the embedded engine, which does not push a range down;
// the one cursor reads them once and holds one batch. fn's error stops
// the scan and is returned.
func (src Source[C, F, S]) Stream(ctx context.Context, f Filter[S], now time.Time, size int, fn func([]*C) error) error {
	sort := bson.D{{Key: "filed_at", Value: -1}, {Key: "_id", Value: -1}}
	if f.Sort == SortDeadline {
		sort = bson.D{{Key: "due_at", Value: 1}, {Key: "_id", Value: 1}}
	}
	match := f.Matcher(now)
	ids := make([]string, 0, size)
	flush := func() error {
		found, err := src.DB.ByIDs(ctx, ids)
		if err != nil {
			return err
		}
		ids = ids[:0]
		kept := found[:0]
		for _, c := range found {
			if match(src.Fields(c)) {
				src.Ready(c)
				kept = append(kept, c)
			}
		}
		return fn(kept)
	}
	err := src.DB.EachSummaryBy(ctx, f.SummaryQuery(now), sort, func(sm *casedb.Summary[F]) error {
		ids = append(ids, sm.ID)
		if len(ids) == size {
			return flush()
		}
		return nil
	})
	if err != nil || len(ids) == 0 {
		return err
	}
	return flush()
}
