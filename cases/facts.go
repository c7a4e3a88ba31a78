package cases

// Report facts: what the reports, the priority list and the ledger check
// read of a case, kept on its summary (summary.Facts) so they read the
// ~400-byte summaries of a scope instead of decoding every 2 KB case
// (docs/ARCHITECTURE.md, engine defect 3: about 1 ms per case decoded).

import (
	"context"
	"slices"
	"time"

	"minsheng/cases/caselist"
)

// factsVersion stamps the facts a summary carries. A summary written before
// them (a store from an older build, until `minsheng check` rewrites it;
// version 2 added the response times and the latest 问题是否解决 answer)
// has no stamp, and EachCaseFacts reads its case instead, so no report is
// ever computed from missing facts.
const factsVersion = 2

// caseFacts is the part of a case the reports read beyond the summary's own
// fields. Verdicts keeps the first and latest verdicts only: the 12345
// rates read nothing else of them.
type caseFacts struct {
	V               int         `bson:"v"`
	CatalogItem     string      `bson:"catalog_item,omitempty"`
	Address         string      `bson:"address,omitempty"`
	Households      int         `bson:"households,omitempty"`
	Cosigns         int         `bson:"cosigns,omitempty"`
	MergedFrom      []string    `bson:"merged_from,omitempty"`
	ResponseDueAt   time.Time   `bson:"response_due_at"`
	RespondedAt     *time.Time  `bson:"responded_at,omitempty"`
	AcceptedAt      *time.Time  `bson:"accepted_at,omitempty"`
	CompletionDueAt *time.Time  `bson:"completion_due_at,omitempty"`
	CompletedAt     *time.Time  `bson:"completed_at,omitempty"`
	Verdict         Verdict     `bson:"verdict,omitempty"`
	Verdicts        int         `bson:"verdicts,omitempty"`
	FirstVerdict    Verdict     `bson:"first_verdict,omitempty"`
	LastVerdict     Verdict     `bson:"last_verdict,omitempty"`
	LastResolved    *bool       `bson:"last_resolved,omitempty"`
	Assessment      *Assessment `bson:"assessment,omitempty"` // without its note
	Budget          *BudgetLink `bson:"budget,omitempty"`
}

func factsOf(c *Case) caseFacts {
	f := caseFacts{
		V: factsVersion, CatalogItem: c.CatalogItem, Address: c.Location.Address, Households: c.Households,
		Cosigns: len(c.Cosigners), MergedFrom: c.MergedFrom, ResponseDueAt: c.ResponseDueAt, RespondedAt: c.RespondedAt, AcceptedAt: c.AcceptedAt, CompletionDueAt: c.CompletionDueAt,
		CompletedAt: c.CompletedAt, Verdict: c.Verdict, Verdicts: len(c.Verdicts), Budget: c.Budget,
	}
	if n := len(c.Verdicts); n > 0 {
		f.FirstVerdict, f.LastVerdict = c.Verdicts[0].Verdict, c.Verdicts[n-1].Verdict
		f.LastResolved = c.Verdicts[n-1].Resolved
	}
	if c.Assessment != nil {
		a := *c.Assessment
		a.Note = ""
		f.Assessment = &a
	}
	return f
}

// caseOfFacts is the case as EachCaseFacts gives it: the summary's fields
// and the facts, nothing else.
func caseOfFacts(sm *summary) *Case {
	f := sm.Facts // copied: sm may be shared by the cache's readers
	c := &Case{
		ID: sm.ID, Number: sm.Number, Area: sm.Area, Title: sm.Title,
		Location: Location{SubDistrict: sm.SubDistrict, Community: sm.Community, Address: f.Address},
		Status:   Status(sm.Status), StatusLabel: Status(sm.Status).Label(), FiledAt: sm.FiledAt, DueAt: sm.DueAt, AssignedTo: sm.AssignedTo,
		Version: sm.Version, CatalogItem: f.CatalogItem, Households: f.Households, CosignCount: f.Cosigns,
		MergedFrom: slices.Clone(f.MergedFrom), ResponseDueAt: f.ResponseDueAt, RespondedAt: clonePtr(f.RespondedAt), AcceptedAt: clonePtr(f.AcceptedAt), CompletionDueAt: clonePtr(f.CompletionDueAt),
		CompletedAt: clonePtr(f.CompletedAt), Verdict: f.Verdict, Assessment: clonePtr(f.Assessment), Budget: clonePtr(f.Budget),
	}
	switch {
	case f.Verdicts == 1:
		c.Verdicts = []VerdictRecord{{Verdict: f.FirstVerdict, Resolved: clonePtr(f.LastResolved)}}
	case f.Verdicts > 1:
		c.Verdicts = []VerdictRecord{{Verdict: f.FirstVerdict}, {Verdict: f.LastVerdict, Resolved: clonePtr(f.LastResolved)}}
	}
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// EachCaseFacts streams the cases matching f to fn, oldest first, as
// EachCase does, but read from their summaries: each Case carries only the
// fields reports use — id, number, area, title, location, status, filing,
// deadlines, response and completion times, assignee, version, catalog item,
// households, CosignCount, MergedFrom, the assessment (without its note),
// the first and latest verdicts (Verdicts holds at most those two, the latest
// with its 问题是否解决 answer) and the
// budget link copy. Timeline, photos, description and contacts are empty.
// A summary without facts (written by an older build) is answered from its
// case. fn's error stops the scan and is returned.
func (s *Service) EachCaseFacts(ctx context.Context, f Filter, fn func(*Case) error) error {
	if s.listOnCases {
		return s.EachCase(ctx, f, fn)
	}
	f.Cursor, f.Limit = "", 1
	if err := f.Check(AreaName); err != nil {
		return err
	}
	return s.list().EachFacts(ctx, f, s.now(), caselist.Facts[Case, caseFacts, Status]{
		Fields: summaryFields, Case: caseOfFacts, SubDistricts: s.subDistricts()}, fn)
}

// WarmFacts fills the reports' facts cache for every sub-district of the
// directory, one after the other, so the first district-wide report after
// a start does not pay for reading every summary (about 50,000 at a
// pilot's size) within its own request. The server runs it in the
// background once it listens; a report arriving meanwhile waits for the
// sub-district being read, never reads it twice. Nothing on MongoDB,
// where there is no cache.
func (s *Service) WarmFacts(ctx context.Context) (int, error) {
	return s.cases.Warm(ctx, s.subDistricts())
}

// subDistricts are the codes of the directory's sub-districts.
func (s *Service) subDistricts() []string {
	var subs []string
	for _, sd := range s.dir.District().SubDistricts {
		subs = append(subs, sd.Code)
	}
	return subs
}

// summaryFields is what a filter reads of a summary with facts:
// caseOfFacts copies every field the filter reads (status, area,
// sub-district, community, due and filing times, budget copy, title) from
// the summary unchanged, so it decides the same without building the Case;
// false when the summary has no facts (an older build's).
func summaryFields(sm *summary) (caselist.Fields[Status], bool) {
	return caselist.Fields[Status]{ID: sm.ID, Status: Status(sm.Status), Area: sm.Area, SubDistrict: sm.SubDistrict,
		Community: sm.Community, Title: sm.Title, FiledAt: sm.FiledAt, DueAt: sm.DueAt,
		HasBudget: sm.Facts.Budget != nil && sm.Facts.Budget.LineID != ""}, sm.Facts.V == factsVersion
}
