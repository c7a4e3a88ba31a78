package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ReserveSequence advances the named counter of NextSequence by n in one
// findAndModify and returns the first of the n values it reserved, so a bulk
// import numbers its documents without one round trip each. n must be ≥ 1.
func (s *Store) ReserveSequence(ctx context.Context, name string, n int64) (int64, error) {
	if n < 1 {
		return 0, fmt.Errorf("store: unable to reserve %d values of counter %s", n, name)
	}
	var doc struct {
		Value int64 `bson:"value"`
	}
	err := s.Collection("counters").FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: name}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "value", Value: n}}}},
		&doc,
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After))
	if err != nil {
		return 0, fmt.Errorf("store: unable to advance counter %s: %w", name, err)
	}
	return doc.Value - n + 1, nil
}
