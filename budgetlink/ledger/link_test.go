package ledger

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"minsheng"
	"minsheng/cases"
	"minsheng/cases/casestest"
	"minsheng/internal/auth"
	"minsheng/internal/media"
	"minsheng/internal/org"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

var (
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

// linked is a ledger wired to a real cases service on the same database.
type linked struct {
	*Service
	cs *cases.Service
}

func newLinked(t *testing.T) linked {
	t.Helper()
	return newLinkedOn(t, storetest.New(t))
}

// newLinkedOn wires the ledger and the cases service on st.
func newLinkedOn(t testing.TB, st *store.Store) linked {
	t.Helper()
	ctx := context.Background()
	if err := st.EnsureIndexes(ctx, append(append([]store.Index{}, Indexes...), cases.Indexes...)); err != nil {
		t.Fatal(err)
	}
	photos, err := media.NewLocal(t.TempDir(), []byte(strings.Repeat("k", 32)), "/media")
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC) }
	cs := cases.NewService(st, org.Xicheng(), photos, cases.Config{Now: now, Users: caseUsers, Logger: storetest.Logger()})
	s := NewService(st, Config{Logger: storetest.Logger(), Now: now})
	s.SetCases(cs)
	// A new store holds no reservation without its claim: as after the
	// server's start (Check), links trust the claims (claim.go). Tests of
	// data from before claims say so with fromBeforeClaims.
	if err := s.markClaimsComplete(ctx); err != nil {
		t.Fatal(err)
	}
	return linked{s, cs}
}

