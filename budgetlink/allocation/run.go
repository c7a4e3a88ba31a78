package allocation

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"minsheng"
)

// Line is a budget line as the run sees it: where its money may go and how
// much is left to fund needs.
type Line struct {
	ID              string
	SubDistrictCode string
	// ItemCode is the standard catalog item (e.g. bulky-waste removal); unmet
	// demand is rolled up by it for next year's request.
	ItemCode string
	// Area is one of the catalog's six areas (综合保障, 民生保障, 城市管理, …);
	// adjustments prefer a donor in the same area.
	Area         string
	AvailableFen int64
	// Sanbao marks a 三保 line (basic livelihood, wages, operations): it
	// comes first in the budget, so its money left is never suggested for
	// another line (no salaries moved to an elevator).
	Sanbao bool
}

// Decision is one need's outcome on its line.
type Decision struct {
	CaseID      string `json:"case_id"`
	EstimateFen int64  `json:"estimate_fen"`
	// Score is the need's total in milli-points; ScoreNeed explains it.
	Score int64 `json:"score"`
	// Rank is the need's 1-based place in its line's priority order.
	Rank int `json:"rank"`
}

// LineResult is what a run did with one line. Funded and Waitlisted are both
// in priority order.
type LineResult struct {
	LineID     string     `json:"line_id"`
	Funded     []Decision `json:"funded"`
	Waitlisted []Decision `json:"waitlisted"`
	// AvailableFen is the line's money before the run.
	AvailableFen int64 `json:"available_fen"`
	// FundedFen is what the funded needs take; RemainingFen what is left.
	FundedFen    int64 `json:"funded_fen"`
	RemainingFen int64 `json:"remaining_fen"`
	// WaitlistedFen is the total estimate of waitlisted needs.
	WaitlistedFen int64 `json:"waitlisted_fen"`
	// ShortfallFen is what the line lacks to fund every waitlisted need as
	// well: WaitlistedFen − RemainingFen, or 0 when nothing is waitlisted.
	ShortfallFen int64 `json:"shortfall_fen"`
}

// SuggestedAdjustment proposes moving money between two lines of the same
// sub-district (预算调剂). It is a suggestion: finance approves it as an
// ordinary adjustment, after which a new run funds the waitlisted needs.
type SuggestedAdjustment struct {
	FromLineID string `json:"from_line_id"`
	ToLineID   string `json:"to_line_id"`
	AmountFen  int64  `json:"amount_fen"`
	Reason     string `json:"reason"`
	// FundsCaseIDs are the recipient's waitlisted cases the transfer
	// funds, in priority order — together with the other suggested
	// transfers to the same line when one donor's money is not enough.
	FundsCaseIDs []string `json:"funds_case_ids" bson:"funds_case_ids,omitempty"`
}

// BudgetRequest is unmet demand for one catalog item, the basis of next
// year's project request (项目经费依财力).
type BudgetRequest struct {
	ItemCode  string `json:"item_code"`
	Cases     int    `json:"cases"`
	DemandFen int64  `json:"demand_fen"`
}

// Result is the outcome of one allocation run.
type Result struct {
	// Lines are in the order the lines were given.
	Lines       []LineResult          `json:"lines"`
	Adjustments []SuggestedAdjustment `json:"adjustments"`
	// NextYear is sorted by item code.
	NextYear []BudgetRequest `json:"next_year"`
}

// sortKey packs what the priority order compares into 24 bytes, so sorting a
// line's needs reads one small array instead of chasing each Need.
type sortKey struct {
	score int64
	sec   int64
	nsec  int32
	idx   int32
}

