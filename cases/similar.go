package cases

import (
	"context"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/internal/auth"
	"minsheng/internal/textsim"
)

// maxSimilar is how many similar cases are offered.
const maxSimilar = 10

// SimilarCase is an open case a resident might co-sign instead of filing
// their own, in its public view (public.go): nothing personal, no exact
// location.
type SimilarCase struct {
	PublicCase
	// Score is the per-mille similarity of the texts, for staff only:
	// everything they find is theirs to read. Residents get none (see
	// similarTo), so the field is left out for them.
	Score int `json:"score,omitempty"`
}

// Similar returns open cases filed in the last Config.SimilarWindow like
// text (similarTo), best first, in their public view. Community and area
// narrow the search when given; text alone searches everything p may look
// at. Staff search within their scope, matching descriptions too, and see
// scores. A resident may ask about any community (they file where they
// live; see public.go) but finds only public cases and those they filed
// or co-signed, matched on what they may read, without scores.
// Errors: EUNAUTHORIZED, EFORBIDDEN, EINVALID.
func (s *Service) Similar(ctx context.Context, p auth.Principal, community, area, text string) ([]SimilarCase, error) {
	if !p.Role.Valid() {
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	community, area, text = strings.TrimSpace(community), strings.TrimSpace(area), strings.TrimSpace(text)
	sub, err := s.checkSimilar(community, area, text)
	if err != nil {
		return nil, err
	}
	// Candidates from the summaries (community, sub-district, area and
	// status are top-level there, so the engine searches an index), then
	// their cases.
	q := s.similarQuery(area)
	switch {
	case community != "":
		if p.IsStaff() {
			if err := p.RequireAccess(sub, community); err != nil {
				return nil, err
			}
		}
		q = append(q, bson.E{Key: "community", Value: community})
	case p.Role == auth.RoleCadre:
		q = append(q, bson.E{Key: "community", Value: p.Community})
	case p.Role == auth.RoleSubdistrict:
		q = append(q, bson.E{Key: "sub_district", Value: p.SubDistrict})
	}
	hits, err := s.similarTo(ctx, p, q, text)
	if err != nil {
		return nil, err
	}
	out := make([]SimilarCase, len(hits))
	for i, h := range hits {
		pub, err := s.publicOf(ctx, h.c)
		if err != nil {
			return nil, err
		}
		out[i] = SimilarCase{PublicCase: *pub}
		if p.IsStaff() && h.readable {
			out[i].Score = h.score
		}
	}
	return out, nil
}

// similarQuery is the summaries' filter every similar-case search starts
// from: open, filed in the last Config.SimilarWindow, in area if given.
func (s *Service) similarQuery(area string) bson.D {
	q := bson.D{
		{Key: "status", Value: bson.D{{Key: "$in", Value: openStatuses}}},
		{Key: "filed_at", Value: bson.D{{Key: "$gte", Value: s.now().Add(-s.cfg.SimilarWindow)}}},
	}
	if area != "" {
		q = append(q, bson.E{Key: "area", Value: area})
	}
	return q
}

// checkSimilar validates a similar-case search (trimmed) and returns the
// community's sub-district when a community is given.
func (s *Service) checkSimilar(community, area, text string) (string, error) {
	f := map[string]string{}
	sub := ""
	if community != "" {
		var ok bool
		if sub, ok = s.dir.SubDistrictOf(community); !ok {
			f["community"] = "社区不存在"
		}
	}
	if area != "" && AreaName(area) == "" {
		f["area"] = "领域不存在"
	}
	switch n := utf8Len(text); {
	case n == 0:
		f["text"] = "必填"
	case n > maxDescription+maxTitle:
		f["text"] = "内容过长"
	}
	longText(f, "text", text)
	return sub, invalid(f)
}

// similarHit is a candidate case and its similarity score, per mille;
// readable tells whether the score read the description (the searcher
// may read all of the case).
type similarHit struct {
	c        *Case
	score    int
	readable bool
}

// similarPool is how many of the newest matching cases a search scores.
var similarPool int64 = 500

// similarCandidates returns the ids of the newest similarPool cases whose summaries
// match q that p may find (mayFind). Staff search only cases they may read
// (their scope), so their candidates are q's. Anyone else gets the public
// ones and, beside them, their own (filed or co-signed): the candidates are
// drawn from what the caller may find alone, so how many hidden cases exist
// never decides which public ones are searched.
func (s *Service) similarCandidates(ctx context.Context, p auth.Principal, q bson.D) ([]string, error) {
	newest := bson.D{{Key: "filed_at", Value: -1}, {Key: "_id", Value: -1}}
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
		sums, err := s.cases.Summaries(ctx, qq, newest, similarPool)
		if err != nil {
			return nil, err
		}
		for _, sm := range sums {
			if !seen[sm.ID] {
				seen[sm.ID] = true
				ids = append(ids, sm.ID)
			}
		}
	}
	return ids, nil
}

