package reports

// The classification consistency report (分类一致性): the same matter —
// bulky-waste removal, say — booked under different catalog items in
// different sub-districts, the problem the reform started from, and the
// item the matter belongs to.

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"minsheng"
	"minsheng/budgetlink/catalog"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
	"minsheng/internal/textsim"
)

// DefaultConsistencyThreshold is the bigram similarity (‰) at which a text
// counts as the same matter as its group's leading text: "大件垃圾清运" and
// "清运旧沙发等大件垃圾" score 571, "垃圾分类驿站" and "大件垃圾清运" 200.
const DefaultConsistencyThreshold = 400

// Booking is one line or case as the consistency report sees it.
type Booking struct {
	Kind string `json:"kind"` // "line" or "case"
	ID   string `json:"id"`
	// Number is a case's number (empty for a line).
	Number          string `json:"number,omitempty"`
	SubDistrict     string `json:"sub_district"`
	SubDistrictName string `json:"sub_district_name"`
	ItemCode        string `json:"item_code"`
	ItemName        string `json:"item_name"`
	Text            string `json:"text"`
}

// ItemUse is how a matter's bookings use one item.
type ItemUse struct {
	ItemCode         string   `json:"item_code"`
	ItemName         string   `json:"item_name"`
	Bookings         int      `json:"bookings"`
	SubDistricts     []string `json:"sub_districts"`
	SubDistrictNames []string `json:"sub_district_names"`
}

// Suggested is the item a matter belongs to and why.
type Suggested struct {
	Code string `json:"code"`
	Name string `json:"name"`
	// Score is the catalog's score of the matter against the item (its
	// name, keywords and description; catalog.Suggest).
	Score int      `json:"score"`
	Why   []string `json:"why"`
}

// Inconsistency is one matter booked under more than one item across more
// than one sub-district.
type Inconsistency struct {
	// Matter is the group's leading text: the most booked one.
	Matter string `json:"matter"`
	// Items used for the matter, most used first.
	Items []ItemUse `json:"items"`
	// Suggested is the item the matter belongs to, one of Items: the one
	// the catalog's names and descriptions fit best, the most booked among
	// equals.
	Suggested        *Suggested `json:"suggested,omitempty"`
	SubDistricts     []string   `json:"sub_districts"`
	SubDistrictNames []string   `json:"sub_district_names"`
	Bookings         []Booking  `json:"bookings"`
	// Moves are the bookings not under the suggested item: what to
	// reclassify.
	Moves   []Booking `json:"moves"`
	Summary string    `json:"summary"`
}

// ConsistencyReport lists the inconsistencies found for a fiscal year.
type ConsistencyReport struct {
	FiscalYear        int             `json:"fiscal_year"`
	ThresholdPermille int             `json:"threshold_permille"`
	BookingsCompared  int             `json:"bookings_compared"`
	Inconsistencies   []Inconsistency `json:"inconsistencies"`
}

