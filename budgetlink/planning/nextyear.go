package planning

import (
	"cmp"
	"math"
	"slices"

	"minsheng/budgetlink/allocation"
)

// withUnplaced adds to next year's requests the demand that has no line at
// all this year (unplaced needs): the clearest case for a new line, which
// the engine, seeing only lines, cannot count. The result stays sorted by
// item code; a sum that would overflow int64 stays at the largest value
// rather than wrapping negative.
func withUnplaced(reqs []allocation.BudgetRequest, unplaced []Unplaced) []allocation.BudgetRequest {
	if len(unplaced) == 0 {
		return reqs
	}
	out := slices.Clone(reqs)
	at := make(map[string]int, len(out))
	for i, r := range out {
		at[r.ItemCode] = i
	}
	for _, u := range unplaced {
		i, ok := at[u.ItemCode]
		if !ok {
			out = append(out, allocation.BudgetRequest{ItemCode: u.ItemCode})
			i = len(out) - 1
			at[u.ItemCode] = i
		}
		out[i].Cases++
		if u.EstimateFen > math.MaxInt64-out[i].DemandFen {
			out[i].DemandFen = math.MaxInt64
		} else {
			out[i].DemandFen += u.EstimateFen
		}
	}
	slices.SortFunc(out, func(a, b allocation.BudgetRequest) int { return cmp.Compare(a.ItemCode, b.ItemCode) })
	return out
}
