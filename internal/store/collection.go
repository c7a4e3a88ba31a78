package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
)

// Collection wraps a driver collection so that every call gets a timeout,
// writes take the FerretDB guard, and errors come back translated
// (minsheng.ErrNotFound, minsheng.ErrDuplicate).
//
// RULE(ne-over-arrays): never rely on $ne, $nin or $not over an array field
// (or a path through one, such as "reservations.case_id") for correctness.
// The embedded FerretDB evaluates {"a.x": {$ne: v}} as "some element's x
// differs", so on [{x: C0}, {x: C1}] it matches although C1 is present;
// guards written that way let parallel or retried duplicates apply twice
// (TestEngineNeOverArrays pins the behaviour). Make "at most once" an
// insert under a unique index (a claim), then apply with a positive guard:
// a top-level field's equality or a marker in an embedded document
// ({"applied.<key>": {$exists: false}}), which the engine evaluates exactly.
type Collection struct {
	c *mongo.Collection
	s *Store
}

// Collection returns the named collection.
func (s *Store) Collection(name string) *Collection {
	return &Collection{c: s.db.Collection(name), s: s}
}

// Name returns the collection's name.
func (c *Collection) Name() string { return c.c.Name() }

// InsertOne inserts doc. Inserts run without the guard: FerretDB enforces
// unique indexes on insert. A unique violation returns minsheng.ErrDuplicate.
func (c *Collection) InsertOne(ctx context.Context, doc any) error {
	defer c.wrote()
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	err := retry(ctx, func() error { _, err := c.c.InsertOne(ctx, doc); return err })
	return translate("insert into "+c.c.Name(), err)
}

// insertBatch bounds one InsertMany round trip: the embedded engine writes
// a few hundred documents a second under load, so a district-wide import
// sent whole would outlive DefaultTimeout.
const insertBatch = 200

// InsertMany inserts docs in order, in batches that each get their own
// timeout. On an error the earlier batches stay inserted; callers that need
// all-or-nothing mark the documents with a batch id and remove them.
func (c *Collection) InsertMany(ctx context.Context, docs []any) error {
	for start := 0; start < len(docs); start += insertBatch {
		end := min(start+insertBatch, len(docs))
		if err := c.insertMany(ctx, docs[start:end]); err != nil {
			return err
		}
	}
	return nil
}

func (c *Collection) insertMany(ctx context.Context, docs []any) error {
	defer c.wrote()
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := c.c.InsertMany(ctx, docs)
	return translate("insert many into "+c.c.Name(), err)
}

// InsertEach inserts docs with one unordered insert command (in batches of
// insertBatch) and reports each document's own outcome: errs[i] is nil when
// docs[i] was inserted, an error wrapping minsheng.ErrDuplicate when a
// unique index refused it; the others are inserted regardless. err is a
// failure of a command as a whole (a timeout, a lost connection): the
// outcome of that command's documents is then unknown, and their errs are
// err too. Group commit (cases/casedb/intake.go) writes concurrent requests'
// documents this way, one command instead of one each, and answers each
// request with its own result.
func (c *Collection) InsertEach(ctx context.Context, docs []any) (errs []error, err error) {
	errs = make([]error, len(docs))
	for start := 0; start < len(docs); start += insertBatch {
		end := min(start+insertBatch, len(docs))
		if cerr := c.insertEach(ctx, docs[start:end], errs[start:end]); cerr != nil && err == nil {
			err = cerr
		}
	}
	return errs, err
}

func (c *Collection) insertEach(ctx context.Context, docs []any, errs []error) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := c.c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		err = translate("insert many into "+c.c.Name(), err)
		for i := range errs {
			errs[i] = err
		}
		return err
	}
	for _, we := range bwe.WriteErrors {
		if we.Index < 0 || we.Index >= len(errs) {
			continue
		}
		if mongo.IsDuplicateKeyError(we.WriteError) {
			errs[we.Index] = fmt.Errorf("store: insert into %s: %w", c.c.Name(), minsheng.ErrDuplicate)
		} else {
			errs[we.Index] = translate("insert into "+c.c.Name(), we.WriteError)
		}
	}
	return nil
}

// FindOne decodes the first matching document into out; minsheng.ErrNotFound
// when none matches.
func (c *Collection) FindOne(ctx context.Context, filter, out any, opts ...options.Lister[options.FindOneOptions]) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	return translate("find one in "+c.c.Name(), c.c.FindOne(ctx, filter, opts...).Decode(out))
}

// FindAll decodes every matching document into out, a pointer to a slice.
func (c *Collection) FindAll(ctx context.Context, filter, out any, opts ...options.Lister[options.FindOptions]) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	cur, err := c.c.Find(ctx, filter, opts...)
	if err != nil {
		return translate("find in "+c.c.Name(), err)
	}
	defer cur.Close(ctx)
	return translate("decode from "+c.c.Name(), cur.All(ctx, out))
}

