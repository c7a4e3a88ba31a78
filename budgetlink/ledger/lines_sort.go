package ledger

// The console's 预算项目 list is a district's lines of a year (about 260 in
// the demo, a few thousand in a real district), grouped by sub-district and
// sorted by any column. The list is paged, so the order is the server's:
// every page of one order continues the previous one.

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/page"
)

// LineSortKeys are the columns a line list sorts by: its sub-district (in
// the district's order), project name, catalog item, the money figures and
// the execution rate (spent ÷ budget).
var LineSortKeys = []string{"sub_district", "project_name", "item_code", "approved_fen", "adjusted_fen",
	"budget_fen", "committed_fen", "spent_fen", "available_fen", "execution"}

// maxSortKeys bounds a sort spec: grouping plus two columns is plenty.
const maxSortKeys = 3

// ParseLineSort reads a sort spec — comma-separated LineSortKeys, each
// optionally prefixed by "-" for descending: "sub_district,-spent_fen".
// EINVALID (field "sort") names what it does not know.
func ParseLineSort(spec string) ([]string, error) {
	if spec == "" {
		return nil, nil
	}
	keys := strings.Split(spec, ",")
	bad := func(msg string) error { return minsheng.Invalid("排序条件无效", map[string]string{"sort": msg}) }
	if len(keys) > maxSortKeys {
		return nil, bad(fmt.Sprintf("最多按 %d 列排序", maxSortKeys))
	}
	seen := map[string]bool{}
	for _, k := range keys {
		name := strings.TrimPrefix(k, "-")
		if !slices.Contains(LineSortKeys, name) {
			return nil, bad(fmt.Sprintf("不能按「%s」排序，可选：%s（前加 - 为降序）", k, strings.Join(LineSortKeys, "、")))
		}
		if seen[name] {
			return nil, bad("「" + name + "」重复")
		}
		seen[name] = true
	}
	return keys, nil
}

// sortedLines is Lines with f.Sort: every matching line read (projected to
// its figures), ordered in Go, and paged by offset. Ties fall back to
// sub-district, item, project name and id, so the order is total and pages
// neither repeat nor skip a line.
func (s *Service) sortedLines(ctx context.Context, f LineFilter) ([]*BudgetLine, string, error) {
	list := "budget-lines-sorted:" + strings.Join(f.Sort, ",")
	at, limit, err := page.Read(list, f.Cursor, f.Limit)
	if err != nil {
		return nil, "", err
	}
	q := lineQuery(f.FiscalYear, f.SubDistrict)
	if f.ItemCode != "" {
		q["item_code"] = f.ItemCode
	}
	var all []*BudgetLine
	opts := options.Find().SetProjection(lineListFields())
	if err := s.lines.FindAll(ctx, q, &all, opts); err != nil {
		return nil, "", fmt.Errorf("budgetlink: unable to list lines: %w", err)
	}
	rank := map[string]int{}
	for i, sd := range s.org.District().SubDistricts {
		rank[sd.Code] = i
	}
	slices.SortFunc(all, func(a, b *BudgetLine) int {
		for _, k := range append(append([]string{}, f.Sort...), "sub_district", "item_code", "project_name") {
			desc := strings.HasPrefix(k, "-")
			c := compareLines(a, b, strings.TrimPrefix(k, "-"), rank)
			if desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return strings.Compare(a.ID, b.ID)
	})
	if at.Offset >= len(all) {
		return []*BudgetLine{}, "", nil
	}
	out := all[at.Offset:]
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = page.Encode(list, page.Cursor{Offset: at.Offset + limit})
	}
	return out, next, nil
}

// compareLines orders two lines by one sort key.
func compareLines(a, b *BudgetLine, key string, rank map[string]int) int {
	switch key {
	case "sub_district":
		ra, oka := rank[a.SubDistrict]
		rb, okb := rank[b.SubDistrict]
		if oka && okb {
			return cmp.Compare(ra, rb)
		}
		return strings.Compare(a.SubDistrict, b.SubDistrict)
	case "project_name":
		return strings.Compare(a.ProjectName, b.ProjectName)
	case "item_code":
		return strings.Compare(a.ItemCode, b.ItemCode)
	case "approved_fen":
		return cmp.Compare(a.ApprovedFen, b.ApprovedFen)
	case "adjusted_fen":
		return cmp.Compare(a.AdjustedFen, b.AdjustedFen)
	case "budget_fen":
		return cmp.Compare(a.BudgetFen(), b.BudgetFen())
	case "committed_fen":
		return cmp.Compare(a.CommittedFen, b.CommittedFen)
	case "spent_fen":
		return cmp.Compare(a.SpentFen, b.SpentFen)
	case "available_fen":
		return cmp.Compare(a.AvailableFen, b.AvailableFen)
	case "execution":
		return cmp.Compare(executionPermyriad(a), executionPermyriad(b))
	}
	return 0
}

// executionPermyriad is spent ÷ budget in units of 0.01 %, 0 without a
// budget; integer arithmetic (spent and budget are at most MaxAmountFen,
// so spent × 10,000 stays within int64).
func executionPermyriad(l *BudgetLine) int64 {
	b := l.BudgetFen()
	if b <= 0 {
		return 0
	}
	return l.SpentFen * 10_000 / b
}
