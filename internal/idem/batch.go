package idem

import (
	"context"

	"minsheng/internal/store"
)

// groupInserts writes records with group commit (store.Group): a request's
// claim and its answer are an insert each, which on the embedded engine
// cost about the same for one document as for a hundred, so the inserts of
// concurrent requests queue while one is written and the next command
// writes them all (unordered), each getting its own outcome
// (minsheng.ErrDuplicate: a record with its _id, the key, is there).
func groupInserts(records *store.Collection) *store.Group[any] {
	return &store.Group[any]{
		One: records.InsertOne,
		Many: func(ctx context.Context, docs []any) []error {
			errs, _ := records.InsertEach(ctx, docs)
			return errs
		},
	}
}
