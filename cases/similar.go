package cases

import (
	"context"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/caseinput"
	"minsheng/cases/similar"
	"minsheng/internal/auth"
)

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
	narrow, err := similar.Scope(p, sub, community)
	if err != nil {
		return nil, err
	}
	q := append(s.similarQuery(area), narrow...)
	hits, err := s.similarTo(ctx, p, q, text)
	if err != nil {
		return nil, err
	}
	out := make([]SimilarCase, len(hits))
	for i, h := range hits {
		pub, err := s.publicOf(ctx, h.Case)
		if err != nil {
			return nil, err
		}
		out[i] = SimilarCase{PublicCase: *pub}
		if p.IsStaff() && h.Readable {
			out[i].Score = h.Score
		}
	}
	return out, nil
}

// similarQuery is the summaries' filter every similar-case search starts
// from (similar.Query): open, filed in the last Config.SimilarWindow, in
// area if given.
func (s *Service) similarQuery(area string) bson.D {
	return similar.Query(openStatuses, s.now().Add(-s.cfg.SimilarWindow), area)
}

// checkSimilar validates a similar-case search (caseinput.CheckSearch).
func (s *Service) checkSimilar(community, area, text string) (string, error) {
	return caseinput.CheckSearch(community, area, text, s.dir, AreaName)
}

// similarTo scores the open cases whose summaries match q against text
// for p (zero for an anonymous caller) through package similar: p finds a
// case only if it is public or p may view it (mayFind); its description
// counts only if p may read all of it (readsAll), else the public fields
// do (publicText).
func (s *Service) similarTo(ctx context.Context, p auth.Principal, q bson.D, text string) ([]similar.Hit[*Case], error) {
	return similar.Search(ctx, similarCases{s}, p, q, text, s.cfg.SimilarThreshold)
}

// similarCases is casework as package similar needs it.
type similarCases struct{ s *Service }

var _ similar.Cases[*Case] = similarCases{}

func (sc similarCases) Newest(ctx context.Context, q bson.D, n int64) ([]string, error) {
	sums, err := sc.s.cases.Summaries(ctx, q, bson.D{{Key: "filed_at", Value: -1}, {Key: "_id", Value: -1}}, n)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(sums))
	for i, sm := range sums {
		ids[i] = sm.ID
	}
	return ids, nil
}

func (sc similarCases) ByIDs(ctx context.Context, ids []string) ([]*Case, error) {
	return sc.s.cases.ByIDs(ctx, ids)
}

func (sc similarCases) Text(p auth.Principal, c *Case) (similar.Text, bool) {
	if !c.Status.Open() || !mayFind(p, c) {
		return similar.Text{}, false
	}
	t := similar.Text{Title: c.Title, Body: sc.s.publicText(c), Readable: readsAll(p, c), FiledAt: c.FiledAt}
	if t.Readable {
		t.Body = c.Description + " " + t.Body
	}
	return t, true
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
