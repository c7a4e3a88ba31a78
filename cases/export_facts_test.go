package cases

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FactsCached reports whether EachCaseFacts answers from its cache.
func FactsCached(s *Service) bool { return s.cases.facts != nil }

// DropFacts removes the report facts from id's summary, as a summary
// written by a build from before them lacks them.
func DropFacts(s *Service, id string) error {
	_, err := s.cases.sums.UpdateOne(context.Background(), byID(id), bson.D{{Key: "$unset", Value: bson.D{{Key: "facts", Value: ""}}}})
	s.cases.facts.reset() // such a summary predates this process
	return err
}
