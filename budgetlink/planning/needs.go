package planning

// Building the engine's input from the store: the budget lines of a year
// (from the ledger, which is authoritative for money) and the needs — open
// cases classified to a catalog item, assessed with an estimate and not yet
// holding money on any line of the year.

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"minsheng/budgetlink/allocation"
	"minsheng/budgetlink/catalog"
	"minsheng/budgetlink/ledger"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/page"
)

// RepeatWindow is how far back other complaints about the same place count
// as repeats (重复诉求).
const RepeatWindow = 365 * 24 * time.Hour

// lineInfo is a budget line as planning shows it.
type lineInfo struct {
	ID          string
	SubDistrict string
	ItemCode    string
	ItemName    string
	Area        string
	ProjectName string
	Available   int64
}

// needInfo is what a priority list shows of a need besides the engine's input.
type needInfo struct {
	Number    string
	Title     string
	Community string
	ItemCode  string
}

// Unplaced is an assessed, unfunded case whose item has no budget line in
// its sub-district for the year: demand the run cannot fund, listed so
// staff can open a line or roll it into next year's request.
type Unplaced struct {
	CaseID      string `json:"case_id"`
	Number      string `json:"number"`
	SubDistrict string `json:"sub_district"`
	ItemCode    string `json:"item_code"`
	EstimateFen int64  `json:"estimate_fen"`
}

// demand is the engine's input for one year and scope plus what the
// reports show beside it. needs[i] and infos[i] describe the same case.
type demand struct {
	lines    []allocation.Line
	lineInfo map[string]lineInfo
	needs    []allocation.Need
	infos    []needInfo
	unplaced []Unplaced
}

// loadLines reads every line of year in sub ("" = all) with its
// reservations, returning the lines and the set of cases that hold live
// money on them.
func (s *Service) loadLines(ctx context.Context, p auth.Principal, year int, sub string) ([]*ledger.BudgetLine, map[string]bool, error) {
	out, err := s.ledger.LinesForReports(ctx, p, year, sub)
	if err != nil {
		return nil, nil, err
	}
	funded := map[string]bool{}
	for _, l := range out {
		for _, r := range l.Reservations {
			if r.Live() && r.CaseID != "" {
				funded[r.CaseID] = true
			}
		}
	}
	return out, funded, nil
}

// collect builds the demand of year in sub ("" = every sub-district) as of asOf.
func (s *Service) collect(ctx context.Context, p auth.Principal, year int, sub string, asOf time.Time) (*demand, error) {
	docs, funded, err := s.loadLines(ctx, p, year, sub)
	if err != nil {
		return nil, err
	}
	cat, err := s.ledger.Catalog(year)
	if err != nil {
		return nil, err
	}
	d := &demand{lineInfo: make(map[string]lineInfo, len(docs)), unplaced: []Unplaced{}}
	byItem := d.addLines(docs, cat)
	sc := &needScan{d: d, funded: funded, byItem: byItem, windowStart: asOf.Add(-RepeatWindow), asOf: asOf,
		placeOf: map[string]string{}, mergedAway: map[string]bool{}}
	if err := s.cases.EachCaseFacts(ctx, cases.Filter{SubDistrict: sub}, sc.visit); err != nil {
		return nil, fmt.Errorf("planning: unable to read cases: %w", err)
	}
	sc.addNeeds(cat)
	slices.SortFunc(d.unplaced, func(a, b Unplaced) int { return cmp.Compare(a.CaseID, b.CaseID) })
	return d, nil
}

// addLines adds the lines not frozen to d, in id order, and returns for
// each sub-district and item ("sub|item") the line a need without a line
// of its own goes to: the one with the most money.
func (d *demand) addLines(docs []*ledger.BudgetLine, cat *catalog.Catalog) map[string]*ledger.BudgetLine {
	slices.SortFunc(docs, func(a, b *ledger.BudgetLine) int { return strings.Compare(a.ID, b.ID) })
	byItem := map[string]*ledger.BudgetLine{}
	for _, l := range docs {
		if l.Frozen != "" {
			continue // Check froze it: its figures are beyond the money bound
		}
		lineItem, _ := cat.Item(l.ItemCode)
		d.lines = append(d.lines, allocation.Line{ID: l.ID, SubDistrictCode: l.SubDistrict, ItemCode: l.ItemCode, Area: l.Area, AvailableFen: max(l.AvailableFen, 0), Sanbao: lineItem.Sanbao})
		d.lineInfo[l.ID] = lineInfo{ID: l.ID, SubDistrict: l.SubDistrict, ItemCode: l.ItemCode, ItemName: l.ItemName, Area: l.Area, ProjectName: l.ProjectName, Available: l.AvailableFen}
		k := l.SubDistrict + "|" + l.ItemCode
		if best := byItem[k]; best == nil || l.AvailableFen > best.AvailableFen {
			byItem[k] = l
		}
	}
	return byItem
}

