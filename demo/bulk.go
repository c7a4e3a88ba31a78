package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"minsheng"
	"minsheng/budgetlink/catalog"
	"minsheng/budgetlink/ledger"
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
	subs, err := bulkSubDistricts(env, &opts)
	if err != nil {
		return nil, err
	}
	year, end := fiscalYear(opts.Now)
	start := time.Date(year, 1, 4, 9, 0, 0, 0, zone)
	if end.Sub(start) < 30*day {
		start = end.Add(-30 * day)
	}
	rep := &BulkReport{FiscalYear: year, ByStatus: map[string]int{}}
	admin := auth.Principal{UserID: "minsheng-seed", Name: "批量生成", Role: auth.RoleAdmin}

	clk := &clock{}
	clk.set(end)
	svc := newServices(env, clk)
	cat, err := svc.budget.Catalog(year)
	if err != nil {
		return nil, err
	}
	pool := bulkPool()
	if err := bulkLines(ctx, svc, admin, cat, pool, subs, year, rep); err != nil {
		return nil, err
	}

	g := &bulkGen{r: rand.New(rand.NewPCG(opts.Seed, 0xb01c)), pool: pool, cat: cat, start: start,
		window: int64(end.Add(-2 * day).Sub(start))}
	for _, sd := range subs {
		g.comms = append(g.comms, sd.Communities...)
	}
	batch := make([]cases.ImportCase, 0, bulkChunk)
	flush := func() error {
		n, err := svc.cases.Import(ctx, admin, batch)
		rep.Cases += n
		batch = batch[:0]
		return err
	}
	for range opts.Cases {
		in := g.next()
		batch = append(batch, in)
		rep.ByStatus[string(in.Status)]++
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

// bulkSubDistricts checks opts, filling in the defaults, and returns the
// sub-districts that get the cases.
func bulkSubDistricts(env Env, opts *BulkOptions) ([]org.SubDistrict, error) {
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
	return all[:opts.SubDistricts], nil
}

// bulkPool is the templates the generated cases are drawn from.
func bulkPool() []*template {
	var pool []*template
	for _, area := range []string{"SQ", "CG", "MS", "PA", "DQ", "ZH"} {
		pool = append(pool, templates[area]...)
	}
	return append(pool, tplElevator)
}

// bulkLines creates a line in each sub-district for every item of the
// pool that costs money, counting in rep those not made by an earlier run.
func bulkLines(ctx context.Context, svc services, admin auth.Principal, cat *catalog.Catalog, pool []*template, subs []org.SubDistrict, year int, rep *BulkReport) error {
	for _, sd := range subs {
		rep.SubDistricts = append(rep.SubDistricts, sd.Code)
		seen := map[string]bool{}
		for _, t := range pool {
			if !t.costs() || seen[t.item] {
				continue
			}
			seen[t.item] = true
			item, _ := cat.Item(t.item)
			_, err := svc.budget.CreateLine(ctx, admin, ledger.NewLine{FiscalYear: year, SubDistrict: sd.Code, ItemCode: t.item,
				ProjectName: fmt.Sprintf("%d年%s%s（规模测试）", year, sd.Name, item.Name), ApprovedFen: 1_000_000 * yuan})
			switch {
			case minsheng.ErrorCode(err) == minsheng.ECONFLICT: // made by an earlier run
			case err != nil:
				return err
			default:
				rep.Lines++
			}
		}
	}
	return nil
}

// bulkGen generates the cases of SeedCases from its random source: the
// same seed, the same cases, as long as r is drawn from in the same order.
type bulkGen struct {
	r      *rand.Rand
	pool   []*template
	comms  []org.Community
	cat    *catalog.Catalog
	start  time.Time
	window int64 // the span filing times are drawn from, after start
}

// next generates one case.
func (g *bulkGen) next() cases.ImportCase {
	r := g.r
	t := g.pool[r.IntN(len(g.pool))]
	comm := g.comms[r.IntN(len(g.comms))]
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
	item, _ := g.cat.Item(t.item)
	in := cases.ImportCase{
		NewCase: cases.NewCase{Area: t.area, Title: title, Description: t.desc, Community: comm.Code,
			Address: comm.Name + place, Households: hh},
		FiledAt: g.start.Add(time.Duration(r.Int64N(g.window))), Status: st,
		StepGap:     time.Duration(4+r.IntN(40)) * time.Hour,
		CatalogItem: t.item, SLADays: item.SLADays,
		AssignedName:  comm.Name + "社区干部",
		Assessment:    &cases.Assessment{EstimateFen: est, Households: hh, Risk: t.risk},
		ActualCostFen: est * int64(85+r.IntN(20)) / 100,
	}
	if r.IntN(10) < 3 {
		in.Verdict = cases.VerdictBasicallySatisfied
	}
	return in
}
