package budgetlink

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
