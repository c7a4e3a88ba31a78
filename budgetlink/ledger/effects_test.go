package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/store/storetest"
)

// spendNotes counts the case's "办结支出" timeline notes.
func spendNotes(c *cases.Case) int {
	n := 0
	for _, ev := range c.Timeline {
		if ev.Action == cases.ActBudget && strings.Contains(ev.Note, "办结支出") {
			n++
		}
	}
	return n
}

// entryOf returns the case's entry on the line (live or released).
func entryOf(t *testing.T, l *BudgetLine, caseID string) Reservation {
	t.Helper()
	for _, r := range l.Reservations {
		if r.CaseID == caseID || r.ReleasedCaseID == caseID {
			return r
		}
	}
	t.Fatalf("line %s has no entry for case %s", l.ID, caseID)
	return Reservation{}
}

// linkedInProgress files a case, links it to line with a reservation and
// drives it to in_progress with an after-photo; another case is linked
// beside it, so the line always holds other entries.
func (e linked) linkedInProgress(t *testing.T, line *BudgetLine, reserve int64) *cases.Case {
	t.Helper()
	ctx := context.Background()
	other := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", "旧床垫清运", "床垫"), bulkyItem)
	if _, err := e.LinkCase(ctx, xjkStaff, other.ID, line.ID, 7_000); err != nil {
		t.Fatal(err)
	}
	c := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, bulkyDesc), bulkyItem)
	if _, err := e.LinkCase(ctx, xjkStaff, c.ID, line.ID, reserve); err != nil {
		t.Fatal(err)
	}
	return e.toInProgress(t, xjkStaff, xjkCadre, e.load(t, c.ID))
}

// TestSimultaneousCompletionsMoveMoneyOnce is issue 8 item 3: 8 completions
// of one case with the same version and different costs. Exactly one wins;
// the line books its cost, the timeline has one "办结支出"; the losers leave
// nothing. Five rounds on one line that keeps holding other entries.
func TestSimultaneousCompletionsMoveMoneyOnce(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运处置 2026", 10_000_000)
	for round := 0; round < 5; round++ {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			c := e.linkedInProgress(t, line, 60_000)
			before := mustGet(t, e.Service, line.ID)
			const n = 8
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					_, errs[i] = e.cs.Complete(ctx, xjkCadre, c.ID, c.Version, int64(50_000+i*1_000), fmt.Sprintf("第%d次", i))
				}(i)
			}
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil:
					if winner >= 0 {
						t.Errorf("completions %d and %d both succeeded", winner, i)
					}
					winner = i
				case minsheng.ErrorCode(err) != minsheng.ECONFLICT:
					t.Errorf("completion %d: %v, want success or ECONFLICT", i, err)
				}
			}
			if winner < 0 {
				t.Fatalf("no completion succeeded: %v", errs)
			}
			cost := int64(50_000 + winner*1_000)
			got := e.load(t, c.ID)
			if got.Status != cases.StatusCompleted || got.ActualCostFen != cost || got.Version != c.Version+1 {
				t.Errorf("case = %s cost %d v%d, want completed at %d v%d", got.Status, got.ActualCostFen, got.Version, cost, c.Version+1)
			}
			if n := spendNotes(got); n != 1 {
				t.Errorf("办结支出 notes = %d, want 1", n)
			}
			if got.MoneyEffect == nil || got.MoneyEffect.State != cases.EffectDone {
				t.Errorf("effect = %+v, want done", got.MoneyEffect)
			}
			l := mustGet(t, e.Service, line.ID)
			wantInvariant(t, l)
			if r := entryOf(t, l, c.ID); r.State != StateSpent || r.SpentFen != cost {
				t.Errorf("entry = %+v, want spent %d", r, cost)
			}
			if d := l.SpentFen - before.SpentFen; d != cost {
				t.Errorf("line spent rose by %d, want %d", d, cost)
			}
			if got.Budget == nil || got.Budget.SpentFen != cost {
				t.Errorf("case copy = %+v, want spent %d", got.Budget, cost)
			}
			if rep, err := e.Check(ctx); err != nil || !rep.OK() {
				t.Errorf("check = %+v, %v; want clean", rep, err)
			}
		})
	}
}

