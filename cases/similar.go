package cases

import (
	"context"
	"slices"
	"strings"
	"unicode"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/internal/auth"
)

// maxSimilar is how many similar cases are offered.
const maxSimilar = 10

// SimilarCase is an open case a resident might co-sign instead of filing
// their own, in its public view (public.go): nothing personal, no exact
// location.
type SimilarCase struct {
	PublicCase
	// Score is the per-mille similarity of the texts.
	Score int `json:"score"`
}

// Similar returns open cases of the same community and area filed in the
// last Config.SimilarWindow whose title and description resemble text by
// character bigrams, best first, in their public view. Residents may ask
// about any community (they file where they live; see public.go); staff
// only within their scope.
// Errors: EUNAUTHORIZED, EFORBIDDEN, EINVALID.
func (s *Service) Similar(ctx context.Context, p auth.Principal, community, area, text string) ([]SimilarCase, error) {
	if !p.Role.Valid() {
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	f := map[string]string{}
	sub, ok := s.dir.SubDistrictOf(community)
	if !ok {
		f["community"] = "社区不存在"
	}
	if AreaName(area) == "" {
		f["area"] = "领域不存在"
	}
	text = strings.TrimSpace(text)
	switch n := utf8Len(text); {
	case n == 0:
		f["text"] = "必填"
	case n > maxDescription+maxTitle:
		f["text"] = "内容过长"
	}
	longText(f, "text", text)
	if err := invalid(f); err != nil {
		return nil, err
	}
	if p.IsStaff() {
		if err := p.RequireAccess(sub, community); err != nil {
			return nil, err
		}
	}
	since := s.now().Add(-s.cfg.SimilarWindow)
	// Candidates from the summaries (community, area and status are
	// top-level there, so the engine searches an index), then their cases.
	q := bson.D{
		{Key: "community", Value: community},
		{Key: "area", Value: area},
		{Key: "status", Value: bson.D{{Key: "$in", Value: openStatuses}}},
		{Key: "filed_at", Value: bson.D{{Key: "$gte", Value: since}}},
	}
	sums, err := s.cases.findSummaries(ctx, q, bson.D{{Key: "filed_at", Value: -1}, {Key: "_id", Value: -1}}, 500)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(sums))
	for i, sm := range sums {
		ids[i] = sm.ID
	}
	var found []*Case
	for start := 0; start < len(ids); start += eachBatch {
		batch, err := s.cases.byIDs(ctx, ids[start:min(start+eachBatch, len(ids))])
		if err != nil {
			return nil, err
		}
		for _, c := range batch {
			if c.Status.Open() {
				found = append(found, c)
			}
		}
	}
	want := bigrams(text)
	var out []SimilarCase
	byID := map[string]*Case{}
	for _, c := range found {
		// Against the title alone too: a short query and a long
		// description share few pairs relative to their sizes.
		score := max(dice(want, bigrams(c.Title)), dice(want, bigrams(c.Title+" "+c.Description)))
		if score < s.cfg.SimilarThreshold {
			continue
		}
		out = append(out, SimilarCase{PublicCase: PublicCase{ID: c.ID}, Score: score})
		byID[c.ID] = c
	}
	slices.SortStableFunc(out, func(a, b SimilarCase) int { return b.Score - a.Score })
	if len(out) > maxSimilar {
		out = out[:maxSimilar]
	}
	for i := range out {
		pub, err := s.publicOf(ctx, byID[out[i].ID])
		if err != nil {
			return nil, err
		}
		out[i].PublicCase = *pub
	}
	return out, nil
}

// bigrams is the set of adjacent-character pairs of s within runs of
// letters and digits, lower-cased, full-width ASCII folded; a run of one
// character counts as itself. Chinese has no spaces, so pairs of
// characters are the cheapest useful unit. (budgetlink has the same
// helper; cases may not import it.)
func bigrams(s string) map[string]struct{} {
	set := make(map[string]struct{})
	var run []rune
	flush := func() {
		if len(run) == 1 {
			set[string(run)] = struct{}{}
		}
		for i := 0; i+1 < len(run); i++ {
			set[string(run[i:i+2])] = struct{}{}
		}
		run = run[:0]
	}
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			run = append(run, unicode.ToLower(r))
		} else {
			flush()
		}
	}
	flush()
	return set
}

// dice is the Dice coefficient of two bigram sets, per mille.
func dice(a, b map[string]struct{}) int {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	shared := 0
	for g := range a {
		if _, ok := b[g]; ok {
			shared++
		}
	}
	return 2 * shared * 1000 / (len(a) + len(b))
}
