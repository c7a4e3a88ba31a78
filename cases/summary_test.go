package cases_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"minsheng/cases"
	"minsheng/internal/auth"
)

// corpus files varied cases: three communities in two sub-districts, three
// areas, several titles, states from submitted to rejected, overdue ones
// (filed before the clock moves past their response deadline) and fresh
// ones, some with a budget copy. It returns the ids in filing order.
func corpus(t *testing.T, e env) []string {
	t.Helper()
	ctx := context.Background()
	comms := []string{commA, commA2, commB}
	areas := []string{cases.AreaUrban, cases.AreaCommunity, cases.AreaSafety}
	titles := []string{"3号楼楼道灯不亮", "路灯LED闪烁", "垃圾清运不及时", "ＡＢＣ小区停车难", "楼道堆物"}
	var ids []string
	for i := range 30 {
		if i == 18 {
			// The first 18 are past their response deadline from here on.
			e.clock.Advance(10 * 24 * time.Hour)
		}
		e.clock.Advance(time.Minute)
		in := input()
		in.Community = comms[i%3]
		in.Area = areas[(i/3)%3]
		in.Title = fmt.Sprintf("%s %d", titles[i%len(titles)], i)
		c := e.submit(t, resident, in)
		ids = append(ids, c.ID)
		who := staff
		if in.Community == commB {
			who = staffFar
		}
		var err error
		switch i % 5 {
		case 1, 2:
			c, err = e.svc.Accept(ctx, who, c.ID, c.Version, "")
			if err == nil && i%5 == 2 && in.Community == commA {
				c, err = e.svc.Assign(ctx, who, c.ID, c.Version, cadre.UserID, "")
			}
		case 3:
			_, err = e.svc.Reject(ctx, who, c.ID, c.Version, "不属于本街道职责范围")
		}
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if i%4 == 0 {
			if err := e.svc.SetBudgetCopy(ctx, auth.Principal{}, c.ID, &cases.BudgetLink{LineID: fmt.Sprintf("line-%d", i%3), State: "reserved"}, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids
}

// pages walks every page of f for p and returns the ids in order.
func pages(t *testing.T, svc *cases.Service, p auth.Principal, f cases.Filter) []string {
	t.Helper()
	var ids []string
	for range 100 {
		got, next, err := svc.Find(context.Background(), p, f)
		if err != nil {
			t.Fatalf("Find: %v", err)
		}
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		if next == "" {
			return ids
		}
		f.Cursor = next
	}
	t.Fatal("more than 100 pages")
	return nil
}

func TestQueuesOnSummariesMatchCases(t *testing.T) {
	e := newEnv(t)
	all := corpus(t, e)
	lists := []struct {
		name string
		p    auth.Principal
		f    cases.Filter
	}{
		{"staff queue", staff, cases.Filter{}},
		{"staff submitted", staff, cases.Filter{Status: cases.StatusSubmitted}},
		{"staff accepted by deadline", staff, cases.Filter{Status: cases.StatusAccepted, Sort: cases.SortDeadline}},
		{"staff one community", staff, cases.Filter{Community: commA2}},
		{"staff overdue", staff, cases.Filter{Overdue: true, Sort: cases.SortDeadline}},
		{"staff text", staff, cases.Filter{Text: "楼道"}},
		{"staff text full-width", staff, cases.Filter{Text: "ａｂｃ"}},
		{"staff area", staff, cases.Filter{Area: cases.AreaCommunity}},
		{"staff budget", staff, cases.Filter{HasBudget: true}},
		{"staff other sub-district", staffFar, cases.Filter{}},
		{"cadre queue", cadre, cases.Filter{}},
		{"cadre overdue", cadre, cases.Filter{Overdue: true}},
		{"cadre by deadline", cadreNext, cases.Filter{Sort: cases.SortDeadline}},
		{"cadre far rejected", cadreFar, cases.Filter{Status: cases.StatusRejected}},
		{"admin everything", admin, cases.Filter{}},
		{"admin sub-district", admin, cases.Filter{SubDistrict: subB, Sort: cases.SortDeadline}},
		{"finance filed range", finance, cases.Filter{FiledFrom: time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)}},
		{"resident own", resident, cases.Filter{}},
	}
	for _, l := range lists {
		for _, limit := range []int{1, 4, 100} {
			t.Run(fmt.Sprintf("%s/limit %d", l.name, limit), func(t *testing.T) {
				f := l.f
				f.Limit = limit
				cases.SetListOnCases(e.svc, false)
				got := pages(t, e.svc, l.p, f)
				cases.SetListOnCases(e.svc, true)
				want := pages(t, e.svc, l.p, f)
				cases.SetListOnCases(e.svc, false)
				if !slices.Equal(got, want) {
					t.Errorf("got %v,\nwant %v", got, want)
				}
			})
		}
	}
	t.Run("the corpus is varied", func(t *testing.T) {
		overdue := pages(t, e.svc, admin, cases.Filter{Overdue: true, Limit: 100})
		if n := len(overdue); n == 0 || n == len(all) {
			t.Errorf("got %d overdue of %d, want some but not all", n, len(all))
		}
	})
	for _, f := range []cases.Filter{{}, {SubDistrict: subA}, {HasBudget: true}, {Status: cases.StatusAccepted}, {Overdue: true, Community: commB}} {
		t.Run(fmt.Sprintf("EachCase %+v", f), func(t *testing.T) {
			each := func() []string {
				var ids []string
				if err := e.svc.EachCase(context.Background(), f, func(c *cases.Case) error {
					ids = append(ids, c.ID)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				return ids
			}
			got := each()
			cases.SetListOnCases(e.svc, true)
			want := each()
			cases.SetListOnCases(e.svc, false)
			if !slices.Equal(got, want) {
				t.Errorf("got %v,\nwant %v", got, want)
			}
		})
	}
	t.Run("similar", func(t *testing.T) {
		got, err := e.svc.Similar(context.Background(), resident, commA, cases.AreaUrban, "楼道灯不亮")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			t.Errorf("got no similar cases, want the open 楼道灯 ones")
		}
	})
}

func TestSummaryRepairAfterInterruptedWrite(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	corpus(t, e)
	clean := func(t *testing.T) {
		t.Helper()
		rep, err := e.svc.RepairSummaries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Missing+rep.Stale+rep.Orphans != 0 {
			t.Errorf("got %+v, want nothing to repair", rep)
		}
	}
	t.Run("written with every case write", clean)

	crash := func(id string) error { return cases.ErrSkipSummary }
	t.Run("transition", func(t *testing.T) {
		c := e.submit(t, resident, input())
		cases.SetSummaryFault(e.svc, crash)
		if _, err := e.svc.Accept(ctx, staff, c.ID, c.Version, ""); err != nil {
			t.Fatal(err)
		}
		cases.SetSummaryFault(e.svc, nil)
		accepted := pages(t, e.svc, staff, cases.Filter{Status: cases.StatusAccepted})
		if slices.Contains(accepted, c.ID) {
			t.Fatalf("got %s in the accepted queue before the repair, want the stale summary to hide it", c.ID)
		}
		n, err := e.svc.RepairPendingSummaries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("repaired %d pending, want 1", n)
		}
		if got := pages(t, e.svc, staff, cases.Filter{Status: cases.StatusAccepted}); !slices.Contains(got, c.ID) {
			t.Errorf("got %v, want %s in the accepted queue after the repair", got, c.ID)
		}
		clean(t)
	})
	t.Run("filing", func(t *testing.T) {
		cases.SetSummaryFault(e.svc, crash)
		c := e.submit(t, resident, input())
		cases.SetSummaryFault(e.svc, nil)
		if got := pages(t, e.svc, staff, cases.Filter{}); slices.Contains(got, c.ID) {
			t.Fatalf("got %s listed without a summary", c.ID)
		}
		rep, err := e.svc.RepairSummaries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Missing != 1 || rep.Stale != 0 || rep.Cases != 32 {
			t.Errorf("got %+v, want 1 missing of 32 cases", rep)
		}
		if got := pages(t, e.svc, staff, cases.Filter{}); !slices.Contains(got, c.ID) {
			t.Errorf("got %v, want %s listed after the repair", got, c.ID)
		}
		n, err := e.svc.RepairPendingSummaries(ctx)
		if err != nil || n != 0 {
			t.Errorf("got %d pending (%v), want none left", n, err)
		}
	})
}

// Simultaneous identical writes to cases that already hold other entries:
// whatever wins, every summary equals its case afterwards.
func TestSummariesFollowConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	corpus(t, e)
	for round := range 5 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			c := e.submit(t, resident, input())
			if _, err := e.svc.Cosign(ctx, neighbour, c.ID); err != nil {
				t.Fatal(err)
			}
			c, err := e.svc.FindByID(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			won := 0
			for range 12 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := e.svc.Accept(ctx, staff, c.ID, c.Version, "已受理"); err == nil {
						mu.Lock()
						won++
						mu.Unlock()
					}
				}()
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _ = e.svc.Cosign(ctx, stranger, c.ID)
				}()
			}
			wg.Wait()
			if won != 1 {
				t.Errorf("got %d accepts, want 1", won)
			}
			rep, err := e.svc.RepairSummaries(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Missing+rep.Stale+rep.Orphans != 0 {
				t.Errorf("got %+v, want every summary equal to its case", rep)
			}
			if got := pages(t, e.svc, staff, cases.Filter{Status: cases.StatusAccepted, Limit: 100}); !slices.Contains(got, c.ID) {
				t.Errorf("got %v, want %s in the accepted queue", got, c.ID)
			}
		})
	}
}

