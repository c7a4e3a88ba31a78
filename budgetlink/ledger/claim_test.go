package ledger

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/store/storetest"
)

// claimOf returns a case's claim, nil when it has none.
func claimOf(t *testing.T, s *Service, caseID string) *caseClaim {
	t.Helper()
	cl, err := s.findClaim(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// liveLinesOf returns the ids of the lines holding money for a case.
func liveLinesOf(t *testing.T, s *Service, caseID string) []string {
	t.Helper()
	var ls []*BudgetLine
	if err := s.lines.FindAll(context.Background(), bson.M{"reservations.case_id": caseID}, &ls); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range ls {
		if _, ok := liveEntry(l, caseID); ok {
			ids = append(ids, l.ID)
		}
	}
	return ids
}

// restartedLater is the ledger restarted on e's database with a clock past
// the stale window, so Check treats what a crash left as abandoned.
func restartedLater(e linked) *Service {
	now := func() time.Time { return time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC).Add(2 * time.Minute) }
	s := NewService(e.store, Config{Logger: storetest.Logger(), Now: now})
	s.SetCases(e.cs)
	return s
}

func fixesOf(rep CheckReport, kind string) []CheckFix {
	var out []CheckFix
	for _, f := range rep.Fixes {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

// TestLinkOneCaseToTwoLinesAtOnce is the bug: two requests linking the same
// case to two lines at the same moment both passed the "not on another
// line" count and both reserved. Now exactly one wins, every round.
func TestLinkOneCaseToTwoLinesAtOnce(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	const rounds, amount = 50, int64(10_000)
	lines := []*BudgetLine{
		mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运（一期）", rounds*amount),
		mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运（二期）", rounds*amount),
	}
	wins := map[string]int{}
	for round := 0; round < rounds; round++ {
		c := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, bulkyDesc), bulkyItem)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, l := range lines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = e.LinkCase(ctx, xjkStaff, c.ID, l.ID, amount)
			}()
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, err := range errs {
			switch minsheng.ErrorCode(err) {
			case "":
				if winner >= 0 {
					t.Fatalf("round %d: both links succeeded: the case holds money on two lines", round)
				}
				winner = i
			case minsheng.ECONFLICT:
			default:
				t.Fatalf("round %d, line %d: %v", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: both refused (%v; %v), want one to win", round, errs[0], errs[1])
		}
		loser := errs[1-winner]
		if got, want := minsheng.ErrorMessage(loser), "该案件已关联其他预算项目，请先解除关联"; got != want {
			t.Errorf("round %d: loser's message = %q, want %q", round, got, want)
		}
		win := lines[winner].ID
		wins[win]++
		if got := liveLinesOf(t, e.Service, c.ID); len(got) != 1 || got[0] != win {
			t.Errorf("round %d: case live on %v, want only %s", round, got, win)
		}
		if cp := e.load(t, c.ID).Budget; cp == nil || cp.LineID != win || cp.ReservedFen != amount {
			t.Errorf("round %d: case copy = %+v, want reserved %d on %s", round, cp, amount, win)
		}
		if cl := claimOf(t, e.Service, c.ID); cl == nil || cl.LineID != win {
			t.Errorf("round %d: claim = %+v, want one naming %s", round, cl, win)
		}
	}
	var committed int64
	for _, l := range lines {
		got := mustGet(t, e.Service, l.ID)
		wantInvariant(t, got)
		var live int64
		var n int
		for _, r := range got.Reservations {
			if r.State == StateReserved {
				live += r.AmountFen
				n++
			}
		}
		if got.CommittedFen != live || n != wins[l.ID] || live != int64(wins[l.ID])*amount {
			t.Errorf("line %s: committed %d, live reservations %d fen in %d entries; want %d wins × %d", l.ID, got.CommittedFen, live, n, wins[l.ID], amount)
		}
		committed += got.CommittedFen
	}
	if committed != rounds*amount {
		t.Errorf("committed over both lines = %d, want %d (one reservation per case)", committed, rounds*amount)
	}
	t.Logf("%d rounds: line 1 won %d, line 2 won %d; %s committed in all", rounds, wins[lines[0].ID], wins[lines[1].ID], minsheng.Yuan(committed))
	if rep, err := e.Check(ctx); err != nil || !rep.OK() {
		t.Errorf("check = %+v, %v; want clean", rep, err)
	}
}

// TestCrashBetweenClaimAndReserve: the claim is written, the process dies
// before the line is reserved. Retrying the same line always works at
// once; another line is refused until Check, past the stale window, drops
// the orphan claim.
func TestCrashBetweenClaimAndReserve(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	l1 := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运（一期）", 100_000)
	l2 := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运（二期）", 100_000)
	crash := errors.New("simulated crash")
	crashLink := func(t *testing.T, caseID, lineID string) {
		t.Helper()
		e.faultAfterClaim = func() error { return crash }
		defer func() { e.faultAfterClaim = nil }()
		if _, err := e.LinkCase(ctx, xjkStaff, caseID, lineID, 30_000); !errors.Is(err, crash) {
			t.Fatalf("link = %v, want the crash", err)
		}
		if got := liveLinesOf(t, e.Service, caseID); len(got) != 0 {
			t.Fatalf("case live on %v after a crash before reserving", got)
		}
		if cl := claimOf(t, e.Service, caseID); cl == nil || cl.LineID != lineID {
			t.Fatalf("claim = %+v, want the orphan naming %s", cl, lineID)
		}
	}

	t.Run("retry on the same line", func(t *testing.T) {
		a := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, bulkyDesc), bulkyItem)
		crashLink(t, a.ID, l1.ID)
		link, err := e.LinkCase(ctx, xjkStaff, a.ID, l1.ID, 30_000)
		if err != nil {
			t.Fatalf("retry = %v, want success", err)
		}
		if link.LineID != l1.ID || link.ReservedFen != 30_000 {
			t.Errorf("link = %+v", link)
		}
		if got := liveLinesOf(t, e.Service, a.ID); len(got) != 1 || got[0] != l1.ID {
			t.Errorf("case live on %v, want %s", got, l1.ID)
		}
		if cl := claimOf(t, e.Service, a.ID); cl == nil || cl.LineID != l1.ID {
			t.Errorf("claim = %+v, want %s", cl, l1.ID)
		}
	})
	t.Run("another line waits for check", func(t *testing.T) {
		b := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", "旧床垫清运", "床垫"), bulkyItem)
		crashLink(t, b.ID, l1.ID)
		_, err := e.LinkCase(ctx, xjkStaff, b.ID, l2.ID, 30_000)
		wantCode(t, err, minsheng.ECONFLICT)

		// Within the stale window Check leaves the claim: a link may be
		// in flight under it.
		rep, err := e.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f := fixesOf(rep, FixClaimDropped); len(f) != 0 || claimOf(t, e.Service, b.ID) == nil {
			t.Fatalf("check within the stale window dropped %+v", f)
		}

		later := restartedLater(e)
		rep, err = later.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f := fixesOf(rep, FixClaimDropped); len(f) != 1 || f[0].CaseID != b.ID || f[0].LineID != l1.ID || len(rep.Fixes) != 1 {
			t.Errorf("fixes = %+v, want the orphan claim of %s on %s dropped", rep.Fixes, b.ID, l1.ID)
		}
		if cl := claimOf(t, e.Service, b.ID); cl != nil {
			t.Errorf("claim after check = %+v, want none", cl)
		}
		if _, err := later.LinkCase(ctx, xjkStaff, b.ID, l2.ID, 30_000); err != nil {
			t.Fatalf("link to the other line after check = %v", err)
		}
		if got := liveLinesOf(t, e.Service, b.ID); len(got) != 1 || got[0] != l2.ID {
			t.Errorf("case live on %v, want %s", got, l2.ID)
		}
		if again, err := later.Check(ctx); err != nil || !again.OK() {
			t.Errorf("second check = %+v, %v; want clean", again, err)
		}
	})
	t.Run("stalled link loses to check and another line", func(t *testing.T) {
		// A request stalls after claiming for longer than the stale
		// window; Check drops its claim and another request links the case
		// elsewhere. The stalled one must then give up, not reserve.
		c := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", "旧衣柜清运", "衣柜"), bulkyItem)
		later := restartedLater(e)
		e.faultAfterClaim = func() error {
			if _, err := later.Check(ctx); err != nil {
				return err
			}
			_, err := later.LinkCase(ctx, xjkStaff, c.ID, l2.ID, 20_000)
			return err
		}
		_, err := e.LinkCase(ctx, xjkStaff, c.ID, l1.ID, 20_000)
		e.faultAfterClaim = nil
		wantCode(t, err, minsheng.ECONFLICT)
		if got := liveLinesOf(t, e.Service, c.ID); len(got) != 1 || got[0] != l2.ID {
			t.Errorf("case live on %v, want only %s", got, l2.ID)
		}
		if cl := claimOf(t, e.Service, c.ID); cl == nil || cl.LineID != l2.ID {
			t.Errorf("claim = %+v, want %s", cl, l2.ID)
		}
	})
	for _, l := range []*BudgetLine{l1, l2} {
		wantInvariant(t, mustGet(t, e.Service, l.ID))
	}
}

