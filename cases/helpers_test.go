package cases_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/media"
	"minsheng/internal/org"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// Scopes used throughout: two communities of one sub-district and one of
// another.
const (
	subA   = "xichanganjie"
	commA  = "xichanganjie-liubukou"
	commA2 = "xichanganjie-hepingmen"
	subB   = "xinjiekou"
	commB  = "xinjiekou-yude"
)

var (
	resident    = auth.Principal{UserID: "res-1", Name: "张三", Role: auth.RoleResident}
	neighbour   = auth.Principal{UserID: "res-2", Name: "李四", Role: auth.RoleResident}
	stranger    = auth.Principal{UserID: "res-3", Name: "王五", Role: auth.RoleResident}
	anonymous   = auth.Principal{}
	cadre       = auth.Principal{UserID: "cadre-a", Name: "赵干部", Role: auth.RoleCadre, SubDistrict: subA, Community: commA}
	cadreNext   = auth.Principal{UserID: "cadre-a2", Name: "钱干部", Role: auth.RoleCadre, SubDistrict: subA, Community: commA2}
	cadreFar    = auth.Principal{UserID: "cadre-b", Name: "孙干部", Role: auth.RoleCadre, SubDistrict: subB, Community: commB}
	staff       = auth.Principal{UserID: "staff-a", Name: "周科员", Role: auth.RoleSubdistrict, SubDistrict: subA}
	staffFar    = auth.Principal{UserID: "staff-b", Name: "吴科员", Role: auth.RoleSubdistrict, SubDistrict: subB}
	finance     = auth.Principal{UserID: "fin-1", Name: "郑财政", Role: auth.RoleFinance}
	admin       = auth.Principal{UserID: "admin", Name: "管理员", Role: auth.RoleAdmin}
	principalBy = map[string]auth.Principal{
		"resident": resident, "neighbour": neighbour, "stranger": stranger, "anonymous": anonymous,
		"cadre": cadre, "cadreNext": cadreNext, "cadreFar": cadreFar, "staff": staff, "staffFar": staffFar,
		"finance": finance, "admin": admin,
	}
)

const phone = "13812345678"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// users is the UserLookup Assign consults.
type users map[string]auth.User

func (u users) FindUserByID(_ context.Context, id string) (auth.User, error) {
	if x, ok := u[id]; ok {
		return x, nil
	}
	return auth.User{}, minsheng.ErrNotFound
}

// money records the effects, once per effect id as budgetlink applies them,
// and refuses or fails when told to.
type money struct {
	mu        sync.Mutex
	applied   map[string]bool
	completed []int64
	cancelled []string
	// refuse refuses completions in the pre-check; refuseApply refuses an
	// effect when it is applied; fail fails applying it as a store would.
	refuse, refuseApply, fail error
}

func (m *money) CanComplete(_ context.Context, _ *cases.Case, _ int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.refuse
}

func (m *money) ApplyEffect(_ context.Context, _ auth.Principal, c *cases.Case, e cases.MoneyEffect) (*cases.BudgetLink, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, "", m.fail
	}
	if m.refuseApply != nil {
		return nil, "", m.refuseApply
	}
	if m.applied == nil {
		m.applied = map[string]bool{}
	}
	if m.applied[e.ID] {
		return nil, "", nil
	}
	m.applied[e.ID] = true
	switch e.Kind {
	case cases.EffectSpend:
		m.completed = append(m.completed, e.ActualCostFen)
		return nil, "", nil
	case cases.EffectRelease:
		m.cancelled = append(m.cancelled, c.ID)
		return nil, "", nil
	}
	return nil, "", nil
}

type env struct {
	svc    *cases.Service
	clock  *clock
	photos *media.Local
	money  *money
}

func newEnv(t *testing.T, tweak ...func(*cases.Config)) env {
	t.Helper()
	return newEnvOn(t, storetest.New(t), tweak...)
}