// Each streams matching documents to fn, one decoded value at a time, so a
// report can sum in Go over a projected cursor without holding the whole
// collection (docs/ARCHITECTURE.md, engine defect 2). fn's error stops the scan.
func (c *Collection) Each(ctx context.Context, filter any, decode func(cur *mongo.Cursor) error, opts ...options.Lister[options.FindOptions]) error {
	cur, err := c.c.Find(ctx, filter, opts...)
	if err != nil {
		return translate("find in "+c.c.Name(), err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		if err := decode(cur); err != nil {
			return err
		}
	}
	return translate("iterate "+c.c.Name(), cur.Err())
}

// Count returns the number of matching documents.
func (c *Collection) Count(ctx context.Context, filter any) (int64, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	n, err := c.c.CountDocuments(ctx, filter)
	return n, translate("count in "+c.c.Name(), err)
}

// The write methods below take the guard before their timeout starts: the
// timeout bounds the database's work, not the queue for the guard (64
// requests racing for one line under -race on a busy machine otherwise
// timed out while waiting their turn).

// UpdateOne applies update to the first document matching filter and
// returns how many matched. A conditional filter plus a matched count of 0 is
// how callers learn that a precondition (version, available funds) failed.
func (c *Collection) UpdateOne(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateOneOptions]) (matched int64, err error) {
	defer c.s.lock()()
	defer c.wrote()
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var res *mongo.UpdateResult
	upsert := upserts(opts, func(o *options.UpdateOneOptions) *bool { return o.Upsert })
	err = retryUpsert(ctx, upsert, func() (err error) {
		res, err = c.c.UpdateOne(ctx, filter, withoutEmptyEach(update), opts...)
		return err
	})
	if err != nil {
		return 0, translate("update one in "+c.c.Name(), err)
	}
	return res.MatchedCount + res.UpsertedCount, nil
}

// UpdateMany applies update to every matching document.
func (c *Collection) UpdateMany(ctx context.Context, filter, update any) (matched int64, err error) {
	defer c.s.lock()()
	defer c.wrote()
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var res *mongo.UpdateResult
	err = retry(ctx, func() (err error) {
		res, err = c.c.UpdateMany(ctx, filter, withoutEmptyEach(update))
		return err
	})
	if err != nil {
		return 0, translate("update many in "+c.c.Name(), err)
	}
	return res.MatchedCount, nil
}

// ReplaceOne replaces the first document matching filter.
func (c *Collection) ReplaceOne(ctx context.Context, filter, doc any, opts ...options.Lister[options.ReplaceOptions]) (matched int64, err error) {
	defer c.s.lock()()
	defer c.wrote()
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var res *mongo.UpdateResult
	upsert := upserts(opts, func(o *options.ReplaceOptions) *bool { return o.Upsert })
	err = retryUpsert(ctx, upsert, func() (err error) {
		res, err = c.c.ReplaceOne(ctx, filter, doc, opts...)
		return err
	})
	if err != nil {
		return 0, translate("replace in "+c.c.Name(), err)
	}
	return res.MatchedCount + res.UpsertedCount, nil
}

// Ensure inserts doc, whose _id is id, unless a document with that _id
// exists, and returns nil once one does — whatever a racing writer's
// insert answered on this engine (a duplicate key, or on some engines a
// generic error): the document's presence decides, not an error code.
// Claims that must create-then-condition use Ensure and then a plain
// conditional update, never an upsert whose error code they interpret.
func (c *Collection) Ensure(ctx context.Context, id, doc any) error {
	err := c.InsertOne(ctx, doc)
	if err == nil || errors.Is(err, minsheng.ErrDuplicate) {
		return nil
	}
	var probe bson.Raw
	if ferr := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, &probe, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})); ferr == nil {
		return nil
	}
	return err
}

// FindOneAndUpdate applies update and decodes the document (before or after,
// as opts say) into out; minsheng.ErrNotFound when nothing matched.
func (c *Collection) FindOneAndUpdate(ctx context.Context, filter, update, out any, opts ...options.Lister[options.FindOneAndUpdateOptions]) error {
	defer c.s.lock()()
	defer c.wrote()
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	upsert := upserts(opts, func(o *options.FindOneAndUpdateOptions) *bool { return o.Upsert })
	return translate("find and update in "+c.c.Name(), retryUpsert(ctx, upsert, func() error {
		return c.c.FindOneAndUpdate(ctx, filter, withoutEmptyEach(update), opts...).Decode(out)
	}))
}

// DeleteOne removes the first matching document and reports whether one was.
func (c *Collection) DeleteOne(ctx context.Context, filter any) (bool, error) {
	defer c.s.lock()()
	defer c.wrote()
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var res *mongo.DeleteResult
	err := retry(ctx, func() (err error) {
		res, err = c.c.DeleteOne(ctx, filter)
		return err
	})
	if err != nil {
		return false, translate("delete one in "+c.c.Name(), err)
	}
	return res.DeletedCount > 0, nil
}

// DeleteMany removes every matching document and returns how many.
func (c *Collection) DeleteMany(ctx context.Context, filter any) (int64, error) {
	defer c.s.lock()()
	defer c.wrote()
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var res *mongo.DeleteResult
	err := retry(ctx, func() (err error) {
		res, err = c.c.DeleteMany(ctx, filter)
		return err
	})
	if err != nil {
		return 0, translate("delete many in "+c.c.Name(), err)
	}
	return res.DeletedCount, nil
}