// needCandidate is a case that waits for money, with the line it goes to
// and its place.
type needCandidate struct {
	c      *cases.Case
	lineID string
	key    string
}

// needScan reads the cases of a demand: the needs among them, and the
// complaints per place within the repeat window (countsAsRepeat), summed
// once every case is read: a duplicate whose voices were already copied
// to the kept case (listed in its merged_from) is left out even if a
// crash left it open before its own merge was recorded.
type needScan struct {
	d                 *demand
	funded            map[string]bool
	byItem            map[string]*ledger.BudgetLine
	windowStart, asOf time.Time
	placeOf           map[string]string // case id → place, for the cases that count
	mergedAway        map[string]bool
	cands             []needCandidate
}

// visit reads one case.
func (sc *needScan) visit(c *cases.Case) error {
	key := placeKey(c)
	inWindow := !c.FiledAt.Before(sc.windowStart) && !c.FiledAt.After(sc.asOf)
	if inWindow && countsAsRepeat(c) {
		sc.placeOf[c.ID] = key
	}
	for _, id := range c.MergedFrom {
		sc.mergedAway[id] = true
	}
	if !isNeed(c, sc.funded) {
		return nil
	}
	lineID := ""
	if c.Budget != nil && c.Budget.LineID != "" {
		if li, ok := sc.d.lineInfo[c.Budget.LineID]; ok && li.ItemCode == c.CatalogItem && li.SubDistrict == c.Location.SubDistrict {
			lineID = li.ID
		}
	}
	if lineID == "" {
		if l := sc.byItem[c.Location.SubDistrict+"|"+c.CatalogItem]; l != nil {
			lineID = l.ID
		}
	}
	if lineID == "" {
		sc.d.unplaced = append(sc.d.unplaced, Unplaced{CaseID: c.ID, Number: c.Number, SubDistrict: c.Location.SubDistrict, ItemCode: c.CatalogItem, EstimateFen: c.Assessment.EstimateFen})
		return nil
	}
	cp := *c
	cp.Timeline, cp.Photos = nil, nil // not needed; keep the list small
	sc.cands = append(sc.cands, needCandidate{c: &cp, lineID: lineID, key: key})
	return nil
}

// addNeeds adds the candidates to the demand as needs, with the repeat
// complaints of their place.
func (sc *needScan) addNeeds(cat *catalog.Catalog) {
	perPlace := map[string]int64{}
	for id, key := range sc.placeOf {
		if !sc.mergedAway[id] {
			perPlace[key]++
		}
	}
	for _, cd := range sc.cands {
		c := cd.c
		repeats := perPlace[cd.key]
		if _, counted := sc.placeOf[c.ID]; counted && !sc.mergedAway[c.ID] {
			repeats-- // the case itself is not a repeat of itself
		}
		item, _ := cat.Item(c.CatalogItem)
		households := int64(c.Households)
		if c.Assessment.Households > 0 {
			households = int64(c.Assessment.Households)
		}
		sc.d.needs = append(sc.d.needs, allocation.Need{
			CaseID:           c.ID,
			LineID:           cd.lineID,
			EstimateFen:      c.Assessment.EstimateFen,
			FiledAt:          c.FiledAt,
			Sanbao:           item.Sanbao,
			SafetyLevel:      int64(min(max(c.Assessment.Risk, 0), 3)),
			Households:       max(households, 0),
			CoSigners:        int64(c.CosignCount),
			RepeatComplaints: max(repeats, 0),
			Elderly:          int64(max(c.Assessment.Elderly, 0)),
			Disabled:         int64(max(c.Assessment.Disabled, 0)),
		})
		sc.d.infos = append(sc.d.infos, needInfo{Number: c.Number, Title: c.Title, Community: c.Location.Community, ItemCode: c.CatalogItem})
	}
}

// isNeed reports whether c waits for money: open, classified, assessed with
// an estimate, and holding no live money — neither on the lines of the
// year (the ledger's word) nor by its own copy of a link.
func isNeed(c *cases.Case, funded map[string]bool) bool {
	if !c.Status.Open() || c.Status == cases.StatusSubmitted {
		return false
	}
	if c.CatalogItem == "" || c.Assessment == nil || c.Assessment.EstimateFen <= 0 {
		return false
	}
	if funded[c.ID] {
		return false
	}
	if c.Budget != nil && (c.Budget.State == ledger.StateReserved || c.Budget.State == ledger.StateSpent) {
		return false
	}
	return true
}

// countsAsRepeat reports whether a case is a complaint of its own about its
// place (重复诉求). A merged duplicate is not: merging moved its filer onto
// the kept case as a co-signer, so counting it as a repeat too would count
// one voice twice. A rejected case (不予受理) is not either: it was not the
// unit's matter, so it says nothing about the need at that place.
func countsAsRepeat(c *cases.Case) bool {
	return c.Status != cases.StatusMerged && c.Status != cases.StatusRejected
}

