package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/auth"
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
)

// newService returns a ledger on a fresh database with its indexes.
func newService(t testing.TB) *Service {
	t.Helper()
	st := storetest.New(t)
	if err := st.EnsureIndexes(context.Background(), Indexes); err != nil {
		t.Fatal(err)
	}
	return NewService(st, Config{Logger: storetest.Logger()})
}

func mustLine(t testing.TB, s *Service, sub, item, name string, approved int64) *BudgetLine {
	t.Helper()
	l, err := s.CreateLine(context.Background(), finance, NewLine{FiscalYear: 2026, SubDistrict: sub, ItemCode: item, ProjectName: name, ApprovedFen: approved})
	if err != nil {
		t.Fatalf("create line %s: %v", name, err)
	}
	return l
}

func mustGet(t *testing.T, s *Service, id string) *BudgetLine {
	t.Helper()
	l, err := s.FindLineByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// completions numbers the effects complete makes, in order, as a case's
// versions number its transitions.
var completions atomic.Int64

// complete spends fen on caseID's reservation the way production does: the
// check before a completion (CanComplete), then the money effect of the
// case's completion (cases.EffectSpend), each call a later completion of
// the case (a reopened case completed again re-books at its new cost).
func complete(ctx context.Context, s *Service, p auth.Principal, caseID string, fen int64) (Reservation, error) {
	c := &cases.Case{ID: caseID}
	if err := s.CanComplete(ctx, c, fen); err != nil {
		return Reservation{}, err
	}
	id := fmt.Sprintf("TR-%012d-test", completions.Add(1))
	if _, _, err := s.ApplyEffect(ctx, p, c, cases.MoneyEffect{ID: id, Kind: cases.EffectSpend, ActualCostFen: fen}); err != nil {
		return Reservation{}, err
	}
	l, r, err := s.linkedLine(ctx, caseID)
	if err != nil || l == nil {
		return Reservation{}, err
	}
	return r, nil
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := minsheng.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// wantInvariant checks available = approved + adjusted − committed − spent ≥ 0
// and that the totals equal what the entries say.
func wantInvariant(t *testing.T, l *BudgetLine) {
	t.Helper()
	want, count, reason := recomputed(l)
	if reason != "" {
		t.Errorf("line %s cannot be recomputed: %s", l.ID, reason)
	}
	if got := l.Totals(); got != want {
		t.Errorf("line %s totals = %+v, want %+v (from entries)", l.ID, got, want)
	}
	if count != l.AdjustmentCount {
		t.Errorf("adjustment_count = %d, want %d", l.AdjustmentCount, count)
	}
	if l.AvailableFen < 0 {
		t.Errorf("available = %d, negative", l.AvailableFen)
	}
}

func auditCount(t *testing.T, s *Service, filter bson.M) int64 {
	t.Helper()
	n, err := s.audit.Count(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReserveConcurrent is the must-show: 64 goroutines link 64
// different cases to one line whose funds cover only some of them. The line
// never goes negative, committed equals the sum of live reservations, every
// refusal is ECONFLICT, and repeating every call changes nothing.
func TestReserveConcurrent(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	const approved = int64(1_000_000) // 10,000.00 元
	l := mustLine(t, s, "xinjiekou", bulkyItem, "大件垃圾清运 2026", approved)

	const workers = 64
	amount := func(i int) int64 { return 30_000 + int64(i%7)*5_000 } // 300–600 元 each, ~28,000 元 asked
	var won atomic.Int64
	var okCount, refused atomic.Int32
	run := func() {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < workers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				c := CaseRef{ID: fmt.Sprintf("case-%02d", i), SubDistrict: "xinjiekou", ItemCode: bulkyItem}
				_, err := s.Reserve(ctx, xjkStaff, l.ID, c, amount(i))
				switch minsheng.ErrorCode(err) {
				case "":
					okCount.Add(1)
					won.Add(amount(i))
				case minsheng.ECONFLICT:
					refused.Add(1)
				default:
					t.Errorf("case %d: %v", i, err)
				}
			}()
		}
		close(start)
		wg.Wait()
	}
	run()
	got := mustGet(t, s, l.ID)
	wantInvariant(t, got)
	var live int64
	var n int
	for _, r := range got.Reservations {
		if r.State == StateReserved {
			live += r.AmountFen
			n++
		}
	}
	if got.CommittedFen != live {
		t.Errorf("committed = %d, want %d (sum of live reservations)", got.CommittedFen, live)
	}
	if int(okCount.Load()) != n || won.Load() != live {
		t.Errorf("%d calls succeeded for %d fen, line holds %d reservations for %d fen", okCount.Load(), won.Load(), n, live)
	}
	if int(okCount.Load()+refused.Load()) != workers || refused.Load() == 0 || okCount.Load() == 0 {
		t.Errorf("ok = %d, refused = %d: want both, summing to %d", okCount.Load(), refused.Load(), workers)
	}
	if got.AvailableFen+got.CommittedFen != approved || got.AvailableFen >= 30_000 {
		t.Errorf("available = %d, committed = %d: want them to sum to %d with less than the smallest ask left", got.AvailableFen, got.CommittedFen, approved)
	}
	if a := auditCount(t, s, bson.M{"line_id": l.ID, "kind": AuditReserve}); a != int64(n) {
		t.Errorf("audit entries = %d, want %d", a, n)
	}
	t.Logf("64 goroutines: %d reservations for %s, %d refused, %s left", n, minsheng.Yuan(live), refused.Load(), minsheng.Yuan(got.AvailableFen))

	// Every call again: the winners are already reserved (idempotent), the
	// losers still find too little.
	okCount.Store(0)
	refused.Store(0)
	won.Store(0)
	run()
	again := mustGet(t, s, l.ID)
	if again.Totals() != got.Totals() || len(again.Reservations) != len(got.Reservations) {
		t.Errorf("repeat changed the line: %+v → %+v", got.Totals(), again.Totals())
	}
	if int(okCount.Load()) != n {
		t.Errorf("repeat: %d calls succeeded, want the %d winners", okCount.Load(), n)
	}
	rep, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("check after the race: %+v", rep)
	}
}

func TestReserveRules(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	l := mustLine(t, s, "xinjiekou", bulkyItem, "大件垃圾清运", 100_000)
	other := mustLine(t, s, "xinjiekou", bulkyItem, "大件垃圾清运（二期）", 100_000)
	c := CaseRef{ID: "c1", SubDistrict: "xinjiekou", ItemCode: bulkyItem}

	tests := []struct {
		name   string
		p      auth.Principal
		line   string
		c      CaseRef
		amount int64
		code   string
		msg    string
	}{
		{"resident", resident, l.ID, c, 1000, minsheng.EFORBIDDEN, ""},
		{"cadre", cadre, l.ID, c, 1000, minsheng.EFORBIDDEN, ""},
		{"other sub-district staff", dsStaff, l.ID, c, 1000, minsheng.EFORBIDDEN, ""},
		{"zero amount", xjkStaff, l.ID, c, 0, minsheng.EINVALID, ""},
		{"case of another sub-district", xjkStaff, l.ID, CaseRef{ID: "c9", SubDistrict: "desheng", ItemCode: bulkyItem}, 1000, minsheng.ECONFLICT, "其他街道"},
		{"unclassified case", xjkStaff, l.ID, CaseRef{ID: "c9", SubDistrict: "xinjiekou"}, 1000, minsheng.EINVALID, "支出分类"},
		{"other item", xjkStaff, l.ID, CaseRef{ID: "c9", SubDistrict: "xinjiekou", ItemCode: "CG-01-01"}, 1000, minsheng.ECONFLICT, "不一致"},
		{"more than available", xjkStaff, l.ID, CaseRef{ID: "c9", SubDistrict: "xinjiekou", ItemCode: bulkyItem}, 100_001, minsheng.ECONFLICT, "可用 1,000.00 元"},
		{"unknown line", xjkStaff, "BL-nope", c, 1000, minsheng.ENOTFOUND, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Reserve(ctx, tt.p, tt.line, tt.c, tt.amount)
			wantCode(t, err, tt.code)
			if tt.msg != "" && !strings.Contains(minsheng.ErrorMessage(err), tt.msg) {
				t.Errorf("message %q lacks %q", minsheng.ErrorMessage(err), tt.msg)
			}
		})
	}
	if got := mustGet(t, s, l.ID); got.CommittedFen != 0 || len(got.Reservations) != 0 {
		t.Fatalf("refusals moved money: %+v", got.Totals())
	}

	t.Run("twice reserves once", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			if _, err := s.Reserve(ctx, finance, l.ID, c, 40_000); err != nil {
				t.Fatal(err)
			}
		}
		got := mustGet(t, s, l.ID)
		if got.CommittedFen != 40_000 || len(got.Reservations) != 1 {
			t.Errorf("committed = %d with %d entries, want 40000 with 1", got.CommittedFen, len(got.Reservations))
		}
	})
	t.Run("again for another amount", func(t *testing.T) {
		_, err := s.Reserve(ctx, finance, l.ID, c, 50_000)
		wantCode(t, err, minsheng.ECONFLICT)
	})
	t.Run("same case on a second line", func(t *testing.T) {
		_, err := s.Reserve(ctx, finance, other.ID, c, 1_000)
		wantCode(t, err, minsheng.ECONFLICT)
	})
}

