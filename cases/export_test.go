package cases

import (
	"context"
	"time"

	"minsheng/cases/casedb"
	"minsheng/cases/similar"
)

// SetMergeFault lets tests stop Merge between copying into the kept case
// and closing the duplicate, as a crash would.
func SetMergeFault(s *Service, f func() error) { s.faultAfterMergeCopy = f }

// SetListOnCases makes Find and EachCase read the cases collection, as they
// did before the queue summaries, instead of the summaries.
func SetListOnCases(s *Service, on bool) { s.listOnCases = on }

// SetSummaryFault runs f between every case write and its summary write; an
// error from f skips the summary (and leaves its pending mark), as a crash
// there would.
func SetSummaryFault(s *Service, f func(id string) error) { s.cases.SetFault(f) }

// ErrSkipSummary is what a fault returns to skip a summary.
var ErrSkipSummary = casedb.ErrSkipSummary

// InsertCaseRaw stores c without its summary, as a data directory from
// before the summaries holds it.
func InsertCaseRaw(s *Service, c *Case) error { return s.cases.InsertRaw(context.Background(), c) }

// SetMarkSweepDelay sets how long finished writes' pending marks wait to
// be cleared together.
func SetMarkSweepDelay(s *Service, d time.Duration) { s.cases.SetMarkSweepDelay(d) }

// PendingMarks returns the ids of the pending summary marks stored.
func PendingMarks(s *Service) ([]string, error) { return s.cases.PendingMarks(context.Background()) }

// SetLaterDelay sets how long new filings' summaries wait to be written
// together (casedb); a long one keeps them waiting until a read or
// FlushSummaries writes them.
func SetLaterDelay(s *Service, d time.Duration) { s.cases.SetLaterDelay(d) }

// NumberBlock is how many case numbers one counter increment reserves.
const NumberBlock = casedb.NumberBlock

// WaitingSummaries is how many new filings' summaries wait to be written.
func WaitingSummaries(s *Service) int { return s.cases.Waiting() }

// LoseWaitingSummaries drops the summaries waiting to be written without
// writing them or ending their filings' holds, as a crash would.
func LoseWaitingSummaries(s *Service) { s.cases.LoseWaiting() }

// IntakeMarks returns the ids of the stored marks of case number blocks.
func IntakeMarks(s *Service) ([]string, error) { return s.cases.IntakeMarks(context.Background()) }

// SetSimilarPool sets how many of the newest matching cases a similar
// search scores, for the test that fills the pool; it returns the old size.
func SetSimilarPool(n int64) int64 { old := similar.Pool; similar.Pool = n; return old }
