package planning

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/auth"
	"minsheng/internal/page"
	"minsheng/internal/store"
)

// runCursors names the runs list's cursors (created_at, then id).
const runCursors = "allocation-runs"

// RunsQuery selects runs, newest first. SubDistrict "" is every
// sub-district the caller may see; FiscalYear 0 is every year; Kind is
// RunKindPreview, RunKindCommitted or "" for both.
type RunsQuery struct {
	FiscalYear  int
	SubDistrict string
	Kind        string
	// Cursor is the next_cursor of the previous page; Limit is 1..100
	// (default 20: internal/page).
	Cursor string
	Limit  int
}

// RunSummary is one past run as the console lists it: its totals without
// the per-case decisions (GET /allocation/runs/{id} has those).
type RunSummary struct {
	RunID           string `json:"run_id"`
	FiscalYear      int    `json:"fiscal_year"`
	SubDistrict     string `json:"sub_district"`
	SubDistrictName string `json:"sub_district_name"`
	State           string `json:"state"`
	// DryRun marks a stored preview (预览); CommittedAs is the run it
	// became, FromPreview the preview a committed run was made from.
	DryRun          bool       `json:"dry_run"`
	CommittedAs     string     `json:"committed_as,omitempty"`
	FromPreview     string     `json:"from_preview,omitempty"`
	CreatedByName   string     `json:"created_by_name,omitempty"`
	AsOf            time.Time  `json:"as_of"`
	Lines           int        `json:"lines"`
	FundedCases     int        `json:"funded_cases"`
	FundedFen       int64      `json:"funded_fen"`
	WaitlistedCases int        `json:"waitlisted_cases"`
	ShortfallFen    int64      `json:"shortfall_fen"`
	CreatedBy       string     `json:"created_by"`
	CreatedAt       time.Time  `json:"created_at"`
	FinishedAt      *time.Time `json:"finished_at,omitempty"`
}

// runsIndexes serve Runs: by sub-district or all, newest first. They join
// Indexes here, beside the query that needs them.
var runsIndexes = []store.Index{
	{Collection: runsCollection, Name: "sub_created", Keys: bson.D{{Key: "sub_district", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}},
	{Collection: runsCollection, Name: "created", Keys: bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}},
}

func init() { Indexes = append(Indexes, runsIndexes...) }

// Kinds of run a list asks for.
const (
	RunKindPreview   = "preview"
	RunKindCommitted = "committed"
)

// Runs lists runs, committed ones and stored previews (previews.go),
// newest first: sub-district staff their own sub-district's, finance and
// admin any. Errors: EFORBIDDEN, EINVALID (year, kind, cursor, limit).
func (s *Service) Runs(ctx context.Context, p auth.Principal, q RunsQuery) ([]RunSummary, string, error) {
	sub, err := s.scopeSubDistrict(p, q.SubDistrict)
	if err != nil {
		return nil, "", err
	}
	if q.FiscalYear != 0 {
		if err := checkYear(q.FiscalYear); err != nil {
			return nil, "", err
		}
	}
	at, limit, err := page.Read(runCursors, q.Cursor, q.Limit)
	if err != nil {
		return nil, "", err
	}
	q.Limit = limit
	filter := bson.D{}
	if sub != "" {
		filter = append(filter, bson.E{Key: "sub_district", Value: sub})
	}
	switch q.Kind {
	case "":
	case RunKindPreview:
		filter = append(filter, bson.E{Key: "state", Value: RunPreview})
	case RunKindCommitted:
		filter = append(filter, bson.E{Key: "state", Value: bson.M{"$in": bson.A{RunApplying, RunDone}}})
	default:
		return nil, "", minsheng.Invalid("查询条件无效", map[string]string{"kind": "须为 preview 或 committed"})
	}
	if q.FiscalYear != 0 {
		filter = append(filter, bson.E{Key: "fiscal_year", Value: q.FiscalYear})
	}
	if q.Cursor != "" {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.M{"created_at": bson.M{"$lt": at.At}},
			bson.M{"created_at": at.At, "_id": bson.M{"$lt": at.ID}},
		}})
	}
	var docs []runDoc
	opts := options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(q.Limit + 1))
	if err := s.runs.FindAll(ctx, filter, &docs, opts); err != nil && err != mongo.ErrNoDocuments {
		return nil, "", fmt.Errorf("planning: unable to list runs: %w", err)
	}
	next := ""
	if len(docs) > q.Limit {
		docs = docs[:q.Limit]
		last := docs[len(docs)-1]
		next = page.Encode(runCursors, page.Cursor{At: last.CreatedAt, ID: last.ID})
	}
	out := make([]RunSummary, 0, len(docs))
	for i := range docs {
		d := &docs[i]
		r := RunSummary{
			RunID: d.ID, FiscalYear: d.FiscalYear, SubDistrict: d.SubDistrict, State: d.State, AsOf: d.AsOf,
			DryRun: d.State == RunPreview, CommittedAs: d.CommittedAs, FromPreview: d.FromPreview, CreatedByName: d.CreatedByName,
			Lines: len(d.Lines), CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt, FinishedAt: d.FinishedAt,
		}
		if sd, err := s.org.SubDistrict(d.SubDistrict); err == nil {
			r.SubDistrictName = sd.Name
		}
		for _, l := range d.Lines {
			r.FundedCases += len(l.Funded)
			r.FundedFen += l.FundedFen
			r.WaitlistedCases += len(l.Waitlisted)
			r.ShortfallFen += l.ShortfallFen
		}
		out = append(out, r)
	}
	return out, next, nil
}
