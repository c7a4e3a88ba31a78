package cases_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/cases"
	"minsheng/internal/org"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

// storedIDs returns the sorted ids of a collection's documents, read
// directly, past any summary still waiting to be written.
func storedIDs(t *testing.T, st *store.Store, coll string) []string {
	t.Helper()
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := st.Collection(coll).FindAll(context.Background(), bson.M{}, &docs); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	slices.Sort(out)
	return out
}

// oneProcessOnly skips a test of what only a store's one process does
// (summaries written later, caches of the store): not on MongoDB, nor on
// the embedded engine with MINSHENG_TEST_SHARED=1.
func oneProcessOnly(t *testing.T, st *store.Store) {
	t.Helper()
	if !st.OneProcess() {
		t.Skip("only where one process owns the store (embedded FerretDB)")
	}
}

// reopen connects anew to st's database, as the next process would; the
// connection closes with the test.
func reopen(t *testing.T, st *store.Store) *store.Store {
	t.Helper()
	ctx := context.Background()
	next, err := store.Open(ctx, store.Config{URI: storetest.URI(), Database: st.DatabaseName(), Logger: storetest.Logger(), Shared: storetest.Shared()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = next.Close(ctx) })
	return next
}

// TestLaterSummariesAfterACrash: new filings' summaries are written after
// their cases; a crash before they are loses none. Each round a fresh
// service (a process) files 20 cases at once on a store that already holds
// cases and summaries, then "crashes" with every summary still waiting; the
// next process's start (RepairPendingSummaries) writes exactly the missing
// ones from the marked number blocks, lists show every case, and no mark
// is left.
func TestLaterSummariesAfterACrash(t *testing.T) {
	ctx := context.Background()
	_, st := intakeEnv(t)
	oneProcessOnly(t, st)
	for round := range 3 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			// This round's process, on its own connection.
			svc := cases.NewService(reopen(t, st), org.Xicheng(), nil, cases.Config{Logger: storetest.Logger()})
			cases.SetLaterDelay(svc, time.Hour)
			before := len(storedIDs(t, st, "cases"))
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for i := range 20 {
				wg.Go(func() {
					in := input()
					in.Title = fmt.Sprintf("崩溃前的诉求 %d-%d", round, i)
					if i%3 == 0 {
						in.IdempotencyKey = fmt.Sprintf("crash-%d-%02d", round, i)
					}
					if _, _, err := svc.Submit(ctx, resident, in); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if n := cases.WaitingSummaries(svc); n != 20 {
				t.Fatalf("%d summaries waiting, want all 20", n)
			}
			cases.LoseWaitingSummaries(svc) // the crash
			if c, s := len(storedIDs(t, st, "cases")), len(storedIDs(t, st, "case_summaries")); c != before+20 || s != before {
				t.Fatalf("after the crash: %d cases and %d summaries, want %d and %d", c, s, before+20, before)
			}
			marks, err := cases.IntakeMarks(svc)
			if err != nil || len(marks) == 0 {
				t.Fatalf("marks after the crash: %v (%v), want the blocks numbered from", marks, err)
			}

			next := cases.NewService(reopen(t, st), org.Xicheng(), nil, cases.Config{Logger: storetest.Logger()})
			n, err := next.RepairPendingSummaries(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != 20 {
				t.Errorf("the start wrote %d summaries, want the 20 missing", n)
			}
			if c, s := storedIDs(t, st, "cases"), storedIDs(t, st, "case_summaries"); !slices.Equal(c, s) {
				t.Errorf("after the start: %d cases and %d summaries, want the same ids", len(c), len(s))
			}
			if marks, err := cases.IntakeMarks(next); err != nil || len(marks) != 0 {
				t.Errorf("marks after the start: %v (%v), want none", marks, err)
			}
			got := pages(t, next, staff, cases.Filter{})
			if len(got) != before+20 {
				t.Errorf("listed %d cases, want %d", len(got), before+20)
			}
			rep, err := next.RepairSummaries(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Missing+rep.Stale+rep.Orphans != 0 {
				t.Errorf("check after the start: %+v, want nothing to repair", rep)
			}
		})
	}
}

// TestReadsSeeWaitingSummaries: a summary waiting to be written is never
// missed by a read — lists and report walks write it first — and a case
// write made while it waits writes the summary from the case as it is.
func TestReadsSeeWaitingSummaries(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	oneProcessOnly(t, st)
	e := newEnvOn(t, st)
	corpus(t, e)
	if err := e.svc.FlushSummaries(ctx); err != nil {
		t.Fatal(err)
	}
	cases.SetLaterDelay(e.svc, time.Hour)

	t.Run("list", func(t *testing.T) {
		c := e.submit(t, resident, input())
		if n := cases.WaitingSummaries(e.svc); n != 1 {
			t.Fatalf("%d summaries waiting, want 1", n)
		}
		if got := pages(t, e.svc, staff, cases.Filter{Status: cases.StatusSubmitted}); !slices.Contains(got, c.ID) {
			t.Errorf("the staff queue lacks %s, filed just before", c.Number)
		}
		if n := cases.WaitingSummaries(e.svc); n != 0 {
			t.Errorf("%d summaries waiting after a list, want 0", n)
		}
	})
	t.Run("report walk", func(t *testing.T) {
		c := e.submit(t, resident, input())
		seen := false
		if err := e.svc.EachCaseFacts(ctx, cases.Filter{}, func(f *cases.Case) error {
			seen = seen || f.ID == c.ID
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !seen {
			t.Errorf("the facts walk missed %s, filed just before", c.Number)
		}
	})
	t.Run("transition while waiting", func(t *testing.T) {
		c := e.submit(t, resident, input())
		if _, err := e.svc.Accept(ctx, staff, c.ID, c.Version, ""); err != nil {
			t.Fatal(err)
		}
		if n := cases.WaitingSummaries(e.svc); n != 0 {
			t.Errorf("%d summaries waiting after the transition, want 0 (it wrote its own)", n)
		}
		if got := pages(t, e.svc, staff, cases.Filter{Status: cases.StatusAccepted}); !slices.Contains(got, c.ID) {
			t.Errorf("the accepted queue lacks %s", c.Number)
		}
		if got := pages(t, e.svc, staff, cases.Filter{Status: cases.StatusSubmitted}); slices.Contains(got, c.ID) {
			t.Errorf("the submitted queue still shows %s", c.Number)
		}
	})
	t.Run("stale transition while waiting", func(t *testing.T) {
		c := e.submit(t, resident, input())
		if _, err := e.svc.Accept(ctx, staff, c.ID, c.Version+1, ""); err == nil {
			t.Fatal("accepted with a wrong version")
		}
		if got := pages(t, e.svc, staff, cases.Filter{Status: cases.StatusSubmitted}); !slices.Contains(got, c.ID) {
			t.Errorf("the submitted queue lacks %s after a refused transition", c.Number)
		}
	})
	rep, err := e.svc.RepairSummaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Missing+rep.Stale+rep.Orphans != 0 {
		t.Errorf("check: %+v, want nothing to repair", rep)
	}
}

// TestListsSeeEveryAnsweredFiling: 16 clients file while 4 read the queue
// and the report walk, over rounds, on a store already holding cases:
// every read shows every filing answered before it began.
func TestListsSeeEveryAnsweredFiling(t *testing.T) {
	ctx := context.Background()
	svc, st := intakeEnv(t)
	for round := range 3 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			var mu sync.Mutex
			var answered []string
			done := make(chan struct{})
			var filers, readers sync.WaitGroup
			failures := make(chan string, 100)
			fail := func(format string, args ...any) {
				select {
				case failures <- fmt.Sprintf(format, args...):
				default:
				}
			}
			for i := range 16 {
				filers.Go(func() {
					for k := range 2 {
						in := input()
						in.Title = fmt.Sprintf("并发诉求 %d-%d-%d", round, i, k)
						c, _, err := svc.Submit(ctx, resident, in)
						if err != nil {
							fail("submit: %v", err)
							return
						}
						mu.Lock()
						answered = append(answered, c.ID)
						mu.Unlock()
					}
				})
			}
			for r := range 4 {
				readers.Go(func() {
					for {
						select {
						case <-done:
							return
						default:
						}
						mu.Lock()
						want := slices.Clone(answered)
						mu.Unlock()
						seen := map[string]bool{}
						if r%2 == 0 {
							got, _, err := svc.Find(ctx, staff, cases.Filter{Limit: cases.MaxLimit})
							if err != nil {
								fail("find: %v", err)
								return
							}
							for _, c := range got {
								seen[c.ID] = true
							}
						} else if err := svc.EachCaseFacts(ctx, cases.Filter{}, func(c *cases.Case) error {
							seen[c.ID] = true
							return nil
						}); err != nil {
							fail("facts: %v", err)
							return
						}
						for _, id := range want {
							if !seen[id] {
								fail("reader %d missed %s, answered before its read", r, id)
								return
							}
						}
					}
				})
			}
			filers.Wait()
			close(done)
			readers.Wait()
			close(failures)
			for f := range failures {
				t.Error(f)
			}
			if err := svc.FlushSummaries(ctx); err != nil {
				t.Fatal(err)
			}
			if c, s := storedIDs(t, st, "cases"), storedIDs(t, st, "case_summaries"); !slices.Equal(c, s) {
				t.Errorf("%d cases and %d summaries, want the same ids", len(c), len(s))
			}
		})
	}
}
