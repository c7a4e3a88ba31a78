package planning

// The 资金不足 (short of money) queue of the console's 工作台, computed
// here rather than in the browser. A case is in it when it is a need —
// open, classified, assessed with an estimate, holding no money (isNeed) —
// placed on a line of the year (its own linked line, else the item's line
// with the most money, as a run places it), and
//
//   - waitlisted (候补) by the latest committed run of its sub-district
//     and year, while its line still cannot cover it (a 调剂 or 调增 since
//     the run takes it out at once: allocation.Shortfalls), or
//   - its estimate exceeds what that line has available now, so no run
//     can fund it from the line without an adjustment (调增/调剂).
//
// A need whose item has no line at all is not in it: it waits for a line
// (待关联预算 / next year's request), not for money on one.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/budgetlink/allocation"
	"minsheng/internal/auth"
	"minsheng/internal/page"
)

// shortfallCursors names the 资金不足 queue's cursors (the rank reached).
const shortfallCursors = "shortfalls"

// ShortQuery selects the 资金不足 queue.
type ShortQuery struct {
	// FiscalYear 0 is the current year.
	FiscalYear int
	// SubDistrict "" is the caller's scope: their own for sub-district
	// staff, the whole district for finance and admin.
	SubDistrict string
	// Cursor is the next_cursor of the previous page; Limit is 1..100
	// (default 100).
	Cursor string
	Limit  int
}

// ShortCase is one case short of money, with the names staff read.
type ShortCase struct {
	allocation.ShortNeed
	Number      string `json:"number"`
	Title       string `json:"title"`
	SubDistrict string `json:"sub_district"`
	Community   string `json:"community"`
	ProjectName string `json:"project_name"`
	ItemName    string `json:"item_name"`
	// RunID is the committed run that waitlisted it, if one did.
	RunID string `json:"run_id,omitempty"`
}

// ShortList is the queue with its counts; Items is one page of it, in
// the order of allocation.Shortfalls (largest gap first).
type ShortList struct {
	FiscalYear  int       `json:"fiscal_year"`
	SubDistrict string    `json:"sub_district,omitempty"`
	AsOf        time.Time `json:"as_of"`
	// Total counts every case in the queue; Waitlisted and OverAvailable
	// count those with each reason (a case may have both); GapFen sums
	// what the lines lack for them one by one.
	Total         int         `json:"total"`
	Waitlisted    int         `json:"waitlisted"`
	OverAvailable int         `json:"over_available"`
	GapFen        int64       `json:"gap_fen"`
	Items         []ShortCase `json:"items"`
	NextCursor    string      `json:"next_cursor"`
	// Runs are the latest committed runs read, by sub-district code.
	Runs map[string]string `json:"runs"`
}

// Shortfalls returns the 资金不足 queue of a scope for a year (see the top
// of this file). Errors: EFORBIDDEN, EINVALID (year, sub-district,
// cursor, limit), ENOTFOUND (no catalog for the year).
func (s *Service) Shortfalls(ctx context.Context, p auth.Principal, q ShortQuery) (ShortList, error) {
	if q.FiscalYear == 0 {
		q.FiscalYear = s.currentYear()
	}
	sub, err := s.scopeSubDistrict(p, q.SubDistrict)
	if err != nil {
		return ShortList{}, err
	}
	if err := checkYear(q.FiscalYear); err != nil {
		return ShortList{}, err
	}
	from, limit, err := page.Read(shortfallCursors, q.Cursor, q.Limit)
	if err != nil {
		return ShortList{}, err
	}
	offset := from.Offset
	asOf := s.now()
	d, err := s.collect(ctx, p, q.FiscalYear, sub, asOf)
	if err != nil {
		return ShortList{}, err
	}
	// The latest committed run of every sub-district that has lines.
	subs := []string{}
	for _, l := range d.lines {
		if !slices.Contains(subs, l.SubDistrictCode) {
			subs = append(subs, l.SubDistrictCode)
		}
	}
	out := ShortList{FiscalYear: q.FiscalYear, SubDistrict: sub, AsOf: asOf, Items: []ShortCase{}, Runs: map[string]string{}}
	waitlistedBy := map[string]string{} // case id → run id
	waitlisted := map[string]int{}      // case id → place in its line's waitlist
	for _, code := range subs {
		run, err := s.latestCommitted(ctx, code, q.FiscalYear)
		if err != nil {
			return ShortList{}, err
		}
		if run == nil {
			continue
		}
		out.Runs[code] = run.ID
		for _, l := range run.Lines {
			for i, w := range l.Waitlisted {
				waitlistedBy[w.CaseID] = run.ID
				waitlisted[w.CaseID] = i
			}
		}
	}
	short := allocation.Shortfalls(d.lines, d.needs, waitlisted)
	at := make(map[string]int, len(d.needs))
	for i := range d.needs {
		at[d.needs[i].CaseID] = i
	}
	out.Total = len(short)
	for i, sn := range short {
		for _, r := range sn.Reasons {
			switch r {
			case allocation.ShortWaitlisted:
				out.Waitlisted++
			case allocation.ShortOverAvailable:
				out.OverAvailable++
			}
		}
		out.GapFen = min(out.GapFen+sn.GapFen, minsheng.MaxAmountFen*int64(allocation.MaxNeeds))
		if i < offset || i >= offset+limit {
			continue
		}
		info, li := d.infos[at[sn.CaseID]], d.lineInfo[sn.LineID]
		out.Items = append(out.Items, ShortCase{ShortNeed: sn, Number: info.Number, Title: info.Title, SubDistrict: li.SubDistrict,
			Community: info.Community, ProjectName: li.ProjectName, ItemName: li.ItemName, RunID: waitlistedBy[sn.CaseID]})
	}
	if offset+limit < len(short) {
		out.NextCursor = page.Encode(shortfallCursors, page.Cursor{Offset: offset + limit})
	}
	return out, nil
}

// latestCommitted is the newest committed run of sub for year, or nil.
// The filter's strings are what the embedded engine answers from its
// index; the year is matched on the few runs of the sub-district.
func (s *Service) latestCommitted(ctx context.Context, sub string, year int) (*runDoc, error) {
	var d runDoc
	opts := options.FindOne().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}})
	err := s.runs.FindOne(ctx, bson.M{"sub_district": sub, "state": RunDone, "fiscal_year": year}, &d, opts)
	if errors.Is(err, minsheng.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("planning: unable to read the latest run of %s: %w", sub, err)
	}
	return &d, nil
}
