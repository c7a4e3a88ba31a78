package cases

import (
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/cases/casedb"
	"minsheng/internal/store"
)

// The queues, searches and reports read the cases' summaries (案件摘要),
// which package casedb keeps beside the cases: what a summary holds is
// decided here (summaryOf, factsOf in facts.go), how it is kept in step
// with its case — locks, pending marks, repair, batching — there.

// summary is a case's queue document, with the report facts (facts.go).
type summary = casedb.Summary[caseFacts]

// caseDB is the cases collection with its summaries.
type caseDB = casedb.DB[Case, caseFacts]

func newCaseDB(st *store.Store) *caseDB {
	return casedb.New(st, casedb.Schema[Case, caseFacts]{
		ID:        func(c *Case) string { return c.ID },
		Summarize: summaryOf,
		Source:    summarySource,
	})
}

// summaryOf is c's summary: the queue fields at the top level, the markers
// as strings (the engine pushes string equality down), the report facts.
func summaryOf(c *Case) summary {
	s := summary{
		ID: c.ID, Number: c.Number, SubDistrict: c.Location.SubDistrict, Community: c.Location.Community,
		Status: string(c.Status), Area: c.Area, AssignedTo: c.AssignedTo, Title: c.Title,
		FiledAt: c.FiledAt.UTC(), DueAt: c.DueAt.UTC(), Version: c.Version, FilerID: c.FilerID,
		Facts: factsOf(c),
	}
	if len(c.Cosigners) > 0 {
		s.Cosigners = slices.Clone(c.Cosigners)
	}
	if c.Public {
		s.Public = "1"
	}
	if c.Budget != nil && c.Budget.LineID != "" {
		s.HasBudget = "1"
	}
	if c.MoneyEffect != nil && c.MoneyEffect.State == EffectPending {
		s.EffectPending = "1"
	}
	return s
}

// summarySource projects a case on the fields summaryOf reads, so that
// RepairSummaries does not transfer (and the patched embedded engine does
// not decode, third_party/PATCHES "Fields") descriptions, timelines and
// photos of every case.
var summarySource = bson.D{
	// Top-level fields only, in the order of Case's fields, which is the
	// order a case is stored in: the engine's inclusion projection then
	// appends each field, and is linear in the fields, not quadratic
	// (third_party/PATCHES, fourth part); another order or dotted paths
	// give the same result, only slower. location and money_effect are
	// small, and the engine reads them whole anyway (fields pushdown).
	{Key: "number", Value: 1}, {Key: "area", Value: 1}, {Key: "title", Value: 1}, {Key: "location", Value: 1},
	{Key: "filer_id", Value: 1}, {Key: "public", Value: 1}, {Key: "households", Value: 1}, {Key: "cosigners", Value: 1}, {Key: "merged_from", Value: 1},
	{Key: "status", Value: 1}, {Key: "filed_at", Value: 1},
	{Key: "response_due_at", Value: 1}, {Key: "responded_at", Value: 1}, {Key: "accepted_at", Value: 1}, {Key: "completion_due_at", Value: 1},
	{Key: "completed_at", Value: 1}, {Key: "due_at", Value: 1}, {Key: "assigned_to", Value: 1}, {Key: "assessment", Value: 1},
	{Key: "verdict", Value: 1}, {Key: "verdicts", Value: 1}, {Key: "catalog_item", Value: 1}, {Key: "budget", Value: 1},
	{Key: "money_effect", Value: 1}, {Key: "version", Value: 1},
}

// SummaryRepair is what RepairSummaries did.
type SummaryRepair = casedb.Repair

// RepairSummaries compares every case with its summary and rewrites the
// missing and stale ones, removing summaries of cases that are gone: a
// crash between a case write and its summary write leaves one behind.
// `minsheng check` runs it.
func (s *Service) RepairSummaries(ctx context.Context) (SummaryRepair, error) {
	return s.cases.Repair(ctx)
}

// EnsureSummaries is what the server runs at start: on a store whose
// summaries were never built (a data directory from before them) the full
// RepairSummaries once, then the repair of interrupted writes. It returns
// how many summaries it wrote.
func (s *Service) EnsureSummaries(ctx context.Context) (int, error) { return s.cases.Ensure(ctx) }

// RepairPendingSummaries rewrites the summaries of the case writes a crash
// interrupted and of the new filings a crash kept from being written, and
// returns how many; the server runs it at start, where reading every case
// would take too long.
func (s *Service) RepairPendingSummaries(ctx context.Context) (int, error) {
	return s.cases.RepairPending(ctx)
}

// FlushSummaries writes the summaries of new filings still waiting; the
// server calls it when it stops. Without it nothing is lost: the next
// start writes them from the cases.
func (s *Service) FlushSummaries(ctx context.Context) error { return s.cases.Flush(ctx) }