func TestClaimFollowsUnlinkAndCancel(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	l1 := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运（一期）", 100_000)
	l2 := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运（二期）", 100_000)

	t.Run("unlink then link elsewhere", func(t *testing.T) {
		a := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, bulkyDesc), bulkyItem)
		if _, err := e.LinkCase(ctx, xjkStaff, a.ID, l1.ID, 30_000); err != nil {
			t.Fatal(err)
		}
		_, err := e.LinkCase(ctx, xjkStaff, a.ID, l2.ID, 30_000)
		wantCode(t, err, minsheng.ECONFLICT)
		if err := e.UnlinkCase(ctx, xjkStaff, a.ID); err != nil {
			t.Fatal(err)
		}
		if cl := claimOf(t, e.Service, a.ID); cl != nil {
			t.Errorf("claim after unlink = %+v, want none", cl)
		}
		link, err := e.LinkCase(ctx, xjkStaff, a.ID, l2.ID, 25_000)
		if err != nil {
			t.Fatal(err)
		}
		if link.LineID != l2.ID {
			t.Errorf("link = %+v, want %s", link, l2.ID)
		}
		if got := liveLinesOf(t, e.Service, a.ID); len(got) != 1 || got[0] != l2.ID {
			t.Errorf("case live on %v, want %s", got, l2.ID)
		}
	})
	t.Run("cancel releases the claim", func(t *testing.T) {
		b := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", "旧床垫清运", "床垫"), bulkyItem)
		if _, err := e.LinkCase(ctx, xjkStaff, b.ID, l1.ID, 10_000); err != nil {
			t.Fatal(err)
		}
		if _, err := e.cs.Cancel(ctx, xjkStaff, b.ID, e.load(t, b.ID).Version, "居民已自行处理"); err != nil {
			t.Fatal(err)
		}
		if cl := claimOf(t, e.Service, b.ID); cl != nil {
			t.Errorf("claim after cancel = %+v, want none", cl)
		}
	})
	t.Run("spending keeps the claim", func(t *testing.T) {
		c := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", "旧沙发清运", "沙发"), bulkyItem)
		if _, err := e.LinkCase(ctx, xjkStaff, c.ID, l1.ID, 60_000); err != nil {
			t.Fatal(err)
		}
		c = e.toInProgress(t, xjkStaff, xjkCadre, e.load(t, c.ID))
		if _, err := e.cs.Complete(ctx, xjkCadre, c.ID, c.Version, 55_000, ""); err != nil {
			t.Fatal(err)
		}
		if cl := claimOf(t, e.Service, c.ID); cl == nil || cl.LineID != l1.ID {
			t.Errorf("claim after completion = %+v, want %s", cl, l1.ID)
		}
	})
	t.Run("refused for lack of funds leaves no claim", func(t *testing.T) {
		d := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", "旧书柜清运", "书柜"), bulkyItem)
		_, err := e.LinkCase(ctx, xjkStaff, d.ID, l1.ID, 100_001)
		wantCode(t, err, minsheng.ECONFLICT)
		if cl := claimOf(t, e.Service, d.ID); cl != nil {
			t.Errorf("claim after refusal = %+v, want none", cl)
		}
		if _, err := e.LinkCase(ctx, xjkStaff, d.ID, l2.ID, 1_000); err != nil {
			t.Errorf("link elsewhere after a refusal = %v", err)
		}
	})
	if rep, err := restartedLater(e).Check(ctx); err != nil || !rep.OK() {
		t.Errorf("check = %+v, %v; want clean", rep, err)
	}
}