// Run funds needs from their lines as of asOf (which fixes days waiting).
// Each line takes its needs in priority order (score desc, filed asc, case
// ID) and funds every one that still fits; one that does not fit is
// waitlisted and the run goes on to the next, smaller one (participatory-
// budget style), so money is not left idle behind one big request.
//
// Then it suggests adjustments and rolls unmet demand up for next year.
// A donor is a line with money left and nothing waitlisted, other than a
// 三保 line (Line.Sanbao); a recipient is a line with a shortfall. Money
// moves only within one sub-district (a sub-district's lines are its own
// budget; moving money between sub-districts
// is the district's factor allocation, not a line adjustment). Every
// recipient is first offered the money of donors in its own area, and only
// then, in a second round, that of donors in other areas; within a round
// recipients are served in the order of their most urgent waiting need
// (highest score first). A recipient takes exactly what funds its waiting
// needs in priority order, skip-and-continue as above, with its own money
// left plus the round's donors' money, drawn from same-area donors first
// and the largest donor first.
// A transfer is suggested only when it funds at least one waiting case
// (named in FundsCaseIDs): money that would sit on another line funding
// nothing stays where it is.
//
// Run returns EINVALID for bad weights, a bad line or need, a need whose
// line is not given, or a case given twice. It uses every CPU: the work is
// split by need and by line, and the result does not depend on the split.
func Run(lines []Line, needs []Need, w Weights, asOf time.Time) (Result, error) {
	if err := w.Validate(); err != nil {
		return Result{}, err
	}
	if len(needs) > MaxNeeds {
		return Result{}, minsheng.Invalid("需求过多", map[string]string{"needs": fmt.Sprintf("最多%d条", MaxNeeds)})
	}
	lineIndex, err := indexLines(lines)
	if err != nil {
		return Result{}, err
	}
	lineOf, keys, hashes, err := scoreAll(needs, lineIndex, &w, asOf.Unix())
	if err != nil {
		return Result{}, err
	}
	if err := checkUniqueCases(needs, hashes); err != nil {
		return Result{}, err
	}

	// Group needs by line with one counting pass: offsets[l] is where line l's
	// needs start in byLine and pending; no per-line slices are allocated.
	// The pass reads needs in order and copies what a decision needs, so
	// deciding a line later touches only its own small, contiguous segment
	// instead of jumping around a million Need structs.
	offsets := make([]int32, len(lines)+1)
	for _, l := range lineOf {
		offsets[l+1]++
	}
	for l := range lines {
		offsets[l+1] += offsets[l]
	}
	byLine := make([]sortKey, len(needs))
	pending := make([]Decision, len(needs))
	next := slices.Clone(offsets[:len(lines)])
	for i, l := range lineOf {
		at := next[l]
		next[l]++
		k := keys[i]
		k.idx = at - offsets[l] // now the position within the line's segment
		byLine[at] = k
		pending[at] = Decision{CaseID: needs[i].CaseID, EstimateFen: needs[i].EstimateFen, Score: k.score}
	}

	res := Result{Lines: make([]LineResult, len(lines))}
	decisions := make([]Decision, len(needs))
	parallel(len(lines), func(l int) {
		lo, hi := offsets[l], offsets[l+1]
		res.Lines[l] = decideLine(&lines[l], byLine[lo:hi], pending[lo:hi], decisions[lo:hi])
	})
	res.Adjustments = suggestAdjustments(lines, res.Lines)
	res.NextYear = rollUpUnmet(lines, res.Lines)
	return res, nil
}

// indexLines validates lines and maps each ID to its position.
func indexLines(lines []Line) (map[string]int32, error) {
	index := make(map[string]int32, len(lines))
	for i := range lines {
		ln := &lines[i]
		field := func(name string) string { return fmt.Sprintf("lines[%d].%s", i, name) }
		switch {
		case ln.ID == "":
			return nil, minsheng.Invalid("预算项目缺少编号", map[string]string{field("id"): "必填"})
		case ln.SubDistrictCode == "":
			return nil, minsheng.Invalid("预算项目缺少街道", map[string]string{field("sub_district_code"): "必填"})
		case ln.ItemCode == "":
			return nil, minsheng.Invalid("预算项目缺少事项编码", map[string]string{field("item_code"): "必填"})
		case !minsheng.ValidAmount(ln.AvailableFen):
			return nil, minsheng.CheckFen(field("available_fen"), ln.AvailableFen)
		}
		if _, dup := index[ln.ID]; dup {
			return nil, minsheng.Invalid("预算项目重复", map[string]string{field("id"): "编号重复：" + ln.ID})
		}
		index[ln.ID] = int32(i)
	}
	return index, nil
}

