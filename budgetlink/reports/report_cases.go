package reports

// Reports that join cases and lines: demand per catalog item, and the
// classification consistency report that finds the same kind of request
// booked under different items in different sub-districts — the
// bulky-waste problem the reform started from.

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"minsheng"
	"minsheng/budgetlink/catalog"
	"minsheng/budgetlink/ledger"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
	"minsheng/internal/textsim"
)

// ItemDemand is the residents' demand booked under one catalog item, and
// the money set aside for it.
type ItemDemand struct {
	ItemCode string `json:"item_code"`
	ItemName string `json:"item_name"`
	Area     string `json:"area"`
	// Cases classified to the item (rejected, merged and cancelled ones
	// left out) and their on-site estimates, funded or not: what residents
	// asked for, never mixed with what was reserved or spent.
	Cases       int64 `json:"cases"`
	EstimateFen int64 `json:"estimate_fen"`
	// Funded cases hold a live reservation or spending on a line; FundedFen
	// is ReservedFen (still reserved) plus SpentFen (actually spent).
	FundedCases int64 `json:"funded_cases"`
	FundedFen   int64 `json:"funded_fen"`
	ReservedFen int64 `json:"reserved_fen"`
	SpentFen    int64 `json:"spent_fen"`
	// Unfunded cases have no line yet.
	UnfundedCases       int64 `json:"unfunded_cases"`
	UnfundedEstimateFen int64 `json:"unfunded_estimate_fen"`
	// Lines under the item and their budget and what is still available.
	Lines        int64 `json:"lines"`
	BudgetFen    int64 `json:"budget_fen"`
	AvailableFen int64 `json:"available_fen"`
}

// DemandReport is demand per item for a fiscal year and sub-district ("" for
// the whole district).
type DemandReport struct {
	FiscalYear  int          `json:"fiscal_year"`
	SubDistrict string       `json:"sub_district,omitempty"`
	Items       []ItemDemand `json:"items"`
	// Unclassified counts cases filed that year not yet given an item.
	Unclassified            int64 `json:"unclassified"`
	UnclassifiedEstimateFen int64 `json:"unclassified_estimate_fen"`
}

func countsAsDemand(s cases.Status) bool {
	return s != cases.StatusRejected && s != cases.StatusMerged && s != cases.StatusCancelled
}