// placeKey identifies "the same place" for repeat complaints: the same
// community, catalog area and address (spaces and case ignored). Without
// an address the place is the community and area.
func placeKey(c *cases.Case) string {
	addr := strings.ToLower(strings.Join(strings.Fields(c.Location.Address), ""))
	return c.Location.Community + "|" + c.Area + "|" + addr
}

// PriorityQuery selects a priority list.
type PriorityQuery struct {
	FiscalYear int
	// SubDistrict is required of nobody: sub-district staff get their own,
	// finance and admin the whole district when it is empty.
	SubDistrict string
	// Cursor is the next_cursor of the previous page; Limit is 1..100
	// (default 20: internal/page). The ranking is recomputed for every page, so a page
	// reflects the cases as they are when it is asked for.
	Cursor string
	Limit  int
}

// priorityCursors names the priority list's cursors (the rank reached).
const priorityCursors = "priorities"

// Priority is one need in the priority list with the why of its rank.
type Priority struct {
	// Rank is the 1-based place in the whole list; LineRank the place among
	// the needs of the same line, which is the order a run funds them in.
	Rank        int              `json:"rank"`
	LineRank    int              `json:"line_rank"`
	CaseID      string           `json:"case_id"`
	Number      string           `json:"number"`
	Title       string           `json:"title"`
	SubDistrict string           `json:"sub_district"`
	Community   string           `json:"community"`
	LineID      string           `json:"line_id"`
	ProjectName string           `json:"project_name"`
	ItemCode    string           `json:"item_code"`
	ItemName    string           `json:"item_name"`
	EstimateFen int64            `json:"estimate_fen"`
	FiledAt     time.Time        `json:"filed_at"`
	Score       allocation.Score `json:"score"`
}

// PriorityList is every linked, unfunded need of a scope in priority order.
type PriorityList struct {
	FiscalYear  int                `json:"fiscal_year"`
	SubDistrict string             `json:"sub_district,omitempty"`
	AsOf        time.Time          `json:"as_of"`
	Weights     allocation.Weights `json:"weights"`
	// Total counts every ranked need; Needs is one page of them and
	// NextCursor asks for the next ("" on the last page).
	Total      int        `json:"total"`
	Needs      []Priority `json:"needs"`
	NextCursor string     `json:"next_cursor"`
	// Unplaced needs have no line for their item and are not ranked.
	Unplaced []Unplaced `json:"unplaced"`
}

// Priorities ranks every open, classified, assessed and unfunded case of
// the scope by the year's weights, each with its score's parts. Sub-district
// staff see their own sub-district, finance and admin any or all.
// Errors: EFORBIDDEN, EINVALID (year, unknown sub-district), ENOTFOUND (no
// catalog for the year).
func (s *Service) Priorities(ctx context.Context, p auth.Principal, q PriorityQuery) (PriorityList, error) {
	if q.FiscalYear == 0 {
		q.FiscalYear = s.currentYear()
	}
	sub, err := s.scopeSubDistrict(p, q.SubDistrict)
	if err != nil {
		return PriorityList{}, err
	}
	if err := checkYear(q.FiscalYear); err != nil {
		return PriorityList{}, err
	}
	at, limit, err := page.Read(priorityCursors, q.Cursor, q.Limit)
	if err != nil {
		return PriorityList{}, err
	}
	offset := at.Offset
	yw, err := s.yearWeights(ctx, q.FiscalYear)
	if err != nil {
		return PriorityList{}, err
	}
	asOf := s.now()
	d, err := s.collect(ctx, p, q.FiscalYear, sub, asOf)
	if err != nil {
		return PriorityList{}, err
	}
	ranked, err := allocation.Prioritize(d.needs, yw.Weights, asOf)
	if err != nil {
		return PriorityList{}, err
	}
	out := PriorityList{FiscalYear: q.FiscalYear, SubDistrict: sub, AsOf: asOf, Weights: yw.Weights, Total: len(ranked), Needs: []Priority{}, Unplaced: d.unplaced}
	end := min(offset+limit, len(ranked))
	if end < len(ranked) {
		out.NextCursor = page.Encode(priorityCursors, page.Cursor{Offset: end})
	}
	perLine := map[string]int{}
	for i, r := range ranked {
		n, info := &d.needs[r.Index], &d.infos[r.Index]
		li := d.lineInfo[n.LineID]
		perLine[n.LineID]++
		if i < offset || i >= end {
			continue // counted for the line ranks, not on this page
		}
		out.Needs = append(out.Needs, Priority{
			Rank: i + 1, LineRank: perLine[n.LineID], CaseID: n.CaseID, Number: info.Number, Title: info.Title,
			SubDistrict: li.SubDistrict, Community: info.Community, LineID: n.LineID, ProjectName: li.ProjectName,
			ItemCode: li.ItemCode, ItemName: li.ItemName, EstimateFen: n.EstimateFen, FiledAt: n.FiledAt, Score: r.Score,
		})
	}
	return out, nil
}
