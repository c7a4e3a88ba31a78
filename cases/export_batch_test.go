package cases

import "context"

// SetIntakeHold runs f in the group commit's leader before it writes a
// batch of n filings (f may block, so that filings queue behind it).
func SetIntakeHold(s *Service, f func(n int)) { s.cases.SetIntakeHold(f) }

// IntakeQueued is how many filings wait for the next batch.
func IntakeQueued(s *Service) int { return s.cases.IntakeQueued() }

// IntakeInsert files c through the group commit, as Submit does once c is
// built and numbered.
func IntakeInsert(ctx context.Context, s *Service, c *Case) error { return s.cases.File(ctx, c) }