func TestReestimateReleaseSpend(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	l := mustLine(t, s, "xinjiekou", bulkyItem, "大件垃圾清运", 100_000)
	c1 := CaseRef{ID: "c1", SubDistrict: "xinjiekou", ItemCode: bulkyItem}
	c2 := CaseRef{ID: "c2", SubDistrict: "xinjiekou", ItemCode: bulkyItem}
	if _, err := s.Reserve(ctx, xjkStaff, l.ID, c1, 30_000); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reserve(ctx, xjkStaff, l.ID, c2, 50_000); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name                    string
		do                      func() error
		code                    string
		committed, spent, avail int64
	}{
		{"re-estimate up within funds", func() error { _, err := s.Reestimate(ctx, xjkStaff, l.ID, "c1", 45_000); return err }, "", 95_000, 0, 5_000},
		{"re-estimate beyond funds", func() error { _, err := s.Reestimate(ctx, xjkStaff, l.ID, "c1", 60_000); return err }, minsheng.ECONFLICT, 95_000, 0, 5_000},
		{"re-estimate down", func() error { _, err := s.Reestimate(ctx, xjkStaff, l.ID, "c1", 20_000); return err }, "", 70_000, 0, 30_000},
		{"re-estimate by other sub-district", func() error { _, err := s.Reestimate(ctx, dsStaff, l.ID, "c1", 10_000); return err }, minsheng.EFORBIDDEN, 70_000, 0, 30_000},
		{"spend below estimate releases the rest", func() error { _, err := complete(ctx, s, xjkStaff, "c1", 18_000); return err }, "", 50_000, 18_000, 32_000},
		{"spend again same cost", func() error { _, err := complete(ctx, s, xjkStaff, "c1", 18_000); return err }, "", 50_000, 18_000, 32_000},
		{"completed again at another cost re-books", func() error { _, err := complete(ctx, s, xjkStaff, "c1", 19_000); return err }, "", 50_000, 19_000, 31_000},
		{"completed again at the first cost", func() error { _, err := complete(ctx, s, xjkStaff, "c1", 18_000); return err }, "", 50_000, 18_000, 32_000},
		{"release spent", func() error { _, err := s.Release(ctx, xjkStaff, l.ID, "c1", "解除"); return err }, minsheng.ECONFLICT, 50_000, 18_000, 32_000},
		{"overrun beyond funds", func() error { _, err := complete(ctx, s, xjkStaff, "c2", 90_000); return err }, minsheng.ECONFLICT, 50_000, 18_000, 32_000},
		{"overrun within funds", func() error { _, err := complete(ctx, s, xjkStaff, "c2", 80_000); return err }, "", 0, 98_000, 2_000},
		{"release unknown case is a no-op", func() error { _, err := s.Release(ctx, xjkStaff, l.ID, "c3", ""); return err }, "", 0, 98_000, 2_000},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			wantCode(t, st.do(), st.code)
			got := mustGet(t, s, l.ID)
			wantInvariant(t, got)
			if got.CommittedFen != st.committed || got.SpentFen != st.spent || got.AvailableFen != st.avail {
				t.Errorf("committed/spent/available = %d/%d/%d, want %d/%d/%d", got.CommittedFen, got.SpentFen, got.AvailableFen, st.committed, st.spent, st.avail)
			}
		})
	}
	t.Run("overrun message", func(t *testing.T) {
		c3 := CaseRef{ID: "c3", SubDistrict: "xinjiekou", ItemCode: bulkyItem}
		if _, err := s.Reserve(ctx, xjkStaff, l.ID, c3, 1_000); err != nil {
			t.Fatal(err)
		}
		_, err := complete(ctx, s, xjkStaff, "c3", 5_000)
		if want := "超出的 40.00 元"; !strings.Contains(minsheng.ErrorMessage(err), want) {
			t.Errorf("message %q lacks %q", minsheng.ErrorMessage(err), want)
		}
	})
	t.Run("release then link again", func(t *testing.T) {
		if ok, err := s.Release(ctx, xjkStaff, l.ID, "c3", "解除关联"); err != nil || !ok {
			t.Fatalf("release = %v, %v", ok, err)
		}
		if _, err := s.Reserve(ctx, xjkStaff, l.ID, CaseRef{ID: "c3", SubDistrict: "xinjiekou", ItemCode: bulkyItem}, 2_000); err != nil {
			t.Fatal(err)
		}
		got := mustGet(t, s, l.ID)
		wantInvariant(t, got)
		if got.CommittedFen != 2_000 || got.AvailableFen != 0 {
			t.Errorf("committed/available = %d/%d, want 2000/0", got.CommittedFen, got.AvailableFen)
		}
	})
	t.Run("audit trail", func(t *testing.T) {
		entries, _, err := s.Audit(ctx, finance, AuditFilter{CaseID: "c1", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for i := len(entries) - 1; i >= 0; i-- {
			kinds = append(kinds, entries[i].Kind)
		}
		// The spend, then the re-bookings of its completions at 190.00 and
		// back at 180.00 元 (a completion at the same cost books nothing).
		if got, want := strings.Join(kinds, ","), "reserve,reestimate,reestimate,spend,spend,spend"; got != want {
			t.Errorf("c1 audit = %s, want %s", got, want)
		}
		spend := entries[2]
		if spend.Before.CommittedFen != 70_000 || spend.After.CommittedFen != 50_000 || spend.After.SpentFen != 18_000 || spend.By != xjkStaff.UserID {
			t.Errorf("spend audit = %+v", spend)
		}
		if last := entries[0]; last.AmountFen != -1_000 || last.After.SpentFen != 18_000 {
			t.Errorf("last re-booking = %+v, want −10.00 元 back to 180.00 元", last)
		}
	})
}

func TestAdjustments(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	a := mustLine(t, s, "xinjiekou", bulkyItem, "大件垃圾清运", 100_000)
	b := mustLine(t, s, "xinjiekou", "CG-01-01", "垃圾分类", 50_000)
	if _, err := s.Reserve(ctx, xjkStaff, a.ID, CaseRef{ID: "c1", SubDistrict: "xinjiekou", ItemCode: bulkyItem}, 70_000); err != nil {
		t.Fatal(err)
	}

	t.Run("refused roles", func(t *testing.T) {
		for _, p := range []auth.Principal{resident, cadre, xjkStaff} {
			_, err := s.Adjust(ctx, p, AdjustmentRequest{Kind: AdjustIncrease, LineID: a.ID, AmountFen: 1, Reason: "x"})
			wantCode(t, err, minsheng.EFORBIDDEN)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		_, err := s.Adjust(ctx, finance, AdjustmentRequest{Kind: "raise", LineID: a.ID, AmountFen: -1})
		wantCode(t, err, minsheng.EINVALID)
		for _, f := range []string{"kind", "amount_fen", "reason"} {
			if minsheng.ErrorFields(err)[f] == "" {
				t.Errorf("no message for field %s: %v", f, minsheng.ErrorFields(err))
			}
		}
	})
	t.Run("decrease beyond available is refused and kept as failed", func(t *testing.T) {
		adj, err := s.Adjust(ctx, finance, AdjustmentRequest{Kind: AdjustDecrease, LineID: a.ID, AmountFen: 40_000, Reason: "压减"})
		wantCode(t, err, minsheng.ECONFLICT)
		if adj == nil || adj.State != AdjustmentFailed {
			t.Fatalf("adjustment = %+v, want failed", adj)
		}
		if got := mustGet(t, s, a.ID); got.AdjustedFen != 0 || got.AvailableFen != 30_000 {
			t.Errorf("refused decrease moved money: %+v", got.Totals())
		}
	})
	t.Run("increase, decrease, transfer", func(t *testing.T) {
		for _, req := range []AdjustmentRequest{
			{Kind: AdjustIncrease, LineID: a.ID, AmountFen: 20_000, Reason: "居民需求增加"},
			{Kind: AdjustDecrease, LineID: b.ID, AmountFen: 10_000, Reason: "压减"},
			{Kind: AdjustTransfer, LineID: b.ID, ToLineID: a.ID, AmountFen: 15_000, Reason: "调剂至大件垃圾"},
		} {
			adj, err := s.Adjust(ctx, finance, req)
			if err != nil || adj.State != AdjustmentApplied {
				t.Fatalf("%s: %+v, %v", req.Kind, adj, err)
			}
		}
		ga, gb := mustGet(t, s, a.ID), mustGet(t, s, b.ID)
		wantInvariant(t, ga)
		wantInvariant(t, gb)
		if ga.AdjustedFen != 35_000 || ga.AvailableFen != 65_000 || ga.AdjustmentCount != 2 {
			t.Errorf("line a = %+v count %d, want adjusted 35000, available 65000, 2 adjustments", ga.Totals(), ga.AdjustmentCount)
		}
		if gb.AdjustedFen != -25_000 || gb.AvailableFen != 25_000 {
			t.Errorf("line b = %+v, want adjusted -25000, available 25000", gb.Totals())
		}
		if n := auditCount(t, s, bson.M{"kind": AuditAdjust}); n != 4 {
			t.Errorf("adjust audit entries = %d, want 4 (one per line moved)", n)
		}
	})
	t.Run("idempotency key", func(t *testing.T) {
		req := AdjustmentRequest{Kind: AdjustIncrease, LineID: b.ID, AmountFen: 1_000, Reason: "重试", IdempotencyKey: "k-1"}
		first, err := s.Adjust(ctx, finance, req)
		if err != nil {
			t.Fatal(err)
		}
		second, err := s.Adjust(ctx, finance, req)
		if err != nil || second.ID != first.ID {
			t.Fatalf("repeat = %+v, %v; want %s", second, err, first.ID)
		}
		if gb := mustGet(t, s, b.ID); gb.AdjustedFen != -24_000 {
			t.Errorf("adjusted = %d after a repeated request, want -24000", gb.AdjustedFen)
		}
	})
}

// TestTransferCrashFinishedByCheck: the process dies after debiting the
// source line of a 调剂 and before crediting the target; Check finishes it.
func TestTransferCrashFinishedByCheck(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	a := mustLine(t, s, "xinjiekou", bulkyItem, "大件垃圾清运", 100_000)
	b := mustLine(t, s, "desheng", bulkyItem, "大件垃圾清运", 100_000)
	crash := errors.New("simulated crash")
	s.faultAfterDebit = func() error { return crash }
	_, err := s.Adjust(ctx, finance, AdjustmentRequest{Kind: AdjustTransfer, LineID: a.ID, ToLineID: b.ID, AmountFen: 30_000, Reason: "跨街道调剂"})
	if !errors.Is(err, crash) {
		t.Fatalf("err = %v, want the crash", err)
	}
	s.faultAfterDebit = nil
	if ga, gb := mustGet(t, s, a.ID), mustGet(t, s, b.ID); ga.AvailableFen != 70_000 || gb.AvailableFen != 100_000 {
		t.Fatalf("after the crash: a %d, b %d; want 70000, 100000", ga.AvailableFen, gb.AvailableFen)
	}

	t.Run("a fresh pending adjustment is left to its request", func(t *testing.T) {
		rep, err := s.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Errorf("check touched a fresh adjustment: %+v", rep)
		}
	})
	t.Run("a stale one is finished", func(t *testing.T) {
		s.staleAfter = -time.Hour // everything is stale
		rep, err := s.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Fixes) != 1 || rep.Fixes[0].Kind != FixAdjustmentFinished {
			t.Fatalf("fixes = %+v, want one finished adjustment", rep.Fixes)
		}
		ga, gb := mustGet(t, s, a.ID), mustGet(t, s, b.ID)
		wantInvariant(t, ga)
		wantInvariant(t, gb)
		if ga.AvailableFen != 70_000 || gb.AvailableFen != 130_000 {
			t.Errorf("after check: a %d, b %d; want 70000, 130000", ga.AvailableFen, gb.AvailableFen)
		}
		adjs, _, err := s.Adjustments(ctx, finance, AdjustmentFilter{})
		if err != nil || len(adjs) != 1 || adjs[0].State != AdjustmentApplied {
			t.Errorf("adjustments = %+v, %v", adjs, err)
		}
		again, err := s.Check(ctx)
		if err != nil || !again.OK() {
			t.Errorf("second check = %+v, %v; want clean", again, err)
		}
	})
}

