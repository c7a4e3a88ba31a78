package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

// TestInsertEach: one unordered insert reports each document's own
// outcome; a duplicate (_id or another unique index) fails only itself,
// the others are stored.
func TestInsertEach(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	if err := s.EnsureIndexes(ctx, []store.Index{{Collection: "each", Name: "number_unique", Keys: bson.D{{Key: "number", Value: 1}}, Unique: true}}); err != nil {
		t.Fatal(err)
	}
	c := s.Collection("each")
	for i := range 3 {
		if err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprint("old-", i)}, {Key: "number", Value: fmt.Sprint("N-old-", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	docs := []any{
		bson.D{{Key: "_id", Value: "a"}, {Key: "number", Value: "N-a"}},
		bson.D{{Key: "_id", Value: "old-1"}, {Key: "number", Value: "N-x"}}, // _id taken
		bson.D{{Key: "_id", Value: "b"}, {Key: "number", Value: "N-b"}},
		bson.D{{Key: "_id", Value: "c"}, {Key: "number", Value: "N-old-2"}}, // number taken
		bson.D{{Key: "_id", Value: "d"}, {Key: "number", Value: "N-a"}},     // number taken in this batch
		bson.D{{Key: "_id", Value: "e"}, {Key: "number", Value: "N-e"}},
	}
	errs, err := c.InsertEach(ctx, docs)
	if err != nil {
		t.Fatalf("InsertEach: %v", err)
	}
	for i, want := range []bool{false, true, false, true, true, false} {
		if got := errors.Is(errs[i], minsheng.ErrDuplicate); got != want || (!want && errs[i] != nil) {
			t.Errorf("document %d: got %v, want duplicate %v", i, errs[i], want)
		}
	}
	n, err := c.Count(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3+3 {
		t.Errorf("got %d documents, want 6 (3 old, a, b, e)", n)
	}
}
