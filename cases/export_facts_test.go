package cases

import "context"

// FactsCached reports whether EachCaseFacts answers from its cache.
func FactsCached(s *Service) bool { return s.cases.Cached() }

// DropFacts removes the report facts from id's summary, as a summary
// written by a build from before them lacks them.
func DropFacts(s *Service, id string) error { return s.cases.DropFacts(context.Background(), id) }