// TestCheckRepairsTotalsAndAudit: totals that disagree with the entries (a
// lost update, a hand edit) are recomputed; an audit entry a crash lost is
// written back.
func TestCheckRepairsTotalsAndAudit(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	l := mustLine(t, s, "xinjiekou", bulkyItem, "大件垃圾清运", 100_000)
	if _, err := s.Reserve(ctx, xjkStaff, l.ID, CaseRef{ID: "c1", SubDistrict: "xinjiekou", ItemCode: bulkyItem}, 30_000); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("simulated crash")
	s.faultBeforeAuditFn = func() error { return crash }
	if _, err := s.Reserve(ctx, xjkStaff, l.ID, CaseRef{ID: "c2", SubDistrict: "xinjiekou", ItemCode: bulkyItem}, 20_000); !errors.Is(err, crash) {
		t.Fatalf("err = %v, want the crash", err)
	}
	s.faultBeforeAuditFn = nil
	if _, err := s.lines.UpdateOne(ctx, bson.M{"_id": l.ID}, bson.M{"$set": bson.M{"committed_fen": int64(1), "available_fen": int64(99_999)}}); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, f := range rep.Fixes {
		kinds[f.Kind]++
	}
	// The crash also left the reservation's ledger claim open on a line that
	// holds its marker: Check marks it applied.
	if kinds[FixLineTotals] != 1 || kinds[FixAuditWritten] != 1 || kinds[FixClaimSettled] != 1 || len(rep.Fixes) != 3 {
		t.Errorf("fixes = %+v, want one totals repair, one audit entry written, one claim settled", rep.Fixes)
	}
	got := mustGet(t, s, l.ID)
	wantInvariant(t, got)
	if got.CommittedFen != 50_000 || got.AvailableFen != 50_000 {
		t.Errorf("repaired totals = %+v, want committed 50000, available 50000", got.Totals())
	}
	if n := auditCount(t, s, bson.M{"case_id": "c2", "reconstructed": true}); n != 1 {
		t.Errorf("reconstructed audit entries for c2 = %d, want 1", n)
	}
	if again, err := s.Check(ctx); err != nil || !again.OK() {
		t.Errorf("second check = %+v, %v; want clean", again, err)
	}
}

