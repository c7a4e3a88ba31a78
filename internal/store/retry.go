package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Engine-independent writes. The embedded engine serialises writes, but
// MongoDB and engines with its semantics (FerretDB v2 on PostgreSQL) meet
// contention differently: two writers of one unique key may get a write
// conflict or a broken deadlock instead of a duplicate-key error, and an
// update whose $push or $addToSet carries an empty $each beside other
// changes has made one such engine write the field twice. Every write of
// Collection goes through retry and its update through withoutEmptyEach,
// so no caller depends on one engine's answer.

// writeTries bounds retry: a conflict that survives five tries with
// doubling pauses (about 60 ms in all) is reported, not hidden.
const writeTries = 5

// errWriteConflict is MongoDB's WriteConflict code.
const errWriteConflict = 112

// transient reports whether err is one a write meets under contention and
// that leaves nothing written, so the same write may simply be tried
// again: a write conflict, an error labelled TransientTransactionError, or
// a deadlock or serialization failure the engine broke by aborting this
// statement.
func transient(err error) bool {
	if err == nil {
		return false
	}
	var se mongo.ServerError
	if errors.As(err, &se) && (se.HasErrorLabel("TransientTransactionError") || se.HasErrorCode(errWriteConflict)) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "write conflict") || strings.Contains(msg, "writeconflict") ||
		strings.Contains(msg, "deadlock detected") || strings.Contains(msg, "could not serialize access")
}

// retry runs write until it returns nil or an error that is not transient,
// the context ends, or writeTries are spent, pausing a jittered, doubling
// interval between tries so racing writers spread out.
func retry(ctx context.Context, write func() error) error {
	pause := 2 * time.Millisecond
	for try := 1; ; try++ {
		err := write()
		if try == writeTries || !transient(err) {
			return err
		}
		wait := pause/2 + rand.N(pause)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		pause *= 2
	}
}

// retryUpsert is retry for a write that may upsert: when an upsert fails
// for another reason than its context, it is tried once more. Two racing
// upserts of one _id may leave the loser with a duplicate-key error — or,
// on some engines, a generic one — while the document now exists, so the
// second try updates it. Every upsert here filters by _id alone.
func retryUpsert(ctx context.Context, upsert bool, write func() error) error {
	err := retry(ctx, write)
	if err != nil && upsert && ctx.Err() == nil {
		err = retry(ctx, write)
	}
	return err
}

// upserts reports whether opts ask for an upsert; get reads the option
// from the built options.
func upserts[T any](opts []options.Lister[T], get func(*T) *bool) bool {
	var o T
	for _, l := range opts {
		for _, set := range l.List() {
			_ = set(&o)
		}
	}
	u := get(&o)
	return u != nil && *u
}

// withoutEmptyEach returns update without the $push and $addToSet entries
// whose $each is empty (they change nothing) and without an operator left
// empty by that; an update of another type is returned as is. Only bson.D
// updates are rewritten: every update in this code base is one.
func withoutEmptyEach(update any) any {
	d, ok := update.(bson.D)
	if !ok {
		return update
	}
	changed := false
	out := make(bson.D, 0, len(d))
	for _, op := range d {
		fields, ok := op.Value.(bson.D)
		if !ok || (op.Key != "$push" && op.Key != "$addToSet") {
			out = append(out, op)
			continue
		}
		kept := make(bson.D, 0, len(fields))
		for _, f := range fields {
			if emptyEach(f.Value) {
				changed = true
				continue
			}
			kept = append(kept, f)
		}
		if len(kept) > 0 {
			out = append(out, bson.E{Key: op.Key, Value: kept})
		}
	}
	if !changed || len(out) == 0 {
		return update
	}
	return out
}

// emptyEach reports whether v is {$each: <empty array>} with no other
// modifier ($position, $slice, $sort change the array even with nothing
// added).
func emptyEach(v any) bool {
	d, ok := v.(bson.D)
	if !ok || len(d) != 1 || d[0].Key != "$each" {
		return false
	}
	switch each := d[0].Value.(type) {
	case nil:
		return false
	case bson.A:
		return len(each) == 0
	default:
		r := reflect.ValueOf(each)
		return (r.Kind() == reflect.Slice || r.Kind() == reflect.Array) && r.Len() == 0
	}
}
