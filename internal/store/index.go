package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Index declares one index. Domain packages declare theirs next to the
// queries that need them; EnsureIndexes creates them all at start.
type Index struct {
	Collection string
	Name       string
	Keys       bson.D
	Unique     bool
	// Sparse skips documents lacking the key, so optional unique keys
	// (an idempotency key, a phone) do not collide on absence.
	Sparse bool
}

// EnsureIndexes creates every declared index; existing ones are left alone.
func (s *Store) EnsureIndexes(ctx context.Context, idx []Index) error {
	for _, ix := range idx {
		opts := options.Index().SetName(ix.Name)
		if ix.Unique {
			opts.SetUnique(true)
		}
		if ix.Sparse {
			opts.SetSparse(true)
		}
		cctx, cancel := withTimeout(ctx)
		_, err := s.db.Collection(ix.Collection).Indexes().CreateOne(cctx, mongo.IndexModel{Keys: ix.Keys, Options: opts})
		cancel()
		if err != nil {
			return fmt.Errorf("store: unable to create index %s.%s: %w", ix.Collection, ix.Name, translate("create index", err))
		}
	}
	return nil
}

// NextSequence returns the next value of the named counter (1, 2, 3, …),
// used for human-readable numbers such as case numbers. It is one
// findAndModify with $inc, so concurrent callers never share a value.
func (s *Store) NextSequence(ctx context.Context, name string) (int64, error) {
	var doc struct {
		Value int64 `bson:"value"`
	}
	err := s.Collection("counters").FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: name}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "value", Value: int64(1)}}}},
		&doc,
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After))
	if err != nil {
		return 0, fmt.Errorf("store: unable to advance counter %s: %w", name, err)
	}
	return doc.Value, nil
}
