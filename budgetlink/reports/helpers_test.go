package reports

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"minsheng"
	"minsheng/budgetlink/ledger"
	"minsheng/cases"
	"minsheng/cases/casestest"
	"minsheng/internal/auth"
	"minsheng/internal/media"
	"minsheng/internal/org"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var (
	finance   = auth.Principal{UserID: "u-finance", Name: "财政局王科长", Role: auth.RoleFinance}
	xjkStaff  = auth.Principal{UserID: "u-xjk", Name: "新街口街道李", Role: auth.RoleSubdistrict, SubDistrict: "xinjiekou"}
	dsStaff   = auth.Principal{UserID: "u-ds", Name: "德胜街道赵", Role: auth.RoleSubdistrict, SubDistrict: "desheng"}
	cadre     = auth.Principal{UserID: "u-cadre", Name: "社区干部", Role: auth.RoleCadre, SubDistrict: "xinjiekou", Community: "xinjiekou-yude"}
	resident  = auth.Principal{UserID: "u-res", Name: "居民", Role: auth.RoleResident}
	bulkyItem = "CG-01-02" // 大件垃圾清运处置

	filer     = auth.Principal{UserID: "u-filer", Name: "张大爷", Role: auth.RoleResident}
	xjkCadre  = auth.Principal{UserID: "u-xjk-cadre", Name: "育德社区刘", Role: auth.RoleCadre, SubDistrict: "xinjiekou", Community: "xinjiekou-yude"}
	dsCadre   = auth.Principal{UserID: "u-ds-cadre", Name: "德胜社区陈", Role: auth.RoleCadre, SubDistrict: "desheng", Community: "desheng-deshengli"}
	caseUsers = staffUsers{
		xjkCadre.UserID: {ID: xjkCadre.UserID, Name: xjkCadre.Name, Role: auth.RoleCadre, SubDistrict: "xinjiekou", Community: "xinjiekou-yude"},
		dsCadre.UserID:  {ID: dsCadre.UserID, Name: dsCadre.Name, Role: auth.RoleCadre, SubDistrict: "desheng", Community: "desheng-deshengli"},
	}
)

type staffUsers map[string]auth.User

func (u staffUsers) FindUserByID(_ context.Context, id string) (auth.User, error) {
	if x, ok := u[id]; ok {
		return x, nil
	}
	return auth.User{}, minsheng.ErrNotFound
}

// service is a ledger with its reports, on the store st.
type service struct {
	*ledger.Service
	*Reporter
	st *store.Store
}

func serviceOn(st *store.Store, cfg ledger.Config) service {
	l := ledger.NewService(st, cfg)
	return service{Service: l, Reporter: New(l), st: st}
}

// newService returns a ledger and its reports on a fresh database with its
// indexes.
func newService(t testing.TB) service {
	t.Helper()
	st := storetest.New(t)
	if err := st.EnsureIndexes(context.Background(), ledger.Indexes); err != nil {
		t.Fatal(err)
	}
	return serviceOn(st, ledger.Config{Logger: storetest.Logger()})
}

// lineMaker is the ledger, alone or with its reports.
type lineMaker interface {
	CreateLine(context.Context, auth.Principal, ledger.NewLine) (*ledger.BudgetLine, error)
	FindLineByID(context.Context, string) (*ledger.BudgetLine, error)
}

func mustLine(t testing.TB, s lineMaker, sub, item, name string, approved int64) *ledger.BudgetLine {
	t.Helper()
	l, err := s.CreateLine(context.Background(), finance, ledger.NewLine{FiscalYear: 2026, SubDistrict: sub, ItemCode: item, ProjectName: name, ApprovedFen: approved})
	if err != nil {
		t.Fatalf("create line %s: %v", name, err)
	}
	return l
}