// ConsistencyReport groups the year's lines (by project name) and classified
// cases (by title) into matters — texts, without the year, place names and
// generic words (boilerplate), at least thresholdPermille similar to the
// matter's leading text (0 for DefaultConsistencyThreshold) — and reports
// every matter booked under different items in different sub-districts,
// with the item it belongs to. District-wide by nature: finance and admin
// only. Errors: EFORBIDDEN, EINVALID.
func (s *Reporter) ConsistencyReport(ctx context.Context, p auth.Principal, fiscalYear, thresholdPermille int) (*ConsistencyReport, error) {
	if err := p.RequireRole(auth.RoleFinance, auth.RoleAdmin); err != nil {
		return nil, err
	}
	if err := checkReportYear(fiscalYear); err != nil {
		return nil, err
	}
	if thresholdPermille <= 0 {
		thresholdPermille = DefaultConsistencyThreshold
	}
	if thresholdPermille > 1000 {
		return nil, minsheng.Invalid("相似度阈值须在 1 到 1000 之间", map[string]string{"threshold": "1–1000"})
	}
	var books []Booking
	lines, err := s.linesOf(ctx, fiscalYear, "")
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		books = append(books, Booking{Kind: "line", ID: l.ID, SubDistrict: l.SubDistrict, ItemCode: l.ItemCode, Text: l.ProjectName})
	}
	if cs, err := s.ledger.Cases(); err == nil {
		err = cs.EachCaseFacts(ctx, s.filedIn(cases.Filter{}, fiscalYear), func(c *cases.Case) error {
			if c.CatalogItem != "" && countsAsDemand(c.Status) && calendar.FiscalYear(c.FiledAt, s.zone) == fiscalYear {
				books = append(books, Booking{Kind: "case", ID: c.ID, Number: c.Number, SubDistrict: c.Location.SubDistrict, ItemCode: c.CatalogItem, Text: c.Title})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	cat, _ := s.ledger.Catalog(fiscalYear)
	rep := &ConsistencyReport{FiscalYear: fiscalYear, ThresholdPermille: thresholdPermille, BookingsCompared: len(books), Inconsistencies: []Inconsistency{}}
	strip := s.boilerplate()
	texts := make([]string, len(books))
	stripped := map[string]string{} // a year repeats its titles thousands of times
	for i, b := range books {
		t, ok := stripped[b.Text]
		if !ok {
			t = strip(b.Text)
			stripped[b.Text] = t
		}
		texts[i] = t
	}
	for _, group := range matterGroups(texts, thresholdPermille) {
		if inc, ok := s.inconsistency(cat, books, texts, group); ok {
			rep.Inconsistencies = append(rep.Inconsistencies, inc)
		}
	}
	slices.SortStableFunc(rep.Inconsistencies, func(a, b Inconsistency) int { return len(b.Bookings) - len(a.Bookings) })
	return rep, nil
}

// yearPattern matches a year in a project name: "2026年", "2026 年度", "2026".
var yearPattern = regexp.MustCompile(`(19|20)[0-9]{2}\s*(年度|年)?`)

// genericWords say nothing about what a booking is for; they are dropped
// with the place names.
var genericWords = []string{"街道办事处", "街道", "社区", "项目", "年度", "专项"}

// boilerplate returns a function that strips what every project name of a
// sub-district shares — the year, the district's, sub-districts' and
// communities' names and generic words — so texts are compared by what the
// money is for. Without it "2026年金融街街道停车自治" and "2026年金融街街道
// 大件垃圾清运" share 9 of their 13 bigrams and count as the same matter.
func (s *Reporter) boilerplate() func(string) string {
	var names []string
	if s.org != nil {
		d := s.org.District()
		names = append(names, d.Name)
		for _, sd := range d.SubDistricts {
			names = append(names, sd.Name)
			if short := strings.TrimSuffix(sd.Name, "街道"); len([]rune(short)) >= 2 {
				names = append(names, short)
			}
			for _, c := range sd.Communities {
				names = append(names, c.Name)
			}
		}
	}
	names = append(names, genericWords...)
	// Longest first: the replacer tries the old strings in argument order.
	slices.SortStableFunc(names, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(names))
	for _, n := range names {
		pairs = append(pairs, n, " ")
	}
	r := strings.NewReplacer(pairs...)
	return func(text string) string {
		return strings.TrimSpace(r.Replace(yearPattern.ReplaceAllString(text, " ")))
	}
}

// matterGroups groups texts into matters around leading texts: the
// distinct texts, most repeated first (then in order of appearance), each
// join the leader they are most similar to (textsim's Dice, ≥ threshold)
// or lead a matter of their own. Every member is similar to its leader —
// no chain of near pairs joins unrelated matters (single linkage put 27
// bookings of six items in one group, issue 23 item 5). An empty text
// (all boilerplate) joins nothing. Only groups of two or more texts are
// returned, each ascending, ordered by their first index. Each distinct
// text is compared once, with the leaders sharing one of its bigrams
// (an inverted index of the leaders' bigrams).
func matterGroups(texts []string, threshold int) [][]int {
	var distinct []string
	var copies [][]int
	at := map[string]int{}
	for i, text := range texts {
		if k, ok := at[text]; ok {
			copies[k] = append(copies[k], i)
			continue
		}
		at[text] = len(distinct)
		distinct = append(distinct, text)
		copies = append(copies, []int{i})
	}
	order := make([]int, len(distinct))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(copies[b]) - len(copies[a]) })

	var leaders []int           // distinct index of each leader
	var leaderSize []int        // its bigram count
	members := map[int][]int{}  // leader number → distinct indices
	index := map[string][]int{} // bigram → leader numbers holding it
	for _, k := range order {
		grams := textsim.Bigrams(distinct[k])
		if len(grams) == 0 {
			continue
		}
		shared := map[int]int{}
		for g := range grams {
			for _, l := range index[g] {
				shared[l]++
			}
		}
		best, bestScore := -1, -1
		for l, n := range shared {
			score := 2000 * n / (len(grams) + leaderSize[l]) // textsim.Dice's integer rule
			if 2000*n >= threshold*(len(grams)+leaderSize[l]) && (score > bestScore || score == bestScore && l < best) {
				best, bestScore = l, score
			}
		}
		if best >= 0 {
			members[best] = append(members[best], k)
			continue
		}
		l := len(leaders)
		leaders = append(leaders, k)
		leaderSize = append(leaderSize, len(grams))
		members[l] = []int{k}
		for g := range grams {
			index[g] = append(index[g], l)
		}
	}
	var out [][]int
	for l := range leaders {
		var group []int
		for _, k := range members[l] {
			group = append(group, copies[k]...)
		}
		if len(group) > 1 {
			slices.Sort(group)
			out = append(out, group)
		}
	}
	slices.SortFunc(out, func(a, b []int) int { return a[0] - b[0] })
	return out
}

// inconsistency describes a matter when its bookings use more than one
// item in more than one sub-district; texts are the bookings' texts as
// compared (boilerplate stripped), which the suggestion reads too.
func (s *Reporter) inconsistency(cat *catalog.Catalog, books []Booking, texts []string, group []int) (Inconsistency, bool) {
	uses := map[string]*ItemUse{}
	subs := map[string]bool{}
	count := map[string]int{}
	var groupTexts []string
	seenText := map[string]bool{}
	var inc Inconsistency
	for _, i := range group {
		b := books[i]
		b.SubDistrictName = s.subName(b.SubDistrict)
		b.ItemName = itemName(cat, b.ItemCode)
		u, ok := uses[b.ItemCode]
		if !ok {
			u = &ItemUse{ItemCode: b.ItemCode, ItemName: b.ItemName}
			uses[b.ItemCode] = u
		}
		u.Bookings++
		if !slices.Contains(u.SubDistricts, b.SubDistrict) {
			u.SubDistricts = append(u.SubDistricts, b.SubDistrict)
		}
		subs[b.SubDistrict] = true
		count[b.Text]++
		if !seenText[texts[i]] {
			seenText[texts[i]] = true
			groupTexts = append(groupTexts, texts[i])
		}
		inc.Bookings = append(inc.Bookings, b)
	}
	if len(uses) < 2 || len(subs) < 2 {
		return Inconsistency{}, false
	}
	// The matter is named by the most booked text, the first among equals,
	// residents' words (a case's title) before a project name.
	for _, kind := range []string{"case", "line"} {
		for _, b := range inc.Bookings {
			if b.Kind == kind && (inc.Matter == "" || count[b.Text] > count[inc.Matter]) {
				inc.Matter = b.Text
			}
		}
		if inc.Matter != "" {
			break
		}
	}
	for _, u := range uses {
		slices.Sort(u.SubDistricts)
		u.SubDistrictNames = s.subNames(u.SubDistricts)
		inc.Items = append(inc.Items, *u)
	}
	slices.SortFunc(inc.Items, func(a, b ItemUse) int {
		if a.Bookings != b.Bookings {
			return b.Bookings - a.Bookings
		}
		return strings.Compare(a.ItemCode, b.ItemCode)
	})
	for sd := range subs {
		inc.SubDistricts = append(inc.SubDistricts, sd)
	}
	slices.Sort(inc.SubDistricts)
	inc.SubDistrictNames = s.subNames(inc.SubDistricts)
	inc.Suggested = suggestItem(cat, inc.Items, strings.Join(groupTexts, "\n"), len(group))
	inc.Moves = []Booking{}
	for _, b := range inc.Bookings {
		if inc.Suggested != nil && b.ItemCode != inc.Suggested.Code {
			inc.Moves = append(inc.Moves, b)
		}
	}
	inc.Summary = summaryOf(inc)
	return inc, true
}

// suggestItem picks, among the items a matter is booked under (most booked
// first), the one the catalog scores highest for the matter's texts
// (catalog.Suggest: keywords, then the bigram similarity of the item's
// name, keywords and description); the most booked wins among equals and
// when the catalog fits none. The search is kept to the items in use: a
// matter's texts joined can brush against an unrelated item's keywords
// (旱厕 suggested for 楼道堆物), while one of the items a sub-district
// chose is almost always the right one.
func suggestItem(cat *catalog.Catalog, items []ItemUse, text string, total int) *Suggested {
	if len(items) == 0 {
		return nil
	}
	scores := map[string]catalog.Suggestion{}
	if cat != nil {
		for _, sg := range cat.Suggest("", text, len(cat.Items)) {
			scores[sg.Code] = sg
		}
	}
	best := items[0]
	for _, u := range items[1:] {
		if scores[u.ItemCode].Score > scores[best.ItemCode].Score {
			best = u
		}
	}
	sg := scores[best.ItemCode]
	out := &Suggested{Code: best.ItemCode, Name: best.ItemName, Score: sg.Score}
	if sg.Score > 0 {
		out.Why = append(out.Why, "与分类名称、关键词和说明最相符："+strings.Join(sg.Why, "，"))
	}
	out.Why = append(out.Why, fmt.Sprintf("%d 笔中 %d 笔记入此项，%d 个街道这样记账", total, best.Bookings, len(best.SubDistricts)))
	return out
}

// summaryOf is the inconsistency in one Chinese sentence: the matter, who
// booked it where, and the suggestion.
func summaryOf(inc Inconsistency) string {
	var parts []string
	for _, u := range inc.Items {
		parts = append(parts, fmt.Sprintf("%s记入「%s」（%s，%d 笔）", strings.Join(u.SubDistrictNames, "、"), u.ItemName, u.ItemCode, u.Bookings))
	}
	out := fmt.Sprintf("同一事项「%s」在 %d 个街道被记入 %d 个不同分类：%s", inc.Matter, len(inc.SubDistricts), len(inc.Items), strings.Join(parts, "；"))
	if inc.Suggested != nil {
		out += fmt.Sprintf("。建议统一记入「%s」（%s），需改列 %d 笔", inc.Suggested.Name, inc.Suggested.Code, len(inc.Moves))
	}
	return out + "。"
}

// itemName is an item's name in cat, its code when unknown.
func itemName(cat *catalog.Catalog, code string) string {
	if cat != nil {
		if it, ok := cat.Item(code); ok {
			return it.Name
		}
	}
	return code
}

// subNames are sub-districts' names, in the order given.
func (s *Reporter) subNames(codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = s.subName(c)
	}
	return out
}
