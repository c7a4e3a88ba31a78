package planning

import (
	"context"
	"testing"
	"time"

	"minsheng/budgetlink"
	"minsheng/budgetlink/ledger"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/org"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// asOf is the clock of every test: 27 November 2026, 17:00 in Beijing.
var asOf = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

const (
	sub        = "xinjiekou"
	comm1      = "xinjiekou-xilierqu"
	comm2      = "xinjiekou-xiliyiqu"
	otherSub   = "desheng"
	itemToilet = "SQ-05-04" // 旱厕改造, 社区建设, not 三保
	itemRelief = "MS-01-03" // 临时救助, 民生保障, 三保
	itemWaste  = "CG-01-02" // 大件垃圾清运处置: no line in the tests
)

var (
	finance = auth.Principal{UserID: "u-finance", Name: "区财政", Role: auth.RoleFinance}
	staff   = auth.Principal{UserID: "u-staff", Name: "新街口街道", Role: auth.RoleSubdistrict, SubDistrict: sub}
	outside = auth.Principal{UserID: "u-other", Name: "德胜街道", Role: auth.RoleSubdistrict, SubDistrict: otherSub}
	cadre   = auth.Principal{UserID: "u-cadre", Name: "社区干部", Role: auth.RoleCadre, SubDistrict: sub, Community: comm1}
	citizen = auth.Principal{UserID: "u-res", Name: "居民", Role: auth.RoleResident}
)

type env struct {
	st     *store.Store
	ledger *budgetlink.Service
	cases  *cases.Service
	svc    *Service
	n      int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := storetest.New(t)
	ctx := context.Background()
	for _, idx := range [][]store.Index{budgetlink.Indexes, cases.Indexes, Indexes} {
		if err := st.EnsureIndexes(ctx, idx); err != nil {
			t.Fatal(err)
		}
	}
	now := func() time.Time { return asOf }
	dir := org.Xicheng()
	ledger := budgetlink.NewService(st, budgetlink.Config{Org: dir, Logger: storetest.Logger(), Now: now})
	cs := cases.NewService(st, dir, nil, cases.Config{Now: now, Logger: storetest.Logger()})
	ledger.SetCases(cs)
	return &env{st: st, ledger: ledger, cases: cs, svc: NewService(st, ledger, cs, Config{Org: dir, Logger: storetest.Logger(), Now: now})}
}

// line creates a line of sub for 2026.
func (e *env) line(t *testing.T, subDistrict, item, name string, approvedFen int64) *ledger.BudgetLine {
	t.Helper()
	l, err := e.ledger.CreateLine(context.Background(), finance, ledger.NewLine{FiscalYear: 2026, SubDistrict: subDistrict, ItemCode: item, ProjectName: name, ApprovedFen: approvedFen})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// addCase stores a case as the cases service would have left it; the
// lifecycle itself is the cases package's business and tested there.
func (e *env) addCase(t *testing.T, c cases.Case) *cases.Case {
	t.Helper()
	e.n++
	if c.Number == "" {
		c.Number = "XC2026-" + string(rune('A'+e.n/26)) + string(rune('a'+e.n%26))
	}
	if c.Location.SubDistrict == "" {
		c.Location.SubDistrict = sub
	}
	if c.Location.Community == "" {
		c.Location.Community = comm1
	}
	if c.Status == "" {
		c.Status = cases.StatusAssessed
	}
	// As the service records them: the response deadline 24 h after
	// filing; answered when accepted, and a rejection or merge (always
	// with a reason) answered within the hour unless the test says when.
	if c.ResponseDueAt.IsZero() {
		c.ResponseDueAt = c.FiledAt.Add(24 * time.Hour)
	}
	if c.RespondedAt == nil && c.AcceptedAt != nil {
		c.RespondedAt = c.AcceptedAt
	}
	if c.RespondedAt == nil && (c.Status == cases.StatusMerged || c.Status == cases.StatusRejected) {
		answered := c.FiledAt.Add(time.Hour)
		c.RespondedAt = &answered
	}
	if c.Area == "" && len(c.CatalogItem) >= 2 {
		c.Area = c.CatalogItem[:2]
	}
	if c.Title == "" {
		c.Title = "诉求 " + c.ID
	}
	c.Timeline, c.Photos = []cases.Event{}, []cases.Photo{}
	if c.Cosigners == nil {
		c.Cosigners = []string{}
	}
	if err := e.st.Collection("cases").InsertOne(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	e.repairSummaries(t)
	return &c
}

func daysAgo(d int) time.Time { return asOf.Add(-time.Duration(d) * 24 * time.Hour) }

func ptr[T any](v T) *T { return &v }

// vulnerable records elderly and disabled residents on an assessment.
func vulnerable(a *cases.Assessment, elderly, disabled int) *cases.Assessment {
	a.Elderly, a.Disabled = elderly, disabled
	return a
}

func assess(estimateFen int64, households, risk int) *cases.Assessment {
	return &cases.Assessment{EstimateFen: estimateFen, Households: households, Risk: risk}
}

// repairSummaries rebuilds the queue summaries of cases stored or changed
// raw by a test, as `minsheng check` would.
func (e *env) repairSummaries(t *testing.T) {
	t.Helper()
	if _, err := e.cases.RepairSummaries(context.Background()); err != nil {
		t.Fatal(err)
	}
}