// fromBeforeClaims makes s's store one whose reservations may predate the
// per-case claims, until Check runs again.
func fromBeforeClaims(t *testing.T, s *Service) {
	t.Helper()
	if _, err := s.store.Collection(claimsMetaCollection).DeleteOne(context.Background(), struct {
		ID string `bson:"_id"`
	}{claimsCompleteID}); err != nil {
		t.Fatal(err)
	}
	s.claimsComplete.Store(false)
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

func TestCaseLinkLifecycle(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运处置 2026", 100_000)
	c := e.file(t, "xinjiekou-yude", bulkyTitle, bulkyDesc)

	t.Run("suggest", func(t *testing.T) {
		got, err := e.SuggestItems(ctx, xjkStaff, c.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0].Code != bulkyItem {
			t.Errorf("suggestions = %+v, want 3 with %s first", got, bulkyItem)
		}
		_, err = e.SuggestItems(ctx, dsStaff, c.ID, 3)
		wantCode(t, err, minsheng.EFORBIDDEN)
		_, err = e.SuggestItems(ctx, filer, c.ID, 3)
		wantCode(t, err, minsheng.EFORBIDDEN)
	})
	t.Run("link before classification", func(t *testing.T) {
		_, err := e.LinkCase(ctx, xjkStaff, c.ID, line.ID, 50_000)
		wantCode(t, err, minsheng.EINVALID)
	})
	t.Run("confirm", func(t *testing.T) {
		_, err := e.ConfirmItem(ctx, xjkStaff, c.ID, c.Version, "ZZ-01-01")
		wantCode(t, err, minsheng.EINVALID)
		c = e.classify(t, xjkStaff, c, bulkyItem)
		if c.CatalogItem != bulkyItem || c.SLADays != 3 {
			t.Errorf("case item/sla = %s/%d, want %s/3 (the item's SLA)", c.CatalogItem, c.SLADays, bulkyItem)
		}
	})
	t.Run("link", func(t *testing.T) {
		for i := 0; i < 2; i++ { // twice: reserves once
			link, err := e.LinkCase(ctx, xjkStaff, c.ID, line.ID, 50_000)
			if err != nil {
				t.Fatal(err)
			}
			if link.State != StateReserved || link.ReservedFen != 50_000 {
				t.Errorf("link = %+v", link)
			}
		}
		if got := mustGet(t, e.Service, line.ID); got.CommittedFen != 50_000 {
			t.Errorf("committed = %d, want 50000", got.CommittedFen)
		}
		if cp := e.load(t, c.ID).Budget; cp == nil || cp.LineID != line.ID || cp.ReservedFen != 50_000 {
			t.Errorf("case copy = %+v", cp)
		}
		_, err := e.LinkCase(ctx, dsStaff, c.ID, line.ID, 50_000)
		wantCode(t, err, minsheng.EFORBIDDEN)
	})
	t.Run("reclassify while linked", func(t *testing.T) {
		cur := e.load(t, c.ID)
		_, err := e.ConfirmItem(ctx, xjkStaff, c.ID, cur.Version, "CG-01-01")
		wantCode(t, err, minsheng.ECONFLICT)
	})
	t.Run("re-estimate", func(t *testing.T) {
		link, err := e.ReestimateCase(ctx, xjkStaff, c.ID, 70_000)
		if err != nil || link.ReservedFen != 70_000 {
			t.Fatalf("re-estimate = %+v, %v", link, err)
		}
	})
	c = e.toInProgress(t, xjkStaff, xjkCadre, e.load(t, c.ID))
	t.Run("overrun without funds keeps the case open", func(t *testing.T) {
		_, err := e.cs.Complete(ctx, xjkCadre, c.ID, c.Version, 130_001, "")
		wantCode(t, err, minsheng.ECONFLICT)
		if !strings.Contains(minsheng.ErrorMessage(err), "超出预留 700.00 元") {
			t.Errorf("message = %q", minsheng.ErrorMessage(err))
		}
		if got := e.load(t, c.ID); got.Status != cases.StatusInProgress {
			t.Errorf("status = %s, want in_progress", got.Status)
		}
	})
	t.Run("complete spends the actual cost", func(t *testing.T) {
		done, err := e.cs.Complete(ctx, xjkCadre, c.ID, c.Version, 64_500, "清运 1 吨")
		if err != nil {
			t.Fatal(err)
		}
		l := mustGet(t, e.Service, line.ID)
		wantInvariant(t, l)
		if l.CommittedFen != 0 || l.SpentFen != 64_500 || l.AvailableFen != 35_500 {
			t.Errorf("line = %+v, want spent 64500, available 35500", l.Totals())
		}
		if cp := e.load(t, done.ID).Budget; cp == nil || cp.State != StateSpent || cp.SpentFen != 64_500 {
			t.Errorf("case copy = %+v", cp)
		}
		// The money effect again (a retried completion) changes nothing.
		stored := e.load(t, done.ID)
		if _, _, err := e.ApplyEffect(ctx, xjkCadre, stored, *stored.MoneyEffect); err != nil {
			t.Fatal(err)
		}
		if l2 := mustGet(t, e.Service, line.ID); l2.Totals() != l.Totals() {
			t.Errorf("repeat moved money: %+v → %+v", l.Totals(), l2.Totals())
		}
	})
	if rep, err := e.Check(ctx); err != nil || !rep.OK() {
		t.Errorf("check = %+v, %v; want clean", rep, err)
	}
}

func TestCaseCancelAndUnlink(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运", 100_000)
	a := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, bulkyDesc), bulkyItem)
	b := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", "旧床垫清运", "床垫"), bulkyItem)
	for _, c := range []*cases.Case{a, b} {
		if _, err := e.LinkCase(ctx, xjkStaff, c.ID, line.ID, 30_000); err != nil {
			t.Fatal(err)
		}
	}
	cur := e.load(t, a.ID)
	if _, err := e.cs.Cancel(ctx, xjkStaff, a.ID, cur.Version, "居民已自行处理"); err != nil {
		t.Fatal(err)
	}
	if cp := e.load(t, a.ID).Budget; cp == nil || cp.State != StateReleased || cp.ReservedFen != 0 {
		t.Errorf("cancelled case copy = %+v, want released", cp)
	}
	if err := e.UnlinkCase(ctx, xjkStaff, b.ID); err != nil {
		t.Fatal(err)
	}
	if cp := e.load(t, b.ID).Budget; cp != nil {
		t.Errorf("unlinked case copy = %+v, want none", cp)
	}
	if err := e.UnlinkCase(ctx, xjkStaff, b.ID); err != nil {
		t.Errorf("second unlink = %v, want a no-op", err)
	}
	l := mustGet(t, e.Service, line.ID)
	wantInvariant(t, l)
	if l.CommittedFen != 0 || l.AvailableFen != 100_000 {
		t.Errorf("line = %+v, want everything released", l.Totals())
	}
	t.Run("closed case cannot be linked", func(t *testing.T) {
		_, err := e.LinkCase(ctx, xjkStaff, a.ID, line.ID, 1_000)
		wantCode(t, err, minsheng.ECONFLICT)
	})
	t.Run("case of another sub-district", func(t *testing.T) {
		d := e.classify(t, dsStaff, e.file(t, "desheng-deshengli", bulkyTitle, bulkyDesc), bulkyItem)
		_, err := e.LinkCase(ctx, finance, d.ID, line.ID, 1_000)
		wantCode(t, err, minsheng.ECONFLICT)
	})
}