// A data directory from before the summaries gets them at the first start,
// in batches; later starts only look at interrupted writes.
func TestEnsureSummariesBuildsThemOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	kept := e.submit(t, resident, input())
	for i := range 250 {
		c := *kept
		c.ID, c.Number, c.IdempotencyKey = fmt.Sprintf("old-%03d", i), fmt.Sprintf("XC2025-%06d", i), ""
		c.FiledAt = kept.FiledAt.Add(-time.Duration(i+1) * time.Hour)
		if err := cases.InsertCaseRaw(e.svc, &c); err != nil {
			t.Fatal(err)
		}
	}
	n, err := e.svc.EnsureSummaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 250 {
		t.Errorf("first start wrote %d summaries, want 250", n)
	}
	if got := pages(t, e.svc, staff, cases.Filter{Limit: 100}); len(got) != 251 {
		t.Errorf("got %d cases listed, want 251", len(got))
	}
	if n, err := e.svc.EnsureSummaries(ctx); err != nil || n != 0 {
		t.Errorf("second start wrote %d (%v), want 0", n, err)
	}
}

// Simultaneous copies of one filing (one Idempotency-Key) make one case;
// the losers' summaries, inserted before their case insert failed, are
// taken back, so none is left without a case.
func TestSimultaneousFilingsLeaveNoOrphanSummary(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	corpus(t, e)
	for round := range 5 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			in := input()
			in.IdempotencyKey = fmt.Sprintf("filing-%d", round)
			var wg sync.WaitGroup
			ids := make([]string, 12)
			for i := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if c, _, err := e.svc.Submit(ctx, resident, in); err == nil {
						ids[i] = c.ID
					}
				}()
			}
			wg.Wait()
			for _, id := range ids {
				if id != ids[0] || id == "" {
					t.Fatalf("got ids %v, want one case", ids)
				}
			}
			rep, err := e.svc.RepairSummaries(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Missing+rep.Stale+rep.Orphans != 0 {
				t.Errorf("got %+v, want nothing to repair", rep)
			}
		})
	}
}