// DemandReport sums, per catalog item, the cases filed in a fiscal year
// (in the service's zone) with their estimates, funded or not, beside the lines'
// budgets. Funding is read from the lines, which are authoritative.
// Errors: EFORBIDDEN, EINVALID.
func (s *Reporter) DemandReport(ctx context.Context, p auth.Principal, fiscalYear int, subDistrict string) (*DemandReport, error) {
	sub, err := s.reportScope(p, fiscalYear, subDistrict)
	if err != nil {
		return nil, err
	}
	cs, err := s.ledger.Cases()
	if err != nil {
		return nil, err
	}
	cat, _ := s.ledger.Catalog(fiscalYear)
	t := &demandTally{cat: cat, items: map[string]*ItemDemand{}, funded: map[string]caseMoney{}}
	lines, err := s.linesOf(ctx, fiscalYear, sub)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		t.addLine(l)
	}
	t.rep = &DemandReport{FiscalYear: fiscalYear, SubDistrict: sub}
	err = cs.EachCaseFacts(ctx, s.filedIn(cases.Filter{SubDistrict: sub}, fiscalYear), func(c *cases.Case) error {
		if calendar.FiscalYear(c.FiledAt, s.zone) != fiscalYear || !countsAsDemand(c.Status) {
			return nil
		}
		t.addCase(c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep := t.rep
	for _, d := range t.items {
		rep.Items = append(rep.Items, *d)
	}
	slices.SortFunc(rep.Items, func(a, b ItemDemand) int { return strings.Compare(a.ItemCode, b.ItemCode) })
	return rep, nil
}

// caseMoney is a case's live amount on a line.
type caseMoney struct{ reserved, spent int64 }

// demandTally sums a DemandReport.
type demandTally struct {
	cat    *catalog.Catalog // nil without a catalog for the year
	items  map[string]*ItemDemand
	funded map[string]caseMoney // case id → live amount on a line
	rep    *DemandReport
}

// item returns the demand of the item code, added when first met.
func (t *demandTally) item(code string) *ItemDemand {
	d, ok := t.items[code]
	if !ok {
		d = &ItemDemand{ItemCode: code}
		if t.cat != nil {
			if it, ok := t.cat.Item(code); ok {
				d.ItemName, d.Area = it.Name, it.Area
			}
		}
		t.items[code] = d
	}
	return d
}

// addLine adds a line's budget to its item, and notes the cases it funds.
func (t *demandTally) addLine(l *ledger.BudgetLine) {
	d := t.item(l.ItemCode)
	d.Lines++
	d.BudgetFen += l.BudgetFen()
	d.AvailableFen += l.AvailableFen
	for _, r := range l.Reservations {
		switch r.State {
		case ledger.StateReserved:
			t.funded[r.CaseID] = caseMoney{reserved: r.AmountFen}
		case ledger.StateSpent:
			t.funded[r.CaseID] = caseMoney{spent: r.SpentFen}
		}
	}
}

// addCase adds a case that counts as demand to its item, or to the
// unclassified.
func (t *demandTally) addCase(c *cases.Case) {
	// The estimate is the on-site assessment's, or the one stated when
	// linking; never what was spent.
	estimate := int64(0)
	switch {
	case c.Assessment != nil:
		estimate = c.Assessment.EstimateFen
	case c.Budget != nil:
		estimate = c.Budget.EstimateFen
	}
	if c.CatalogItem == "" {
		t.rep.Unclassified++
		t.rep.UnclassifiedEstimateFen += estimate
		return
	}
	d := t.item(c.CatalogItem)
	d.Cases++
	d.EstimateFen += estimate
	if m, ok := t.funded[c.ID]; ok {
		d.FundedCases++
		d.ReservedFen += m.reserved
		d.SpentFen += m.spent
		d.FundedFen += m.reserved + m.spent
	} else {
		d.UnfundedCases++
		d.UnfundedEstimateFen += estimate
	}
}

// DefaultConsistencyThreshold is the bigram similarity (‰) at which two
// texts count as the same kind of request: "大件垃圾清运" and
// "清运旧沙发等大件垃圾" score 571, "垃圾分类驿站" and "大件垃圾清运" 200.
const DefaultConsistencyThreshold = 400

// Booking is one line or case as the consistency report sees it.
type Booking struct {
	Kind        string `json:"kind"` // "line" or "case"
	ID          string `json:"id"`
	SubDistrict string `json:"sub_district"`
	ItemCode    string `json:"item_code"`
	Text        string `json:"text"`
}

// ItemUse is how a group of similar bookings uses one item.
type ItemUse struct {
	ItemCode     string   `json:"item_code"`
	ItemName     string   `json:"item_name"`
	Bookings     int      `json:"bookings"`
	SubDistricts []string `json:"sub_districts"`
}

// Inconsistency is a group of similar bookings filed under more than one
// item across more than one sub-district.
type Inconsistency struct {
	// Items used by the group, most used first.
	Items []ItemUse `json:"items"`
	// Suggested is the catalog's best item for the group's texts, the one
	// every sub-district should use.
	Suggested    *catalog.Suggestion `json:"suggested,omitempty"`
	SubDistricts []string            `json:"sub_districts"`
	Bookings     []Booking           `json:"bookings"`
	Summary      string              `json:"summary"`
}

// ConsistencyReport lists the inconsistencies found for a fiscal year.
type ConsistencyReport struct {
	FiscalYear        int             `json:"fiscal_year"`
	ThresholdPermille int             `json:"threshold_permille"`
	BookingsCompared  int             `json:"bookings_compared"`
	Inconsistencies   []Inconsistency `json:"inconsistencies"`
}

// ConsistencyReport groups the year's lines (by project name) and classified
// cases (by title) whose texts — without the year, place names and generic
// words every project name carries (boilerplate) — are at least
// thresholdPermille similar
// (0 for DefaultConsistencyThreshold), and reports every group booked under
// different items in different sub-districts. District-wide by nature:
// finance and admin only. Errors: EFORBIDDEN, EINVALID.
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
				books = append(books, Booking{Kind: "case", ID: c.ID, SubDistrict: c.Location.SubDistrict, ItemCode: c.CatalogItem, Text: c.Title})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	cat, _ := s.ledger.Catalog(fiscalYear)
	rep := &ConsistencyReport{FiscalYear: fiscalYear, ThresholdPermille: thresholdPermille, BookingsCompared: len(books)}
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
	for _, group := range similarGroups(texts, thresholdPermille) {
		if inc, ok := inconsistency(cat, books, texts, group); ok {
			rep.Inconsistencies = append(rep.Inconsistencies, inc)
		}
	}
	slices.SortFunc(rep.Inconsistencies, func(a, b Inconsistency) int { return len(b.Bookings) - len(a.Bookings) })
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
// 大件垃圾清运" share 9 of their 13 bigrams and count as the same kind of
// request (issue 8 item 8: 27 bookings of 6 items joined into one).
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

// similarGroups joins texts whose bigram similarity reaches threshold
// (single link, union-find). Candidates come from an inverted index of
// bigrams, so only texts sharing a bigram are compared. An empty text (a
// name that was all boilerplate) is compared with nothing. Identical texts
// with bigrams are always joined (their similarity is 1000), so each
// distinct text is compared once and its copies follow it: a district's
// year repeats a few hundred titles over tens of thousands of cases, and
// comparing every copy made the report quadratic in the cases (18 s at
// 10,000 cases).
func similarGroups(texts []string, threshold int) [][]int {
	var distinct []string
	var copies [][]int // copies[k]: the indices of texts equal to distinct[k]
	at := map[string]int{}
	for i, text := range texts {
		if k, ok := at[text]; ok {
			copies[k] = append(copies[k], i)
			continue
		}
		if len(textsim.Bigrams(text)) > 0 {
			at[text] = len(distinct) // an empty one is never joined, not even to its copies
		}
		distinct = append(distinct, text)
		copies = append(copies, []int{i})
	}
	var out [][]int
	for _, g := range distinctGroups(distinct, threshold) {
		var group []int
		for _, k := range g {
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

// distinctGroups is the union-find of similarGroups over distinct texts;
// it returns every group, single texts included. Each text's bigrams are
// numbered once; for text i the bigrams it shares with every later text j
// are counted through the inverted index in one pass over i's postings (a
// counter per text, no per-pair set lookups), and i and j are joined when
// the Dice coefficient reaches threshold: floor(2000·shared/(|i|+|j|)) ≥ t,
// that is 2000·shared ≥ t·(|i|+|j|), exactly diceBigrams' integer test.
// A bigram every title shares ("号楼") made the per-pair comparison
// quadratic in map lookups: most of the consistency report's time.
func distinctGroups(texts []string, threshold int) [][]int {
	ids := map[string]int32{}
	grams := make([][]int32, len(texts))
	var index [][]int32 // bigram id → the texts holding it, ascending
	for i, text := range texts {
		for g := range textsim.Bigrams(text) {
			id, ok := ids[g]
			if !ok {
				id = int32(len(index))
				ids[g] = id
				index = append(index, nil)
			}
			grams[i] = append(grams[i], id)
			index[id] = append(index[id], int32(i))
		}
	}
	parent := make([]int, len(texts))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	shared := make([]int32, len(texts))
	var touched []int32
	for i := range texts {
		touched = touched[:0]
		for _, g := range grams[i] {
			post := index[g]
			// Only later texts: the postings are ascending.
			k, _ := slices.BinarySearch(post, int32(i)+1)
			for _, j := range post[k:] {
				if shared[j] == 0 {
					touched = append(touched, j)
				}
				shared[j]++
			}
		}
		li := len(grams[i])
		for _, j := range touched {
			n := int(shared[j])
			shared[j] = 0
			if 2000*n >= threshold*(li+len(grams[j])) && find(i) != find(int(j)) {
				parent[find(int(j))] = find(i)
			}
		}
	}
	byRoot := map[int][]int{}
	for i := range texts {
		r := find(i)
		byRoot[r] = append(byRoot[r], i)
	}
	out := make([][]int, 0, len(byRoot))
	for _, g := range byRoot {
		out = append(out, g)
	}
	return out
}

// keywordSpansLines reports whether a keyword of cat holds a line break,
// so could match across two joined texts (none does in the standard
// catalogs).
func keywordSpansLines(cat *catalog.Catalog) bool {
	if cat == nil {
		return false
	}
	for _, it := range cat.Items {
		for _, kw := range it.Keywords {
			if strings.Contains(kw, "\n") {
				return true
			}
		}
	}
	return false
}

// inconsistency describes a group of similar bookings when it uses more
// than one item in more than one sub-district; texts are the bookings'
// texts as compared (boilerplate stripped), which the suggestion uses too.
func inconsistency(cat *catalog.Catalog, books []Booking, texts []string, group []int) (Inconsistency, bool) {
	uses := map[string]*ItemUse{}
	subs := map[string]bool{}
	// The group's distinct texts only: the suggestion reads the joined
	// text's bigram set and whether each keyword occurs in it, neither of
	// which a repeated text changes ("\n" splits bigram runs and occurs in
	// no keyword), and a district's year repeats its titles thousands of
	// times.
	var groupTexts []string
	seenText := map[string]bool{}
	if keywordSpansLines(cat) {
		seenText = nil // every copy, as before
	}
	var inc Inconsistency
	for _, i := range group {
		b := books[i]
		u, ok := uses[b.ItemCode]
		if !ok {
			u = &ItemUse{ItemCode: b.ItemCode}
			if cat != nil {
				if it, ok := cat.Item(b.ItemCode); ok {
					u.ItemName = it.Name
				}
			}
			uses[b.ItemCode] = u
		}
		u.Bookings++
		if !slices.Contains(u.SubDistricts, b.SubDistrict) {
			u.SubDistricts = append(u.SubDistricts, b.SubDistrict)
		}
		subs[b.SubDistrict] = true
		if seenText == nil {
			groupTexts = append(groupTexts, texts[i])
		} else if !seenText[texts[i]] {
			seenText[texts[i]] = true
			groupTexts = append(groupTexts, texts[i])
		}
		inc.Bookings = append(inc.Bookings, b)
	}
	if len(uses) < 2 || len(subs) < 2 {
		return Inconsistency{}, false
	}
	for _, u := range uses {
		slices.Sort(u.SubDistricts)
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
	if cat != nil {
		if sug := cat.Suggest("", strings.Join(groupTexts, "\n"), 1); len(sug) == 1 {
			inc.Suggested = &sug[0]
		}
	}
	var parts []string
	for _, u := range inc.Items {
		parts = append(parts, fmt.Sprintf("%s %s（%d 笔，%s）", u.ItemCode, u.ItemName, u.Bookings, strings.Join(u.SubDistricts, "、")))
	}
	inc.Summary = fmt.Sprintf("同类事项「%s」在 %d 个街道被列入 %d 个不同支出分类：%s", books[group[0]].Text, len(subs), len(uses), strings.Join(parts, "；"))
	if inc.Suggested != nil {
		inc.Summary += fmt.Sprintf("。建议统一列入 %s %s", inc.Suggested.Code, inc.Suggested.Name)
	}
	return inc, true
}

// filedIn selects the cases filed in a fiscal year (in the ledger's
// zone), so reports read that year's cases rather than every case.
func (s *Reporter) filedIn(f cases.Filter, fiscalYear int) cases.Filter {
	f.FiledFrom, f.FiledTo = calendar.YearRange(fiscalYear, s.zone)
	return f
}
