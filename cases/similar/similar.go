// Package similar finds the open cases like a text (相似诉求), so a
// resident co-signs instead of filing again and staff spot duplicates. It
// owns the measure — character bigrams' Dice coefficient per mille
// (internal/textsim), lifted into the upper half when every word of the
// query occurs literally — which candidates are scored (the newest Pool
// whose summaries match, drawn from what the searcher may find alone) and
// the ranking. Who may find a case and which of its text they may read are
// casework's (package cases), answered through Cases.Text: a score over
// text the searcher may not read would be an oracle (issue 21).
//
// Errors: EFORBIDDEN for a community outside a staff member's scope
// (Scope); the store's, as Cases returns them.
package similar

import (
	"context"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/internal/auth"
	"minsheng/internal/textsim"
)

// Max is how many similar cases are offered.
const Max = 10

// Pool is how many of the newest matching cases a search scores.
var Pool int64 = 500

// batch is how many candidates are read per Cases.ByIDs.
const batch = 200

// Text is what a searcher may match of one case.
type Text struct {
	Title string
	// Body is the public text (area, community, catalog item), with the
	// description before it when Readable.
	Body string
	// Readable tells whether the searcher may read all of the case, so the
	// score read its description.
	Readable bool
	FiledAt  time.Time
}

// Cases is what the search needs of casework; package cases implements it
// for its case type C.
type Cases[C any] interface {
	// Newest returns the ids of the newest n cases whose summaries match
	// q, newest first.
	Newest(ctx context.Context, q bson.D, n int64) ([]string, error)
	// ByIDs reads cases by id.
	ByIDs(ctx context.Context, ids []string) ([]C, error)
	// Text is what p may match of c; false when c is closed or p may not
	// find it (neither public nor theirs to view).
	Text(p auth.Principal, c C) (Text, bool)
}

// Hit is a candidate case and its similarity score, per mille.
type Hit[C any] struct {
	Case     C
	Score    int
	Readable bool
}

// Query is the summaries' filter a search starts from: in one of the open
// states, filed since since, in area if given.
func Query[S ~string](open []S, since time.Time, area string) bson.D {
	q := bson.D{
		{Key: "status", Value: bson.D{{Key: "$in", Value: open}}},
		{Key: "filed_at", Value: bson.D{{Key: "$gte", Value: since}}},
	}
	if area != "" {
		q = append(q, bson.E{Key: "area", Value: area})
	}
	return q
}

// Scope narrows a search of p's to community (of sub-district sub) when one
// is given — staff only within their scope, EFORBIDDEN otherwise; a
// resident may ask about any — else to a cadre's community or a
// sub-district's staff's sub-district. The filter is on the summaries.
func Scope(p auth.Principal, sub, community string) (bson.D, error) {
	switch {
	case community != "":
		if p.IsStaff() {
			if err := p.RequireAccess(sub, community); err != nil {
				return nil, err
			}
		}
		return bson.D{{Key: "community", Value: community}}, nil
	case p.Role == auth.RoleCadre:
		return bson.D{{Key: "community", Value: p.Community}}, nil
	case p.Role == auth.RoleSubdistrict:
		return bson.D{{Key: "sub_district", Value: p.SubDistrict}}, nil
	}
	return nil, nil
}

// Candidates returns the ids of the newest Pool cases whose summaries match
// q that p may find. Staff search only cases they may read (their scope),
// so their candidates are q's. Anyone else gets the public ones and,
// beside them, their own (filed or co-signed): the candidates are drawn
// from what the caller may find alone, so how many hidden cases exist
// never decides which public ones are searched.
func Candidates[C any](ctx context.Context, cs Cases[C], p auth.Principal, q bson.D) ([]string, error) {
	queries := []bson.D{q}
	if !p.IsStaff() {
		queries = []bson.D{append(slices.Clone(q), bson.E{Key: "public", Value: "1"})}
		if p.UserID != "" {
			queries = append(queries,
				append(slices.Clone(q), bson.E{Key: "filer_id", Value: p.UserID}),
				append(slices.Clone(q), bson.E{Key: "cosigners", Value: p.UserID}))
		}
	}
	seen := map[string]bool{}
	var ids []string
	for _, qq := range queries {
		found, err := cs.Newest(ctx, qq, Pool)
		if err != nil {
			return nil, err
		}
		for _, id := range found {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// Search scores the open cases whose summaries match q (Candidates)
// against text for p (zero for an anonymous caller) and returns the best
// Max at or above threshold, best first, newer first among equals. Whether
// a case is found, and where, depends on nothing p may not read
// (Cases.Text). The summaries' filter is searched through an index; only
// the candidates' cases are read, by _id.
func Search[C any](ctx context.Context, cs Cases[C], p auth.Principal, q bson.D, text string, threshold int) ([]Hit[C], error) {
	ids, err := Candidates(ctx, cs, p, q)
	if err != nil {
		return nil, err
	}
	words := strings.Fields(strings.ToLower(text))
	want := textsim.Bigrams(text)
	type scored struct {
		Hit[C]
		filed time.Time
	}
	var hits []scored
	for start := 0; start < len(ids); start += batch {
		found, err := cs.ByIDs(ctx, ids[start:min(start+batch, len(ids))])
		if err != nil {
			return nil, err
		}
		for _, c := range found {
			t, ok := cs.Text(p, c)
			if !ok {
				continue
			}
			if score := Score(t.Title, t.Body, want, words); score >= threshold {
				hits = append(hits, scored{Hit[C]{c, score, t.Readable}, t.FiledAt})
			}
		}
	}
	slices.SortStableFunc(hits, func(a, b scored) int {
		if a.Score != b.Score {
			return b.Score - a.Score
		}
		return b.filed.Compare(a.filed) // newer first
	})
	out := make([]Hit[C], 0, min(len(hits), Max))
	for _, h := range hits[:min(len(hits), Max)] {
		out = append(out, h.Hit)
	}
	return out, nil
}

// Score scores a case's title and body against a query's bigrams and
// words, per mille: the Dice coefficient against the title alone or with
// the body, whichever is higher (a short query and a long description
// share few pairs relative to their sizes); a query whose every word
// occurs literally in the title or body is lifted into the upper half
// (旱厕 finds "胡同旱厕改造" although they share one bigram of many), the
// closer texts still first. The body is only text the searcher may read.
func Score(title, body string, want map[string]struct{}, words []string) int {
	score := max(textsim.Dice(want, textsim.Bigrams(title)), textsim.Dice(want, textsim.Bigrams(title+" "+body)))
	if ContainsAll(strings.ToLower(title+" "+body), words) {
		score = 500 + score/2
	}
	return score
}

// ContainsAll reports whether s holds every one of words (and there is one).
func ContainsAll(s string, words []string) bool {
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}