// scoreAll validates every need, finds its line and scores it, in parallel
// chunks. When several needs are bad, the error is about the first of them,
// whatever the split.
func scoreAll(needs []Need, lineIndex map[string]int32, w *Weights, asOfUnix int64) ([]int32, []sortKey, []uint64, error) {
	lineOf := make([]int32, len(needs))
	keys := make([]sortKey, len(needs))
	hashes := make([]uint64, len(needs))
	seed := maphash.MakeSeed()
	const chunk = 16 << 10
	chunks := (len(needs) + chunk - 1) / chunk
	errs := make([]error, chunks)
	parallel(chunks, func(c int) {
		for i := c * chunk; i < min((c+1)*chunk, len(needs)); i++ {
			n := &needs[i]
			if err := n.validate(i); err != nil {
				errs[c] = err
				return
			}
			l, ok := lineIndex[n.LineID]
			if !ok {
				errs[c] = minsheng.Invalid("需求关联的预算项目不在本次测算中",
					map[string]string{fmt.Sprintf("needs[%d].line_id", i): "未知预算项目：" + n.LineID})
				return
			}
			lineOf[i] = l
			hashes[i] = maphash.String(seed, n.CaseID)
			keys[i] = sortKey{score: scoreTotal(n, w, asOfUnix), sec: n.FiledAt.Unix(), nsec: int32(n.FiledAt.Nanosecond()), idx: int32(i)}
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, nil, nil, err
		}
	}
	return lineOf, keys, hashes, nil
}

// checkUniqueCases rejects a case given twice: it would be funded twice. A
// map of a million IDs costs more than the rest of the run, so it sorts the
// IDs' hashes (computed by scoreAll in parallel) and looks for equal
// neighbours; only when two hashes agree does it compare the IDs themselves.
func checkUniqueCases(needs []Need, hashes []uint64) error {
	radixSort(hashes)
	for i := 1; i < len(hashes); i++ {
		if hashes[i] == hashes[i-1] {
			return findDuplicateCase(needs)
		}
	}
	return nil
}

// findDuplicateCase names the first repeated case ID, or returns nil when the
// equal hashes were a collision.
func findDuplicateCase(needs []Need) error {
	seen := make(map[string]struct{}, len(needs))
	for i := range needs {
		id := needs[i].CaseID
		if _, dup := seen[id]; dup {
			return minsheng.Invalid("同一案件在本次测算中出现多次",
				map[string]string{fmt.Sprintf("needs[%d].case_id", i): "案件重复：" + id})
		}
		seen[id] = struct{}{}
	}
	return nil
}

// radixSort sorts a in place, least significant byte first, with one scratch
// buffer: eight linear passes beat a comparison sort on a million keys.
func radixSort(a []uint64) {
	buf := make([]uint64, len(a))
	src, dst := a, buf
	for shift := uint(0); shift < 64; shift += 8 {
		var count [257]int
		for _, v := range src {
			count[(v>>shift)&0xff+1]++
		}
		for b := 1; b < 257; b++ {
			count[b] += count[b-1]
		}
		for _, v := range src {
			b := (v >> shift) & 0xff
			dst[count[b]] = v
			count[b]++
		}
		src, dst = dst, src
	}
	// Eight passes: the sorted keys are back in a.
}

// decideLine sorts one line's needs by priority and funds them
// skip-and-continue. keys[i].idx points into pending, the line's needs in
// input order. out has one slot per need: funded decisions are written from
// the front and waitlisted ones from the back, then the back is reversed, so
// both lists are in priority order inside one shared allocation.
func decideLine(ln *Line, keys []sortKey, pending, out []Decision) LineResult {
	slices.SortFunc(keys, func(a, b sortKey) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.sec, b.sec); c != 0 {
			return c
		}
		if c := cmp.Compare(a.nsec, b.nsec); c != 0 {
			return c
		}
		return strings.Compare(pending[a.idx].CaseID, pending[b.idx].CaseID)
	})
	r := LineResult{LineID: ln.ID, AvailableFen: ln.AvailableFen}
	left := ln.AvailableFen
	front, back := 0, len(out)
	for rank, k := range keys {
		d := pending[k.idx]
		d.Rank = rank + 1
		if d.EstimateFen <= left {
			left -= d.EstimateFen
			r.FundedFen += d.EstimateFen
			out[front] = d
			front++
		} else {
			r.WaitlistedFen += d.EstimateFen
			back--
			out[back] = d
		}
	}
	slices.Reverse(out[back:])
	// Full slice expressions: appending to Funded must never overwrite Waitlisted.
	r.Funded = out[:front:front]
	r.Waitlisted = out[back:len(out):len(out)]
	r.RemainingFen = left
	if len(r.Waitlisted) > 0 {
		// Every waitlisted need was bigger than what was left when it came up,
		// and what is left only shrinks, so this is positive.
		r.ShortfallFen = r.WaitlistedFen - left
	}
	return r
}