// similarTo scores the open cases whose summaries match q (the newest 500)
// against text for p (zero for an anonymous caller) and returns the best
// maxSimilar at or above the threshold, best first, newer first among
// equals. p finds a case only if it is public or p may view it (canView);
// its description counts only if p may read all of it (readsAll), else the
// public fields do (publicText). So whether a case is found, and where,
// depends on nothing p may not read: a score over hidden text is an
// oracle (issue 21: a phone number read back one digit at a time). The
// summaries' filter is searched through an index; only the candidates'
// cases are read, by _id.
func (s *Service) similarTo(ctx context.Context, p auth.Principal, q bson.D, text string) ([]similarHit, error) {
	ids, err := s.similarCandidates(ctx, p, q)
	if err != nil {
		return nil, err
	}
	words := strings.Fields(strings.ToLower(text))
	want := textsim.Bigrams(text)
	var hits []similarHit
	for start := 0; start < len(ids); start += eachBatch {
		batch, err := s.cases.ByIDs(ctx, ids[start:min(start+eachBatch, len(ids))])
		if err != nil {
			return nil, err
		}
		for _, c := range batch {
			if !c.Status.Open() || !mayFind(p, c) {
				continue
			}
			body := s.publicText(c)
			readable := readsAll(p, c)
			if readable {
				body = c.Description + " " + body
			}
			if score := similarity(c.Title, body, want, words); score >= s.cfg.SimilarThreshold {
				hits = append(hits, similarHit{c, score, readable})
			}
		}
	}
	slices.SortStableFunc(hits, func(a, b similarHit) int {
		if a.score != b.score {
			return b.score - a.score
		}
		return b.c.FiledAt.Compare(a.c.FiledAt) // newer first
	})
	return hits[:min(len(hits), maxSimilar)], nil
}

// publicText is what anyone may read of c besides its title, for the
// similar-case search: its area, its community's name and its catalog
// item. Never the description, the address or the contact.
func (s *Service) publicText(c *Case) string {
	name := c.Location.Community
	if comm, err := s.dir.Community(c.Location.Community); err == nil {
		name = comm.Name
	}
	return AreaName(c.Area) + " " + name + " " + c.CatalogItem
}

// similarity scores a case's title and body against a query's bigrams and
// words, per mille: the Dice coefficient against the title alone or with
// the body, whichever is higher (a short query and a long description
// share few pairs relative to their sizes); a query whose every word
// occurs literally in the title or body is lifted into the upper half
// (旱厕 finds "胡同旱厕改造" although they share one bigram of many), the
// closer texts still first. The body is only text the searcher may read
// (similarTo).
func similarity(title, body string, want map[string]struct{}, words []string) int {
	score := max(textsim.Dice(want, textsim.Bigrams(title)), textsim.Dice(want, textsim.Bigrams(title+" "+body)))
	if containsAll(strings.ToLower(title+" "+body), words) {
		score = 500 + score/2
	}
	return score
}
