package allocation

import (
	"cmp"
	"slices"
	"strings"
)

// Why a need is short of money (资金不足).
const (
	// ShortWaitlisted: the latest committed run of its sub-district and
	// year waitlisted it (候补) and it still holds no money.
	ShortWaitlisted = "waitlisted"
	// ShortOverAvailable: its estimate exceeds what its line has available
	// now, so no run can fund it from that line without an adjustment.
	ShortOverAvailable = "over_available"
)

// ShortNeed is one need that is short of money, with its reasons.
type ShortNeed struct {
	CaseID       string `json:"case_id"`
	LineID       string `json:"line_id"`
	EstimateFen  int64  `json:"estimate_fen"`
	AvailableFen int64  `json:"available_fen"`
	// GapFen is what the line lacks for this need alone:
	// estimate − available, or 0 when the line could hold it.
	GapFen int64 `json:"gap_fen"`
	// Reasons holds ShortWaitlisted and/or ShortOverAvailable, in that order.
	Reasons []string `json:"reasons"`
}

// Shortfalls picks the needs that are short of money: those whose
// estimate exceeds their line's available money now, and those the latest
// committed run waitlisted (waitlisted maps their case ids to their place
// in its waitlist) that the line still cannot cover. Waitlisted needs take
// their line's available money in waitlist order; one that fits in what
// those ahead of it left was covered since the run (a 调剂 or 调增) and is
// no longer short — the queue follows every ledger change, not only the
// next run. A need whose line is not among lines counts as having none
// available. The result is sorted by gap (largest first), then case id.
func Shortfalls(lines []Line, needs []Need, waitlisted map[string]int) []ShortNeed {
	avail := make(map[string]int64, len(lines))
	for _, l := range lines {
		avail[l.ID] = l.AvailableFen
	}
	covered := coveredSinceRun(avail, needs, waitlisted)
	out := []ShortNeed{}
	for _, n := range needs {
		a := avail[n.LineID]
		var reasons []string
		if _, ok := waitlisted[n.CaseID]; ok && !covered[n.CaseID] {
			reasons = append(reasons, ShortWaitlisted)
		}
		if n.EstimateFen > a {
			reasons = append(reasons, ShortOverAvailable)
		}
		if len(reasons) == 0 {
			continue
		}
		out = append(out, ShortNeed{CaseID: n.CaseID, LineID: n.LineID, EstimateFen: n.EstimateFen, AvailableFen: a,
			GapFen: max(n.EstimateFen-a, 0), Reasons: reasons})
	}
	slices.SortFunc(out, func(a, b ShortNeed) int {
		return cmp.Or(cmp.Compare(b.GapFen, a.GapFen), strings.Compare(a.CaseID, b.CaseID))
	})
	return out
}

// coveredSinceRun returns the waitlisted needs their lines can hold now,
// giving each line's available money to its waitlisted needs in waitlist
// order (case id among equals) while it lasts.
func coveredSinceRun(avail map[string]int64, needs []Need, waitlisted map[string]int) map[string]bool {
	var queue []Need
	for _, n := range needs {
		if _, ok := waitlisted[n.CaseID]; ok {
			queue = append(queue, n)
		}
	}
	slices.SortFunc(queue, func(a, b Need) int {
		return cmp.Or(cmp.Compare(waitlisted[a.CaseID], waitlisted[b.CaseID]), strings.Compare(a.CaseID, b.CaseID))
	})
	left := make(map[string]int64, len(avail))
	for id, a := range avail {
		left[id] = a
	}
	covered := map[string]bool{}
	for _, n := range queue {
		if n.EstimateFen <= left[n.LineID] {
			covered[n.CaseID] = true
			left[n.LineID] -= n.EstimateFen
		}
	}
	return covered
}