// TestCheckRepairsClaims: Check's two claim repairs — a claim a crash
// left without a reservation (here: after the release, before the drop)
// is dropped; a live reservation without a claim (data from before
// claims) gets one, and until then the count still keeps the case off
// other lines.
func TestCheckRepairsClaims(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	l1 := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运（一期）", 100_000)
	l2 := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运（二期）", 100_000)
	a := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, bulkyDesc), bulkyItem)
	b := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", "旧床垫清运", "床垫"), bulkyItem)
	for _, c := range []*cases.Case{a, b} {
		if _, err := e.LinkCase(ctx, xjkStaff, c.ID, l1.ID, 20_000); err != nil {
			t.Fatal(err)
		}
	}

	crash := errors.New("simulated crash")
	e.faultBeforeClaimDrop = func() error { return crash }
	if err := e.UnlinkCase(ctx, xjkStaff, a.ID); !errors.Is(err, crash) {
		t.Fatalf("unlink = %v, want the crash", err)
	}
	e.faultBeforeClaimDrop = nil
	if cl := claimOf(t, e.Service, a.ID); cl == nil {
		t.Fatal("the crash should have left a's claim")
	}
	// b's reservation as made before claims: its claim gone, and the store
	// not yet through a Check that gives every reservation its claim.
	fromBeforeClaims(t, e.Service)
	if _, err := e.claims.DeleteOne(ctx, bson.M{"_id": b.ID}); err != nil {
		t.Fatal(err)
	}
	_, err := e.LinkCase(ctx, xjkStaff, b.ID, l2.ID, 20_000)
	wantCode(t, err, minsheng.ECONFLICT)
	if cl := claimOf(t, e.Service, b.ID); cl != nil {
		t.Errorf("claim after the refused link = %+v, want none (left for Check)", cl)
	}

	later := restartedLater(e)
	rep, err := later.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !later.claimsComplete.Load() {
		t.Error("check did not record every reservation as claimed")
	}
	dropped, written := fixesOf(rep, FixClaimDropped), fixesOf(rep, FixClaimWritten)
	if len(dropped) != 1 || dropped[0].CaseID != a.ID {
		t.Errorf("dropped = %+v, want a's claim", dropped)
	}
	if len(written) != 1 || written[0].CaseID != b.ID || written[0].LineID != l1.ID {
		t.Errorf("written = %+v, want b's claim on %s", written, l1.ID)
	}
	t.Logf("check: %d claims seen; fixes: %+v", rep.Claims, rep.Fixes)
	if cl := claimOf(t, e.Service, b.ID); cl == nil || cl.LineID != l1.ID {
		t.Errorf("b's claim = %+v, want %s", cl, l1.ID)
	}
	if cl := claimOf(t, e.Service, a.ID); cl != nil {
		t.Errorf("a's claim = %+v, want none", cl)
	}
	if _, err := later.LinkCase(ctx, xjkStaff, a.ID, l2.ID, 20_000); err != nil {
		t.Errorf("a to the other line after check = %v", err)
	}
	if again, err := later.Check(ctx); err != nil || !again.OK() {
		t.Errorf("second check = %+v, %v; want clean", again, err)
	}
}
