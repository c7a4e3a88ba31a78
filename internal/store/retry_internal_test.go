package store

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func TestTransientErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"write conflict code", mongo.CommandError{Code: 112, Name: "WriteConflict"}, true},
		{"transient label", mongo.CommandError{Code: 251, Labels: []string{"TransientTransactionError"}}, true},
		{"deadlock from PostgreSQL", errors.New("ERROR: deadlock detected (SQLSTATE 40P01)"), true},
		{"serialization failure", errors.New("could not serialize access due to concurrent update"), true},
		{"duplicate key", mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000}}}, false},
		{"validation", mongo.CommandError{Code: 2, Name: "BadValue"}, false},
		{"nil", nil, false},
	} {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("%s: transient = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRetryIsBounded(t *testing.T) {
	ctx := context.Background()
	conflict := mongo.CommandError{Code: 112, Name: "WriteConflict"}
	tries := 0
	err := retry(ctx, func() error {
		tries++
		if tries < 3 {
			return conflict
		}
		return nil
	})
	if err != nil || tries != 3 {
		t.Fatalf("conflict twice then success: err %v after %d tries, want nil after 3", err, tries)
	}
	tries = 0
	err = retry(ctx, func() error { tries++; return conflict })
	if !transient(err) || tries != writeTries {
		t.Fatalf("lasting conflict: err %v after %d tries, want the conflict after %d", err, tries, writeTries)
	}
	tries = 0
	other := errors.New("bad value")
	if err := retry(ctx, func() error { tries++; return other }); err != other || tries != 1 {
		t.Fatalf("other error: %v after %d tries, want it at once", err, tries)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tries = 0
	if err := retry(cancelled, func() error { tries++; return conflict }); !transient(err) || tries != 1 {
		t.Fatalf("ended context: %v after %d tries, want the conflict after 1", err, tries)
	}
	// An upsert that fails is tried once more (its racing twin now exists).
	tries = 0
	if err := retryUpsert(ctx, true, func() error {
		tries++
		if tries == 1 {
			return other
		}
		return nil
	}); err != nil || tries != 2 {
		t.Fatalf("upsert: %v after %d tries, want nil after 2", err, tries)
	}
}

func TestWithoutEmptyEach(t *testing.T) {
	update := bson.D{
		{Key: "$addToSet", Value: bson.D{
			{Key: "cosigners", Value: bson.D{{Key: "$each", Value: []string{}}}},
			{Key: "merged_from", Value: "x"},
		}},
		{Key: "$push", Value: bson.D{{Key: "photos", Value: bson.D{{Key: "$each", Value: bson.A{}}}}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	}
	want := bson.D{
		{Key: "$addToSet", Value: bson.D{{Key: "merged_from", Value: "x"}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	}
	got, _ := bson.MarshalExtJSON(withoutEmptyEach(update), false, false)
	exp, _ := bson.MarshalExtJSON(want, false, false)
	if string(got) != string(exp) {
		t.Fatalf("withoutEmptyEach =\n%s\nwant\n%s", got, exp)
	}
	kept := bson.D{
		{Key: "$push", Value: bson.D{
			{Key: "photos", Value: bson.D{{Key: "$each", Value: []int{1}}}},
			{Key: "log", Value: bson.D{{Key: "$each", Value: bson.A{}}, {Key: "$slice", Value: -5}}},
		}},
	}
	if got, want := withoutEmptyEach(kept), any(kept); !sameJSON(got, want) {
		t.Fatalf("a non-empty $each and a $slice must stay: got %v", got)
	}
	only := bson.D{{Key: "$push", Value: bson.D{{Key: "photos", Value: bson.D{{Key: "$each", Value: bson.A{}}}}}}}
	if !sameJSON(withoutEmptyEach(only), only) {
		t.Fatal("an update left empty must be sent as it was (an empty update is an error)")
	}
}

func sameJSON(a, b any) bool {
	x, _ := bson.MarshalExtJSON(a, false, false)
	y, _ := bson.MarshalExtJSON(b, false, false)
	return string(x) == string(y)
}
