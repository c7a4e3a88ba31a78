package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"minsheng"
	"minsheng/budgetlink"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/org"
)

// BulkOptions tune SeedCases. Zero fields take the defaults.
type BulkOptions struct {
	// Cases is how many cases to generate (required, at most MaxBulkCases).
	Cases int
	// SubDistricts is how many sub-districts, in the district's order, get
	// them (default 3, at most 15).
	SubDistricts int
	// Seed makes the cases: the same seed, the same cases. Default 1.
	Seed uint64
	// Now is the moment they are generated "as of"; default time.Now().
	Now time.Time
}

// MaxBulkCases bounds one SeedCases call.
const MaxBulkCases = 1_000_000

// BulkReport is what SeedCases made.
type BulkReport struct {
	Cases        int            `json:"cases"`
	Lines        int            `json:"lines"`
	SubDistricts []string       `json:"sub_districts"`
	FiscalYear   int            `json:"fiscal_year"`
	ByStatus     map[string]int `json:"by_status"`
	Duration     time.Duration  `json:"duration"`
}

// bulkStatuses is how the generated cases are spread over the states, in
// per cent: most are closed, as in a year's real queue.
var bulkStatuses = []struct {
	status cases.Status
	pct    int
}{
	{cases.StatusSubmitted, 5}, {cases.StatusRejected, 4}, {cases.StatusAccepted, 6}, {cases.StatusAssigned, 8},
	{cases.StatusAssessed, 12}, {cases.StatusInProgress, 12}, {cases.StatusCompleted, 8}, {cases.StatusClosed, 40},
	{cases.StatusCancelled, 5},
}

// bulkChunk is how many cases are validated and imported per Import call.
const bulkChunk = 2000

// SeedCases generates plain cases for scale tests and benchmarks, and a
// budget line in each chosen sub-district for every item they use. The
// cases are inserted in batches through cases.Service.Import, not one
// request each; they carry no photos and no money, so the ledger stays
// consistent. It may run on a store that holds data: it only adds.
func SeedCases(ctx context.Context, env Env, opts BulkOptions) (*BulkReport, error) {
	started := time.Now()
	if opts.Cases < 1 || opts.Cases > MaxBulkCases {
		return nil, minsheng.Invalid("参数有误", map[string]string{"cases": fmt.Sprintf("须在 1 到 %d 之间", MaxBulkCases)})
	}
	all := env.Org.District().SubDistricts
	if opts.SubDistricts == 0 {
		opts.SubDistricts = 3
	}
	if opts.SubDistricts < 1 || opts.SubDistricts > len(all) {
		return nil, minsheng.Invalid("参数有误", map[string]string{"sub_districts": fmt.Sprintf("须在 1 到 %d 之间", len(all))})
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	year, end := fiscalYear(opts.Now)
	start := time.Date(year, 1, 4, 9, 0, 0, 0, zone)
	if end.Sub(start) < 30*day {
		start = end.Add(-30 * day)
	}
	subs := all[:opts.SubDistricts]
	rep := &BulkReport{FiscalYear: year, ByStatus: map[string]int{}}
	admin := auth.Principal{UserID: "minsheng-seed", Name: "批量生成", Role: auth.RoleAdmin}

	clk := &clock{}
	clk.set(end)
	svc := newServices(env, clk)
	cat, err := svc.budget.Catalog(year)
	if err != nil {
		return nil, err
	}
	var pool []*template
	for _, area := range []string{"SQ", "CG", "MS", "PA", "DQ", "ZH"} {
		pool = append(pool, templates[area]...)
	}
	pool = append(pool, tplElevator)
	for _, sd := range subs {
		rep.SubDistricts = append(rep.SubDistricts, sd.Code)
		seen := map[string]bool{}
		for _, t := range pool {
			if !t.costs() || seen[t.item] {
				continue
			}
			seen[t.item] = true
			item, _ := cat.Item(t.item)
			_, err := svc.budget.CreateLine(ctx, admin, budgetlink.NewLine{FiscalYear: year, SubDistrict: sd.Code, ItemCode: t.item,
				ProjectName: fmt.Sprintf("%d年%s%s（规模测试）", year, sd.Name, item.Name), ApprovedFen: 1_000_000 * yuan})
			switch {
			case minsheng.ErrorCode(err) == minsheng.ECONFLICT: // made by an earlier run
			case err != nil:
				return nil, err
			default:
				rep.Lines++
			}
		}
	}

	r := rand.New(rand.NewPCG(opts.Seed, 0xb01c))
	var comms []org.Community
	for _, sd := range subs {
		comms = append(comms, sd.Communities...)
	}
	window := int64(end.Add(-2 * day).Sub(start))
	batch := make([]cases.ImportCase, 0, bulkChunk)
	flush := func() error {
		n, err := svc.cases.Import(ctx, admin, batch)
		rep.Cases += n
		batch = batch[:0]
		return err
	}
	for range opts.Cases {
		t := pool[r.IntN(len(pool))]
		comm := comms[r.IntN(len(comms))]
		st := cases.StatusClosed
		for n, i := r.IntN(100), 0; i < len(bulkStatuses); i++ {
			if n < bulkStatuses[i].pct {
				st = bulkStatuses[i].status
				break
			}
			n -= bulkStatuses[i].pct
		}
		place := fmt.Sprintf("%d号院", 1+r.IntN(60))
		title := t.titles[r.IntN(len(t.titles))]
		if strings.Contains(title, "%s") {
			title = fmt.Sprintf(title, place)
		}
		hh := t.households[0] + r.IntN(t.households[1]-t.households[0]+1)
		est := int64(0)
		if t.costs() {
			est = (t.estYuan[0] + r.Int64N(t.estYuan[1]-t.estYuan[0]+1)) * yuan
		}
		item, _ := cat.Item(t.item)
		in := cases.ImportCase{
			NewCase: cases.NewCase{Area: t.area, Title: title, Description: t.desc, Community: comm.Code,
				Address: comm.Name + place, Households: hh},
			FiledAt: start.Add(time.Duration(r.Int64N(window))), Status: st,
			StepGap:     time.Duration(4+r.IntN(40)) * time.Hour,
			CatalogItem: t.item, SLADays: item.SLADays,
			AssignedName:  comm.Name + "社区干部",
			Assessment:    &cases.Assessment{EstimateFen: est, Households: hh, Risk: t.risk},
			ActualCostFen: est * int64(85+r.IntN(20)) / 100,
		}
		if r.IntN(10) < 3 {
			in.Verdict = cases.VerdictBasicallySatisfied
		}
		batch = append(batch, in)
		rep.ByStatus[string(st)]++
		if len(batch) == bulkChunk {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return rep, err
		}
	}
	rep.Duration = time.Since(started).Round(time.Millisecond)
	return rep, nil
}