// TestCompleteAgainstCancel races complete×4 against cancel×4 on one
// version: whichever wins, the money matches the case's state.
func TestCompleteAgainstCancel(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运处置 2026", 10_000_000)
	for round := 0; round < 5; round++ {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			c := e.linkedInProgress(t, line, 60_000)
			errs := make([]error, 8)
			var wg sync.WaitGroup
			for i := range errs {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					if i%2 == 0 {
						_, errs[i] = e.cs.Complete(ctx, xjkCadre, c.ID, c.Version, 55_000, "")
					} else {
						_, errs[i] = e.cs.Cancel(ctx, xjkStaff, c.ID, c.Version, "居民撤回")
					}
				}(i)
			}
			wg.Wait()
			wins := 0
			for i, err := range errs {
				if err == nil {
					wins++
				} else if minsheng.ErrorCode(err) != minsheng.ECONFLICT {
					t.Errorf("request %d: %v", i, err)
				}
			}
			if wins != 1 {
				t.Errorf("%d requests succeeded, want 1", wins)
			}
			got := e.load(t, c.ID)
			l := mustGet(t, e.Service, line.ID)
			wantInvariant(t, l)
			r := entryOf(t, l, c.ID)
			switch got.Status {
			case cases.StatusCompleted:
				if r.State != StateSpent || r.SpentFen != 55_000 {
					t.Errorf("completed case, entry = %+v, want spent 55000", r)
				}
			case cases.StatusCancelled:
				if r.State != StateReleased {
					t.Errorf("cancelled case, entry = %+v, want released", r)
				}
			default:
				t.Errorf("status = %s", got.Status)
			}
			t.Logf("round %d: %s", round, got.Status)
			if rep, err := e.Check(ctx); err != nil || !rep.OK() {
				t.Errorf("check = %+v, %v; want clean", rep, err)
			}
		})
	}
}

