package cases

// Report facts: what the reports, the priority list and the ledger check
// read of a case, kept on its summary (summary.Facts) so they read the
// ~400-byte summaries of a scope instead of decoding every 2 KB case
// (DESIGN.md, embedded FerretDB defect 3: about 1 ms per case decoded).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
)

// factsVersion stamps the facts a summary carries. A summary written before
// them (a store from an older build, until `minsheng check` rewrites it)
// has no stamp, and EachCaseFacts reads its case instead, so no report is
// ever computed from missing facts.
const factsVersion = 1

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
	AcceptedAt      *time.Time  `bson:"accepted_at,omitempty"`
	CompletionDueAt *time.Time  `bson:"completion_due_at,omitempty"`
	CompletedAt     *time.Time  `bson:"completed_at,omitempty"`
	Verdict         Verdict     `bson:"verdict,omitempty"`
	Verdicts        int         `bson:"verdicts,omitempty"`
	FirstVerdict    Verdict     `bson:"first_verdict,omitempty"`
	LastVerdict     Verdict     `bson:"last_verdict,omitempty"`
	Assessment      *Assessment `bson:"assessment,omitempty"` // without its note
	Budget          *BudgetLink `bson:"budget,omitempty"`
}

func factsOf(c *Case) caseFacts {
	f := caseFacts{
		V: factsVersion, CatalogItem: c.CatalogItem, Address: c.Location.Address, Households: c.Households,
		Cosigns: len(c.Cosigners), MergedFrom: c.MergedFrom, AcceptedAt: c.AcceptedAt, CompletionDueAt: c.CompletionDueAt,
		CompletedAt: c.CompletedAt, Verdict: c.Verdict, Verdicts: len(c.Verdicts), Budget: c.Budget,
	}
	if n := len(c.Verdicts); n > 0 {
		f.FirstVerdict, f.LastVerdict = c.Verdicts[0].Verdict, c.Verdicts[n-1].Verdict
	}
	if c.Assessment != nil {
		a := *c.Assessment
		a.Note = ""
		f.Assessment = &a
	}
	return f
}

// sameFacts compares facts as stored (times at BSON's millisecond).
func sameFacts(a, b caseFacts) bool {
	x, errA := bson.Marshal(a)
	y, errB := bson.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}

// caseOfFacts is the case as EachCaseFacts gives it: the summary's fields
// and the facts, nothing else.
func caseOfFacts(sm *summary) *Case {
	f := sm.Facts
	c := &Case{
		ID: sm.ID, Number: sm.Number, Area: sm.Area, Title: sm.Title,
		Location: Location{SubDistrict: sm.SubDistrict, Community: sm.Community, Address: f.Address},
		Status:   sm.Status, StatusLabel: sm.Status.Label(), FiledAt: sm.FiledAt, DueAt: sm.DueAt, AssignedTo: sm.AssignedTo,
		Version: sm.Version, CatalogItem: f.CatalogItem, Households: f.Households, CosignCount: f.Cosigns,
		MergedFrom: f.MergedFrom, AcceptedAt: f.AcceptedAt, CompletionDueAt: f.CompletionDueAt, CompletedAt: f.CompletedAt,
		Verdict: f.Verdict, Assessment: f.Assessment, Budget: f.Budget,
	}
	switch {
	case f.Verdicts == 1:
		c.Verdicts = []VerdictRecord{{Verdict: f.FirstVerdict}}
	case f.Verdicts > 1:
		c.Verdicts = []VerdictRecord{{Verdict: f.FirstVerdict}, {Verdict: f.LastVerdict}}
	}
	return c
}

// EachCaseFacts streams the cases matching f to fn, oldest first, as
// EachCase does, but read from their summaries: each Case carries only the
// fields reports use — id, number, area, title, location, status, filing,
// deadlines and completion times, assignee, version, catalog item,
// households, CosignCount, MergedFrom, the assessment (without its note),
// the first and latest verdicts (Verdicts holds at most those two) and the
// budget link copy. Timeline, photos, description and contacts are empty.
// A summary without facts (written by an older build) is answered from its
// case. fn's error stops the scan and is returned.
func (s *Service) EachCaseFacts(ctx context.Context, f Filter, fn func(*Case) error) error {
	if s.listOnCases {
		return s.EachCase(ctx, f, fn)
	}
	f.Cursor, f.Limit = "", 1
	if err := f.check(); err != nil {
		return err
	}
	opts := options.Find().SetSort(bson.D{{Key: "filed_at", Value: 1}, {Key: "_id", Value: 1}})
	return s.cases.sums.Each(ctx, f.summaryQuery(s.now()), func(cur *mongo.Cursor) error {
		var sm summary
		if err := cur.Decode(&sm); err != nil {
			return fmt.Errorf("cases: unable to decode summary: %w", err)
		}
		if sm.Facts.V == factsVersion {
			return fn(caseOfFacts(&sm))
		}
		var c Case
		err := s.cases.Collection.FindOne(ctx, byID(sm.ID), &c)
		if errors.Is(err, minsheng.ErrNotFound) {
			return nil // an orphan summary: lists skip it, check removes it
		}
		if err != nil {
			return fmt.Errorf("cases: unable to read %s for its facts: %w", sm.ID, err)
		}
		c.CosignCount = len(c.Cosigners)
		c.StatusLabel = c.Status.Label()
		return fn(&c)
	}, opts)
}
