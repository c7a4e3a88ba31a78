package cases

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

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

// summaryQuery is f's filter on the summaries: the same as on the cases,
// with location's fields at the top level and the budget marker a string.
func (f Filter) summaryQuery(now time.Time) bson.D {
	q := f.query(now)
	for i, e := range q {
		switch e.Key {
		case "location.sub_district":
			q[i].Key = "sub_district"
		case "location.community":
			q[i].Key = "community"
		case "budget.line_id":
			q[i] = bson.E{Key: "has_budget", Value: "1"}
		}
	}
	return q
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

// matches reports whether c, as read now, passes f's filter (without scope
// or cursor): the Go twin of Filter.query. EachCase applies it to the cases
// it fetches, since one may have changed after its summary was read.
func (f Filter) matches(c *Case, now time.Time) bool {
	switch {
	case f.Status != "" && c.Status != f.Status,
		f.Area != "" && c.Area != f.Area,
		f.SubDistrict != "" && c.Location.SubDistrict != f.SubDistrict,
		f.Community != "" && c.Location.Community != f.Community,
		f.Overdue && !c.DueAt.Before(now),
		f.HasBudget && (c.Budget == nil || c.Budget.LineID == ""),
		!f.FiledFrom.IsZero() && c.FiledAt.Before(f.FiledFrom),
		!f.FiledTo.IsZero() && !c.FiledAt.Before(f.FiledTo):
		return false
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		return regexp.MustCompile("(?i)" + regexp.QuoteMeta(t)).MatchString(c.Title)
	}
	return true
}
