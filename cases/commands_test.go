package cases_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"minsheng/cases"
	"minsheng/internal/store/storetest"
)

// TestTransitionCommands pins how many store commands the transitions of
// issue 9 (accept, assess) issue on cases that already hold other entries,
// with residents' text messages on: each command is a round trip to the
// engine, and each write waits for the process-wide write guard.
func TestTransitionCommands(t *testing.T) {
	ctx := context.Background()
	st, cmds := storetest.NewCounted(t)
	e := newEnvOn(t, st)
	e.svc.SetSMS(&sms{}, "https://minsheng.example")
	// Finished writes' marks are cleared together later (casedb/write.go); not
	// within these counts.
	cases.SetMarkSweepDelay(e.svc, time.Hour)
	type step struct {
		name string
		want int
		do   func(c *cases.Case) (*cases.Case, error)
	}
	steps := []step{
		// Load, then the versioned write with its summary (pending mark,
		// case, summary; the mark is cleared with others later); then the
		// resident's text message (claim, sent) and its timeline entry: the
		// case alone, as the summary carries no timeline (it was 12: a mark
		// cleared each time, a whole summary write for the timeline entry).
		{"accept", 7, func(c *cases.Case) (*cases.Case, error) { return e.svc.Accept(ctx, staff, c.ID, c.Version, "") }},
		// ...and the cadre's notification.
		{"assign", 5, func(c *cases.Case) (*cases.Case, error) {
			return e.svc.Assign(ctx, staff, c.ID, c.Version, cadre.UserID, "")
		}},
		{"assess", 4, func(c *cases.Case) (*cases.Case, error) {
			return e.svc.Assess(ctx, cadre, c.ID, c.Version, cases.Assessment{EstimateFen: 60_000, Households: 6, Risk: 1})
		}},
	}
	for round := range 2 {
		c := e.submit(t, resident, input())
		if _, err := e.svc.Cosign(ctx, neighbour, c.ID); err != nil {
			t.Fatal(err)
		}
		for _, s := range steps {
			t.Run(fmt.Sprintf("%s %d", s.name, round+1), func(t *testing.T) {
				cmds.Start()
				out, err := s.do(c)
				got := cmds.Stop()
				if err != nil {
					t.Fatal(err)
				}
				c = out
				t.Logf("%s:\n%s", s.name, storetest.Describe(got))
				if len(got) > s.want {
					t.Errorf("%s issued %d store commands, want at most %d", s.name, len(got), s.want)
				}
			})
		}
	}
}

// TestPendingMarksSweptTogether: the marks of finished writes go in
// batches, after the write; a mark of a write interrupted between case
// and summary stays, even when an earlier write of the same case had
// finished and was waiting for the sweep, and the start repairs it.
func TestPendingMarksSweptTogether(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	waitMarks := func(t *testing.T, want []string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got, err := cases.PendingMarks(e.svc)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(got, want) || time.Now().After(deadline) {
				if !slices.Equal(got, want) {
					t.Fatalf("pending marks: got %v, want %v", got, want)
				}
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for round := range 3 {
		t.Run(fmt.Sprintf("round %d", round+1), func(t *testing.T) {
			cases.SetMarkSweepDelay(e.svc, 20*time.Millisecond)
			var ids []string
			for range 4 {
				c := e.submit(t, resident, input())
				if _, err := e.svc.Accept(ctx, staff, c.ID, c.Version, ""); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, c.ID)
			}
			waitMarks(t, []string{})
			// 8 at once on one case, then an interrupted write of it while
			// the finished ones wait for their sweep.
			cases.SetMarkSweepDelay(e.svc, 300*time.Millisecond)
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() { _, _ = e.svc.Cosign(ctx, neighbour, ids[0]) })
			}
			wg.Wait()
			cases.SetSummaryFault(e.svc, func(string) error { return cases.ErrSkipSummary })
			c, err := e.svc.Get(ctx, staff, ids[0])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Assign(ctx, staff, c.ID, c.Version, cadre.UserID, ""); err != nil {
				t.Fatal(err)
			}
			cases.SetSummaryFault(e.svc, nil)
			time.Sleep(700 * time.Millisecond) // past the sweeps
			waitMarks(t, []string{ids[0]})
			n, err := e.svc.RepairPendingSummaries(ctx)
			if err != nil || n != 1 {
				t.Fatalf("repaired %d (%v), want 1", n, err)
			}
			waitMarks(t, []string{})
		})
	}
}

// TestWarmFactsServesTheFirstReport: after WarmFacts (what the server runs
// in the background at start) the first district-wide facts walk reads
// nothing from the store, and it sees every case.
func TestWarmFactsServesTheFirstReport(t *testing.T) {
	ctx := context.Background()
	st, cmds := storetest.NewCounted(t)
	oneProcessOnly(t, st) // the facts cache is kept only there
	e := newEnvOn(t, st)
	far := input()
	far.Community = commB
	want := map[string]bool{}
	for _, in := range []cases.NewCase{input(), input(), far} {
		want[e.submit(t, resident, in).ID] = true
	}
	// A fresh service on the same store, after the first one stopped (and
	// wrote the summaries it kept waiting, as the server's stop does): its
	// cache is as cold as after a start.
	if err := e.svc.FlushSummaries(ctx); err != nil {
		t.Fatal(err)
	}
	cold := newEnvOn(t, st)
	n, err := cold.svc.WarmFacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Errorf("warmed %d summaries, want %d", n, len(want))
	}
	cmds.Start()
	got := map[string]bool{}
	err = cold.svc.EachCaseFacts(ctx, cases.Filter{}, func(c *cases.Case) error {
		got[c.ID] = true
		return nil
	})
	issued := cmds.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(issued) != 0 {
		t.Errorf("the walk after warming issued %d store commands, want 0:\n%s", len(issued), storetest.Describe(issued))
	}
	if len(got) != len(want) {
		t.Errorf("the walk saw %d cases, want %d", len(got), len(want))
	}
}
