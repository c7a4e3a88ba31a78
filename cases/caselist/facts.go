package caselist

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/casedb"
)

// Facts is how the reports' stream reads cases from their summaries
// (the report facts casework keeps on each, casedb's cache of them).
type Facts[C, F any, S Status] struct {
	// Fields is what a filter reads of a summary; false when the summary
	// carries no facts (written by an older build), so its case decides.
	Fields func(sm *casedb.Summary[F]) (Fields[S], bool)
	// Case is the case as the reports read it, built from a summary with
	// facts.
	Case func(sm *casedb.Summary[F]) *C
	// SubDistricts are the directory's, which the cache is filled by.
	SubDistricts []string
}

// EachFacts streams the cases matching f (checked) to fn, oldest first, as
// Each does, but read from their summaries (facts.Case); a summary without
// facts is answered from its case. fn's error stops the scan and is
// returned.
func (src Source[C, F, S]) EachFacts(ctx context.Context, f Filter[S], now time.Time, facts Facts[C, F, S], fn func(*C) error) error {
	// The cache holds whole sub-districts: a filter on the linked cases
	// (the ledger check at every start) reads only those, through the
	// has_budget index, instead of filling the cache with every summary
	// of the district (5.8 s at 50,000 cases when the cache is cold).
	if src.DB.Cached() && !f.HasBudget {
		return src.eachCachedFacts(ctx, f, now, facts, fn)
	}
	return src.DB.EachSummary(ctx, f.SummaryQuery(now), func(sm *casedb.Summary[F]) error {
		c, err := src.ofSummary(ctx, sm, facts)
		if err != nil || c == nil {
			return err
		}
		return fn(c)
	})
}

// eachCachedFacts is EachFacts from the cache: the summaries of f's
// sub-district, or of every sub-district of the directory for the whole
// district (a case is always filed in one of them), filtered in Go on the
// summaries' own fields before a case is built for the ones that match.
func (src Source[C, F, S]) eachCachedFacts(ctx context.Context, f Filter[S], now time.Time, facts Facts[C, F, S], fn func(*C) error) error {
	subs := facts.SubDistricts
	if f.SubDistrict != "" {
		subs = []string{f.SubDistrict}
	}
	all, err := src.DB.Ordered(ctx, subs)
	if err != nil {
		return err
	}
	match := f.Matcher(now)
	for _, sm := range all {
		var c *C
		if v, ok := facts.Fields(sm); ok {
			if !match(v) {
				continue
			}
			c = facts.Case(sm)
		} else {
			// No facts (an older build's summary): the case as stored
			// decides, as it always did.
			if c, err = src.ofSummary(ctx, sm, facts); err != nil {
				return err
			}
			if c == nil || !match(src.Fields(c)) {
				continue
			}
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// ofSummary is the case as EachFacts gives it: from the summary's facts,
// or read in full when the summary has none; nil when the case is gone (an
// orphan summary, which lists skip and check removes).
func (src Source[C, F, S]) ofSummary(ctx context.Context, sm *casedb.Summary[F], facts Facts[C, F, S]) (*C, error) {
	if _, ok := facts.Fields(sm); ok {
		return facts.Case(sm), nil
	}
	var c C
	err := src.DB.FindOne(ctx, bson.D{{Key: "_id", Value: sm.ID}}, &c)
	if errors.Is(err, minsheng.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cases: unable to read %s for its facts: %w", sm.ID, err)
	}
	src.Ready(&c)
	return &c, nil
}
