package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/internal/store/storetest"
)

// TestEmptyEachBesideOtherChanges: an update whose $push / $addToSet carry
// an empty $each beside other changes (a merge with no new co-signers and
// no photos) applies the other changes once and leaves the arrays as they
// were, round after round on a document that already holds entries.
func TestEmptyEachBesideOtherChanges(t *testing.T) {
	ctx := context.Background()
	c := storetest.New(t).Collection("each_empty")
	if err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "k"}, {Key: "cosigners", Value: bson.A{"u1"}},
		{Key: "photos", Value: bson.A{"p1", "p2"}}, {Key: "version", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	for round := range 4 {
		n, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "k"}}, bson.D{
			{Key: "$addToSet", Value: bson.D{{Key: "cosigners", Value: bson.D{{Key: "$each", Value: []string{}}}}, {Key: "merged_from", Value: fmt.Sprint("d", round)}}},
			{Key: "$push", Value: bson.D{{Key: "photos", Value: bson.D{{Key: "$each", Value: []string{}}}}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
		})
		if err != nil || n != 1 {
			t.Fatalf("round %d: matched %d, %v", round, n, err)
		}
	}
	var raw bson.M
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "k"}}, &raw); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(raw["cosigners"]) != "[u1]" || fmt.Sprint(raw["photos"]) != "[p1 p2]" || fmt.Sprint(raw["merged_from"]) != "[d0 d1 d2 d3]" || raw["version"] != int32(5) {
		t.Fatalf("after 4 merges: %v", raw)
	}
}

// TestEnsureRace: many writers ensuring one document at once all succeed
// and exactly one document exists, holding the first writer's fields,
// over several rounds on a collection that already holds others.
func TestEnsureRace(t *testing.T) {
	ctx := context.Background()
	c := storetest.New(t).Collection("ensure")
	for i := range 5 {
		if err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprint("other-", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 4 {
		id := fmt.Sprint("claim-", round)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for w := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[w] = c.Ensure(ctx, id, bson.D{{Key: "_id", Value: id}, {Key: "writer", Value: w}})
			}()
		}
		wg.Wait()
		for w, err := range errs {
			if err != nil {
				t.Fatalf("round %d writer %d: %v", round, w, err)
			}
		}
		if n, err := c.Count(ctx, bson.D{{Key: "_id", Value: id}}); err != nil || n != 1 {
			t.Fatalf("round %d: %d documents, %v", round, n, err)
		}
	}
	if n, _ := c.Count(ctx, bson.D{}); n != 9 {
		t.Fatalf("collection holds %d documents, want 9", n)
	}
}