func TestLinesScope(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	mustLine(t, s, "xinjiekou", bulkyItem, "大件垃圾清运", 100_000)
	mustLine(t, s, "desheng", bulkyItem, "大件垃圾清运", 100_000)
	t.Run("create refused", func(t *testing.T) {
		in := NewLine{FiscalYear: 2026, SubDistrict: "desheng", ItemCode: bulkyItem, ProjectName: "x", ApprovedFen: 1}
		for _, p := range []auth.Principal{resident, cadre, xjkStaff} {
			_, err := s.CreateLine(ctx, p, in)
			wantCode(t, err, minsheng.EFORBIDDEN)
		}
	})
	t.Run("create by own staff", func(t *testing.T) {
		if _, err := s.CreateLine(ctx, dsStaff, NewLine{FiscalYear: 2026, SubDistrict: "desheng", ItemCode: bulkyItem, ProjectName: "二期", ApprovedFen: 1}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		_, err := s.CreateLine(ctx, finance, NewLine{FiscalYear: 2026, SubDistrict: "desheng", ItemCode: bulkyItem, ProjectName: "二期", ApprovedFen: 1})
		wantCode(t, err, minsheng.ECONFLICT)
	})
	t.Run("invalid", func(t *testing.T) {
		_, err := s.CreateLine(ctx, finance, NewLine{FiscalYear: 2026, SubDistrict: "nowhere", ItemCode: "XX-01-01", ApprovedFen: -5})
		wantCode(t, err, minsheng.EINVALID)
		if f := minsheng.ErrorFields(err); len(f) != 4 {
			t.Errorf("fields = %v, want sub_district, item_code, project_name, approved_fen", f)
		}
	})
	t.Run("list scoped", func(t *testing.T) {
		ls, _, err := s.Lines(ctx, dsStaff, LineFilter{})
		if err != nil || len(ls) != 2 {
			t.Fatalf("desheng staff sees %d lines (%v), want 2", len(ls), err)
		}
		_, _, err = s.Lines(ctx, dsStaff, LineFilter{SubDistrict: "xinjiekou"})
		wantCode(t, err, minsheng.EFORBIDDEN)
		all, _, err := s.Lines(ctx, finance, LineFilter{FiscalYear: 2026, Limit: 2})
		if err != nil || len(all) != 2 {
			t.Fatalf("finance page = %d, %v", len(all), err)
		}
		_, _, err = s.Lines(ctx, cadre, LineFilter{})
		wantCode(t, err, minsheng.EFORBIDDEN)
	})
	t.Run("review", func(t *testing.T) {
		ls, _, _ := s.Lines(ctx, dsStaff, LineFilter{})
		l, err := s.Review(ctx, finance, ls[0].ID, ReviewBefore, "事前评审：需求真实，测算合理")
		if err != nil || l.ReviewStage != ReviewBefore || len(l.ReviewNotes) != 1 {
			t.Fatalf("review = %+v, %v", l, err)
		}
		_, err = s.Review(ctx, xjkStaff, ls[0].ID, ReviewDuring, "x")
		wantCode(t, err, minsheng.EFORBIDDEN)
		_, err = s.Review(ctx, finance, ls[0].ID, "later", "")
		wantCode(t, err, minsheng.EINVALID)
	})
}