// suggestAdjustments matches donors to recipients within each sub-district;
// see Run for the rules.
func suggestAdjustments(lines []Line, results []LineResult) []SuggestedAdjustment {
	bySub := map[string][]int{}
	for i := range lines {
		bySub[lines[i].SubDistrictCode] = append(bySub[lines[i].SubDistrictCode], i)
	}
	out := []SuggestedAdjustment{} // [] rather than null in JSON
	for _, sub := range slices.Sorted(maps.Keys(bySub)) {
		donors, recipients := donorsAndRecipients(lines, results, bySub[sub])
		if len(donors) == 0 || len(recipients) == 0 {
			continue
		}
		m := newAdjustMatch(lines, results, donors)
		// Every recipient is offered its own area's money before any
		// recipient gets another area's; the second round offers all that
		// is left, own area first.
		for _, sameAreaOnly := range []bool{true, false} {
			slices.SortFunc(recipients, func(a, b *recipient) int {
				if len(a.waiting) == 0 || len(b.waiting) == 0 {
					return cmp.Compare(len(b.waiting), len(a.waiting))
				}
				if c := cmp.Compare(b.waiting[0].Score, a.waiting[0].Score); c != 0 {
					return c
				}
				return strings.Compare(lines[a.line].ID, lines[b.line].ID)
			})
			for _, r := range recipients {
				m.offer(r, sameAreaOnly)
			}
		}
		out = m.appendMoves(out)
	}
	return out
}

// donorsAndRecipients sorts the lines of one sub-district: the donors
// (money left, nothing waiting, not sanbao), most money first, and the
// recipients (a shortfall).
func donorsAndRecipients(lines []Line, results []LineResult, sub []int) (donors []int, recipients []*recipient) {
	for _, i := range sub {
		r := &results[i]
		switch {
		case r.ShortfallFen > 0:
			// waiting is only ever replaced, never written through, so
			// it may share the result's backing array.
			recipients = append(recipients, &recipient{line: i, remaining: r.RemainingFen, waiting: r.Waitlisted})
		case r.RemainingFen > 0 && len(r.Waitlisted) == 0 && !lines[i].Sanbao:
			donors = append(donors, i)
		}
	}
	slices.SortFunc(donors, func(a, b int) int {
		if c := cmp.Compare(results[b].RemainingFen, results[a].RemainingFen); c != 0 {
			return c
		}
		return strings.Compare(lines[a].ID, lines[b].ID)
	})
	return donors, recipients
}

// linePair is a move's donor and recipient line.
type linePair struct{ from, to int }

// adjustMatch is the matching of donors to recipients in one sub-district.
type adjustMatch struct {
	lines  []Line
	donors []int
	left   map[int]int64 // each donor's money not yet moved
	order  []linePair    // the moves in the order first made
	moves  map[linePair]*SuggestedAdjustment
	from   []int // the donors offered, reused for every recipient
}

func newAdjustMatch(lines []Line, results []LineResult, donors []int) *adjustMatch {
	left := make(map[int]int64, len(donors))
	for _, d := range donors {
		left[d] = results[d].RemainingFen
	}
	return &adjustMatch{lines: lines, donors: donors, left: left, moves: map[linePair]*SuggestedAdjustment{}}
}