func mustGet(t *testing.T, s lineMaker, id string) *ledger.BudgetLine {
	t.Helper()
	l, err := s.FindLineByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// completions numbers the effects complete makes, in order.
var completions atomic.Int64

// complete spends fen on caseID's reservation the way production does: the
// check before a completion (CanComplete), then the money effect of the
// case's completion (cases.EffectSpend).
func complete(ctx context.Context, s service, p auth.Principal, caseID string, fen int64) (ledger.Reservation, error) {
	c := &cases.Case{ID: caseID}
	if err := s.CanComplete(ctx, c, fen); err != nil {
		return ledger.Reservation{}, err
	}
	id := fmt.Sprintf("TR-%012d-test", completions.Add(1))
	_, _, err := s.ApplyEffect(ctx, p, c, cases.MoneyEffect{ID: id, Kind: cases.EffectSpend, ActualCostFen: fen})
	return ledger.Reservation{}, err
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := minsheng.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// linked is a ledger and its reports wired to a real cases service on the
// same database.
type linked struct {
	service
	cs *cases.Service
}

func newLinked(t *testing.T) linked {
	t.Helper()
	return newLinkedOn(t, storetest.New(t))
}

// newLinkedOn wires the ledger, its reports and the cases service on st.
func newLinkedOn(t testing.TB, st *store.Store) linked {
	t.Helper()
	ctx := context.Background()
	if err := st.EnsureIndexes(ctx, append(append([]store.Index{}, ledger.Indexes...), cases.Indexes...)); err != nil {
		t.Fatal(err)
	}
	photos, err := media.NewLocal(t.TempDir(), []byte(strings.Repeat("k", 32)), "/media")
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC) }
	cs := cases.NewService(st, org.Xicheng(), photos, cases.Config{Now: now, Users: caseUsers, Logger: storetest.Logger()})
	s := serviceOn(st, ledger.Config{Logger: storetest.Logger(), Now: now})
	s.SetCases(cs)
	// A new store holds no reservation without its claim: as after the
	// server's start, Check marks the claims complete.
	if _, err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	return linked{s, cs}
}

// file submits a case in a community and has its sub-district accept it.
func (e linked) file(t testing.TB, community, title, desc string) *cases.Case {
	t.Helper()
	ctx := context.Background()
	c, _, err := e.cs.Submit(ctx, filer, cases.NewCase{Area: cases.AreaUrban, Title: title, Description: desc, Community: community, Address: "院内", Households: 6})
	if err != nil {
		t.Fatalf("submit %q: %v %v", title, err, minsheng.ErrorFields(err))
	}
	staff := auth.Principal{UserID: "u-staff-" + c.Location.SubDistrict, Name: "街道", Role: auth.RoleSubdistrict, SubDistrict: c.Location.SubDistrict}
	if c, err = e.cs.Accept(ctx, staff, c.ID, c.Version, ""); err != nil {
		t.Fatal(err)
	}
	return c
}

func (e linked) classify(t testing.TB, p auth.Principal, c *cases.Case, item string) *cases.Case {
	t.Helper()
	out, err := e.ConfirmItem(context.Background(), p, c.ID, c.Version, item)
	if err != nil {
		t.Fatalf("confirm %s: %v", item, err)
	}
	return out
}

func (e linked) load(t *testing.T, id string) *cases.Case {
	t.Helper()
	c, err := e.cs.FindByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// toInProgress assigns, assesses and starts a case, with an after-photo
// ready for completion.
func (e linked) toInProgress(t *testing.T, staff, cadre auth.Principal, c *cases.Case) *cases.Case {
	t.Helper()
	ctx := context.Background()
	var err error
	if c, err = e.cs.Assign(ctx, staff, c.ID, c.Version, cadre.UserID, ""); err != nil {
		t.Fatal(err)
	}
	if c, err = e.cs.Assess(ctx, cadre, c.ID, c.Version, cases.Assessment{EstimateFen: 60_000, Households: 6, Risk: 1}); err != nil {
		t.Fatal(err)
	}
	if c, err = e.cs.Start(ctx, cadre, c.ID, c.Version, ""); err != nil {
		t.Fatal(err)
	}
	if c, err = e.cs.AddPhoto(ctx, cadre, c.ID, cases.TagAfter, bytes.NewReader(casestest.JPEG(t, 64, 48))); err != nil {
		t.Fatal(err)
	}
	return c
}

const bulkyTitle, bulkyDesc = "楼道里堆着旧沙发和床垫，请求清运大件垃圾", "3号楼一单元楼道被废旧家具堵住，老人出行不便。"