// TestCrashBetweenDecisionAndMoneyFinishedByCheck: the process dies after
// the completion was decided and before its money moved; Check (after a
// restart) books it exactly once, and running it again finds nothing.
func TestCrashBetweenDecisionAndMoneyFinishedByCheck(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运处置 2026", 10_000_000)
	for _, kind := range []cases.EffectKind{cases.EffectSpend, cases.EffectRelease} {
		t.Run(string(kind), func(t *testing.T) {
			c := e.linkedInProgress(t, line, 60_000)
			crash := errors.New("simulated crash")
			e.faultBeforeEffect = func() error { return crash }
			var err error
			if kind == cases.EffectSpend {
				_, err = e.cs.Complete(ctx, xjkCadre, c.ID, c.Version, 58_000, "")
			} else {
				_, err = e.cs.Cancel(ctx, xjkStaff, c.ID, c.Version, "居民撤回")
			}
			e.faultBeforeEffect = nil
			if !errors.Is(err, crash) {
				t.Fatalf("transition = %v, want the crash", err)
			}
			if r := entryOf(t, mustGet(t, e.Service, line.ID), c.ID); r.State != StateReserved {
				t.Fatalf("entry after the crash = %+v, want still reserved", r)
			}
			if got := e.load(t, c.ID); got.MoneyEffect == nil || got.MoneyEffect.State != cases.EffectPending {
				t.Fatalf("effect after the crash = %+v, want pending", got.MoneyEffect)
			}

			restarted := NewService(e.store, Config{Logger: storetest.Logger()})
			restarted.SetCases(e.cs)
			t.Cleanup(func() { e.SetCases(e.cs) })
			rep, err := restarted.Check(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if f := fixesOf(rep, FixCaseEffect); len(f) != 1 || f[0].CaseID != c.ID {
				t.Errorf("fixes = %+v, want the case's effect finished", rep.Fixes)
			}
			l := mustGet(t, e.Service, line.ID)
			wantInvariant(t, l)
			got := e.load(t, c.ID)
			r := entryOf(t, l, c.ID)
			if kind == cases.EffectSpend {
				if r.State != StateSpent || r.SpentFen != 58_000 || spendNotes(got) != 1 {
					t.Errorf("entry = %+v, notes %d; want spent 58000 once", r, spendNotes(got))
				}
			} else if r.State != StateReleased {
				t.Errorf("entry = %+v, want released", r)
			}
			if got.MoneyEffect.State != cases.EffectDone {
				t.Errorf("effect = %+v, want done", got.MoneyEffect)
			}
			again, err := restarted.Check(ctx)
			if err != nil || !again.OK() {
				t.Errorf("second check = %+v, %v; want clean", again, err)
			}
		})
	}
}

// TestReopenedCaseRebooksAndLateEffectIsIgnored: a case completed,
// reopened (不满意) and completed again at another cost books the new
// cost; the first completion's effect, arriving late (a request that
// stalled after deciding), changes nothing.
func TestReopenedCaseRebooksAndLateEffectIsIgnored(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运处置 2026", 10_000_000)
	c := e.linkedInProgress(t, line, 60_000)
	c, err := e.cs.Complete(ctx, xjkCadre, c.ID, c.Version, 50_000, "")
	if err != nil {
		t.Fatal(err)
	}
	first := *e.load(t, c.ID).MoneyEffect
	if c, err = e.cs.RecordVerdict(ctx, filer, cases.CaseRef{ID: c.ID}, c.Version, cases.Rating{Verdict: cases.VerdictDissatisfied, Comment: "还有一件没运走"}); err != nil {
		t.Fatal(err)
	}
	if c, err = e.cs.Complete(ctx, xjkCadre, c.ID, c.Version, 70_000, "全部运走"); err != nil {
		t.Fatal(err)
	}
	before := mustGet(t, e.Service, line.ID)
	if r := entryOf(t, before, c.ID); r.State != StateSpent || r.SpentFen != 70_000 {
		t.Fatalf("entry after the second completion = %+v, want spent 70000", r)
	}
	stored := e.load(t, c.ID)
	if _, _, err := e.ApplyEffect(ctx, xjkCadre, stored, first); err != nil {
		t.Fatal(err)
	}
	after := mustGet(t, e.Service, line.ID)
	wantInvariant(t, after)
	if after.Totals() != before.Totals() || entryOf(t, after, c.ID).SpentFen != 70_000 {
		t.Errorf("late first effect moved money: %+v → %+v", before.Totals(), after.Totals())
	}
	if n := spendNotes(e.load(t, c.ID)); n != 2 {
		t.Errorf("办结支出 notes = %d, want 2 (one per completion)", n)
	}
	if rep, err := e.Check(ctx); err != nil || !rep.OK() {
		t.Errorf("check = %+v, %v; want clean", rep, err)
	}
}

// TestOverrunTakenAfterPreCheckUndoesCompletion: the pre-check saw enough
// money for an overrun, but another case took it before the effect was
// applied. The completion is undone (back to in_progress, a 撤销 event
// with the ledger's reason), nothing is booked, and the user gets 409.
func TestOverrunTakenAfterPreCheckUndoesCompletion(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运处置 2026", 100_000)
	c := e.linkedInProgress(t, line, 60_000) // with another case's 7,000: 33,000 left
	third := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", "旧衣柜清运", "衣柜"), bulkyItem)
	var once sync.Once
	e.faultBeforeEffect = func() (err error) {
		once.Do(func() { _, err = e.LinkCase(ctx, xjkStaff, third.ID, line.ID, 20_000) })
		return err
	}
	defer func() { e.faultBeforeEffect = nil }()

	_, err := e.cs.Complete(ctx, xjkCadre, c.ID, c.Version, 80_000, "") // 20,000 over the reservation
	wantCode(t, err, minsheng.ECONFLICT)
	got := e.load(t, c.ID)
	last := got.Timeline[len(got.Timeline)-1]
	if got.Status != cases.StatusInProgress || got.CompletedAt != nil || got.Version != c.Version+2 {
		t.Errorf("case = %s completed %v v%d, want in_progress without completed_at at v%d", got.Status, got.CompletedAt, got.Version, c.Version+2)
	}
	if last.Action != cases.ActUndo || !strings.Contains(last.Note, "超出预留") || got.MoneyEffect.State != cases.EffectFailed {
		t.Errorf("last event %+v, effect %+v; want the undo with the ledger's reason, effect failed", last, got.MoneyEffect)
	}
	l := mustGet(t, e.Service, line.ID)
	wantInvariant(t, l)
	if r := entryOf(t, l, c.ID); r.State != StateReserved || r.AmountFen != 60_000 {
		t.Errorf("entry = %+v, want still reserved 60000", r)
	}
	if rep, err := e.Check(ctx); err != nil || !rep.OK() {
		t.Errorf("check = %+v, %v; want clean", rep, err)
	}
	// What the line still covers goes through.
	if _, err := e.cs.Complete(ctx, xjkCadre, c.ID, got.Version, 70_000, ""); err != nil {
		t.Fatalf("completion within the money left: %v", err)
	}
	if r := entryOf(t, mustGet(t, e.Service, line.ID), c.ID); r.State != StateSpent || r.SpentFen != 70_000 {
		t.Errorf("entry = %+v, want spent 70000", r)
	}
}

// TestReleaseAppliedAgain: a cancellation's release applied a second time
// (two requests settling the same decided effect at once; only one of them
// records it) still answers the released copy and its note, so whichever
// records the effect leaves the case's copy released, with the note — it
// used to answer nothing, and a case could keep "reserved" until Check.
func TestReleaseAppliedAgain(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运处置 2026", 10_000_000)
	for round := range 3 {
		t.Run(fmt.Sprintf("round %d", round+1), func(t *testing.T) {
			before := e.linkedInProgress(t, line, 60_000)
			cancelled, err := e.cs.Cancel(ctx, xjkStaff, before.ID, before.Version, "居民撤回")
			if err != nil {
				t.Fatal(err)
			}
			if cancelled.Budget == nil || cancelled.Budget.State != StateReleased {
				t.Fatalf("copy after the cancellation = %+v, want released", cancelled.Budget)
			}
			link, note, err := e.ApplyEffect(ctx, xjkStaff, before, *cancelled.MoneyEffect)
			if err != nil {
				t.Fatal(err)
			}
			if link == nil || link.State != StateReleased || link.ReservedFen != 0 || link.LineID != line.ID {
				t.Errorf("second application's copy = %+v, want released on %s", link, line.ID)
			}
			if want := "案件取消，释放预留资金 600.00 元"; note != want {
				t.Errorf("second application's note = %q, want %q", note, want)
			}
			wantInvariant(t, mustGet(t, e.Service, line.ID))
		})
	}
}