// offer offers r the donors' money left, its own area's first (only its
// own area's if sameAreaOnly), and moves what funds its first waiting needs.
func (m *adjustMatch) offer(r *recipient, sameAreaOnly bool) {
	if len(r.waiting) == 0 {
		return
	}
	lines := m.lines
	m.from = m.from[:0]
	var pool int64
	for _, same := range []bool{true, false} {
		if !same && sameAreaOnly {
			break
		}
		for _, d := range m.donors {
			if m.left[d] > 0 && (lines[d].Area == lines[r.line].Area) == same {
				m.from = append(m.from, d)
				pool = min(pool+m.left[d], minsheng.MaxAmountFen*MaxNeeds)
			}
		}
	}
	if len(m.from) == 0 {
		return
	}
	funds, need := r.fund(pool)
	if len(funds) == 0 {
		return // no waiting case fits even with all of it: suggest nothing
	}
	for _, d := range m.from {
		if need == 0 {
			break
		}
		amt := min(m.left[d], need)
		m.left[d] -= amt
		need -= amt
		k := linePair{d, r.line}
		mv := m.moves[k]
		if mv == nil {
			mv = &SuggestedAdjustment{FromLineID: lines[d].ID, ToLineID: lines[r.line].ID}
			m.moves[k] = mv
			m.order = append(m.order, k)
		}
		mv.AmountFen += amt
		mv.FundsCaseIDs = append(mv.FundsCaseIDs, funds...)
	}
}

// appendMoves appends the moves, with their reasons, to out.
func (m *adjustMatch) appendMoves(out []SuggestedAdjustment) []SuggestedAdjustment {
	for _, k := range m.order {
		mv := m.moves[k]
		mv.Reason = "跨领域结余调剂"
		if m.lines[k.from].Area == m.lines[k.to].Area {
			mv.Reason = "同领域结余调剂"
		}
		mv.Reason += fmt.Sprintf("，可资助候补需求 %d 件", len(mv.FundsCaseIDs))
		out = append(out, *mv)
	}
	return out
}

// recipient is a line with a shortfall while adjustments are suggested:
// its money left and the needs still waiting on it, in priority order.
type recipient struct {
	line      int
	remaining int64
	waiting   []Decision
}

// fund spends the line's money plus up to extra on its waiting needs in
// priority order, skipping one that does not fit, as Run does. It returns
// the cases that would be funded and how much of extra that takes, and
// leaves the rest waiting. When nothing fits it changes nothing.
func (r *recipient) fund(extra int64) (funds []string, need int64) {
	budget := r.remaining + extra
	// A first pass without allocating: most offers fund nothing.
	var spent int64
	n := 0
	for _, d := range r.waiting {
		if d.EstimateFen <= budget-spent {
			spent += d.EstimateFen
			n++
		}
	}
	if n == 0 {
		return nil, 0
	}
	funds = make([]string, 0, n)
	still := make([]Decision, 0, len(r.waiting)-n)
	spent = 0
	for _, d := range r.waiting {
		if d.EstimateFen <= budget-spent {
			spent += d.EstimateFen
			funds = append(funds, d.CaseID)
		} else {
			still = append(still, d)
		}
	}
	// Every waiting need is larger than the line's own remaining money
	// (Run waitlisted it), so funding one always takes some of extra.
	need = max(spent-r.remaining, 0)
	r.remaining = max(r.remaining-spent, 0)
	r.waiting = still
	return funds, need
}

// rollUpUnmet sums waitlisted demand by catalog item, as the run left it
// (before any suggested adjustment is approved).
func rollUpUnmet(lines []Line, results []LineResult) []BudgetRequest {
	byItem := map[string]*BudgetRequest{}
	for i := range results {
		r := &results[i]
		if len(r.Waitlisted) == 0 {
			continue
		}
		br := byItem[lines[i].ItemCode]
		if br == nil {
			br = &BudgetRequest{ItemCode: lines[i].ItemCode}
			byItem[lines[i].ItemCode] = br
		}
		br.Cases += len(r.Waitlisted)
		br.DemandFen += r.WaitlistedFen
	}
	out := make([]BudgetRequest, 0, len(byItem))
	for _, item := range slices.Sorted(maps.Keys(byItem)) {
		out = append(out, *byItem[item])
	}
	return out
}

// parallel calls f(0..n-1) on every CPU. Each call must write only its own
// outputs; the order of calls does not matter to the result.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}