// TestCrashBetweenLineAndCaseRepairedByCheck is the must-show: the
// process dies after reserving on the line and before writing the case's
// copy (and, the other way, after releasing); Check repairs the copies.
func TestCrashBetweenLineAndCaseRepairedByCheck(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运", 100_000)
	a := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, bulkyDesc), bulkyItem)
	b := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", "旧沙发清运", "沙发"), bulkyItem)
	if _, err := e.LinkCase(ctx, xjkStaff, b.ID, line.ID, 20_000); err != nil {
		t.Fatal(err)
	}

	crash := errors.New("simulated crash")
	e.faultAfterReserve = func() error { return crash }
	if _, err := e.LinkCase(ctx, xjkStaff, a.ID, line.ID, 45_000); !errors.Is(err, crash) {
		t.Fatalf("link = %v, want the crash", err)
	}
	e.faultAfterReserve = nil
	e.faultAfterRelease = func() error { return crash }
	if err := e.UnlinkCase(ctx, xjkStaff, b.ID); !errors.Is(err, crash) {
		t.Fatalf("unlink = %v, want the crash", err)
	}
	e.faultAfterRelease = nil

	if cp := e.load(t, a.ID).Budget; cp != nil {
		t.Fatalf("case a copy = %+v: the crash should have left none", cp)
	}
	if cp := e.load(t, b.ID).Budget; cp == nil || cp.State != StateReserved {
		t.Fatalf("case b copy = %+v: the crash should have left it reserved", cp)
	}

	// A fresh service on the same database: the process restarted.
	restarted := NewService(e.store, Config{Logger: storetest.Logger()})
	restarted.SetCases(e.cs)
	rep, err := restarted.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fixed := map[string]string{}
	for _, f := range rep.Fixes {
		if f.Kind == FixCaseCopy {
			fixed[f.CaseID] = f.Detail
		}
	}
	if len(rep.Fixes) != 2 || fixed[a.ID] == "" || fixed[b.ID] == "" {
		t.Errorf("fixes = %+v, want the copies of both cases repaired", rep.Fixes)
	}
	t.Logf("check: %d lines, %d live reservations; fixes: %+v", rep.Lines, rep.Reservations, rep.Fixes)
	if cp := e.load(t, a.ID).Budget; cp == nil || cp.State != StateReserved || cp.ReservedFen != 45_000 || cp.LineID != line.ID {
		t.Errorf("case a copy after check = %+v, want reserved 45000 on %s", cp, line.ID)
	}
	if cp := e.load(t, b.ID).Budget; cp == nil || cp.State != StateReleased {
		t.Errorf("case b copy after check = %+v, want released", cp)
	}
	l := mustGet(t, e.Service, line.ID)
	wantInvariant(t, l)
	if l.CommittedFen != 45_000 {
		t.Errorf("committed = %d, want 45000", l.CommittedFen)
	}
	again, err := restarted.Check(ctx)
	if err != nil || !again.OK() {
		t.Errorf("second check = %+v, %v; want clean", again, err)
	}
}