// newEnvOn is newEnv on a given store.
func newEnvOn(t *testing.T, st *store.Store, tweak ...func(*cases.Config)) env {
	t.Helper()
	ctx := context.Background()
	if err := st.EnsureIndexes(ctx, cases.Indexes); err != nil {
		t.Fatal(err)
	}
	photos, err := media.NewLocal(t.TempDir(), []byte(strings.Repeat("k", 32)), "/media")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)}
	cfg := cases.Config{
		Now: c.Now,
		Users: users{
			cadre.UserID:     {ID: cadre.UserID, Name: cadre.Name, Role: auth.RoleCadre, SubDistrict: subA, Community: commA},
			cadreNext.UserID: {ID: cadreNext.UserID, Name: cadreNext.Name, Role: auth.RoleCadre, SubDistrict: subA, Community: commA2},
			staff.UserID:     {ID: staff.UserID, Name: staff.Name, Role: auth.RoleSubdistrict, SubDistrict: subA},
			resident.UserID:  {ID: resident.UserID, Name: resident.Name, Role: auth.RoleResident},
			"res-disabled":   {ID: "res-disabled", Name: "停用", Role: auth.RoleResident, Disabled: true},
		},
		Logger: storetest.Logger(),
	}
	for _, f := range tweak {
		f(&cfg)
	}
	svc := cases.NewService(st, org.Xicheng(), photos, cfg)
	m := &money{}
	svc.SetMoneyEffects(m)
	return env{svc: svc, clock: c, photos: photos, money: m}
}

// input is a valid filing in community A.
func input() cases.NewCase {
	return cases.NewCase{
		Area:         cases.AreaUrban,
		Title:        "3号楼楼道灯不亮",
		Description:  "西交民巷3号楼二单元楼道灯坏了一个月，老人晚上上下楼很危险。",
		Community:    commA,
		Address:      "六部口3号楼二单元",
		ContactName:  "张三",
		ContactPhone: phone,
		Households:   12,
		// Public, so that other residents may co-sign it (Cosign refuses
		// another's 不公开 case); tests of 不公开 cases say so.
		Public: true,
	}
}

func (e env) submit(t *testing.T, p auth.Principal, in cases.NewCase) *cases.Case {
	t.Helper()
	c, _, err := e.svc.Submit(context.Background(), p, in)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return c
}

// to drives a new case filed by resident to the given status through the
// normal path and returns it as stored.
func (e env) to(t *testing.T, want cases.Status) *cases.Case {
	t.Helper()
	ctx := context.Background()
	c := e.submit(t, resident, input())
	path := []struct {
		status cases.Status
		do     func(c *cases.Case) (*cases.Case, error)
	}{
		{cases.StatusAccepted, func(c *cases.Case) (*cases.Case, error) { return e.svc.Accept(ctx, staff, c.ID, c.Version, "") }},
		{cases.StatusAssigned, func(c *cases.Case) (*cases.Case, error) {
			return e.svc.Assign(ctx, staff, c.ID, c.Version, cadre.UserID, "")
		}},
		{cases.StatusAssessed, func(c *cases.Case) (*cases.Case, error) {
			return e.svc.Assess(ctx, cadre, c.ID, c.Version, cases.Assessment{EstimateFen: 50000, Households: 12, Risk: 2})
		}},
		{cases.StatusInProgress, func(c *cases.Case) (*cases.Case, error) { return e.svc.Start(ctx, cadre, c.ID, c.Version, "") }},
		{cases.StatusCompleted, func(c *cases.Case) (*cases.Case, error) {
			if _, err := e.svc.AddPhoto(ctx, cadre, c.ID, cases.TagAfter, bytesReader(jpeg(t))); err != nil {
				return nil, err
			}
			return e.svc.Complete(ctx, cadre, c.ID, c.Version, 48000, "已更换灯泡")
		}},
		{cases.StatusClosed, func(c *cases.Case) (*cases.Case, error) {
			return e.svc.RecordVerdict(ctx, resident, cases.CaseRef{ID: c.ID}, c.Version, cases.Rating{Verdict: cases.VerdictSatisfied})
		}},
	}
	for _, st := range path {
		if c.Status == want {
			break
		}
		var err error
		if c, err = st.do(c); err != nil {
			t.Fatalf("to %s: %v", st.status, err)
		}
		if got := c.Status; got != st.status {
			t.Fatalf("to %s: status = %s", st.status, got)
		}
	}
	if c.Status != want {
		t.Fatalf("cannot drive a case to %s", want)
	}
	stored, err := e.svc.FindByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

// wantCode fails unless err carries the code.
func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := minsheng.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

func isCode(err error, code string) bool {
	var e *minsheng.Error
	return errors.As(err, &e) && e.Code == code
}
