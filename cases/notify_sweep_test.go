package cases_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"minsheng/cases"
)

// TestSweepDeadlines drives the background sweep with the service's clock:
// without anyone opening a list, the cadre assigned to an open case gets
// one "24 小时内到期" notice when its deadline comes within 24 hours and
// one "已超期" once it passes — one each however many sweeps run at the
// same moment, over rounds, next to the notices the cadre already holds —
// and nobody is told of unassigned or closed cases.
func TestSweepDeadlines(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.to(t, cases.StatusAssigned) // completion due in 15 days
	e.clock.Advance(time.Hour)
	b := e.to(t, cases.StatusInProgress) // an hour later
	e.to(t, cases.StatusClosed)          // its deadline no longer runs
	e.submit(t, resident, input())       // unassigned, response due in 24 h
	unread := func(t *testing.T) int {
		t.Helper()
		n, err := e.svc.UnreadCount(ctx, cadre) // counts; produces nothing
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	sweep := func(t *testing.T) int {
		t.Helper()
		const copies = 8
		made := make([]int, copies)
		errs := make([]error, copies)
		var wg sync.WaitGroup
		for i := range copies {
			wg.Add(1)
			go func() { defer wg.Done(); made[i], errs[i] = e.svc.SweepDeadlines(ctx) }()
		}
		wg.Wait()
		total := 0
		for i := range copies {
			if errs[i] != nil {
				t.Fatalf("sweep %d: %v", i, errs[i])
			}
			total += made[i]
		}
		return total
	}
	kinds := func(t *testing.T) map[string][]string {
		t.Helper()
		list, _, err := e.svc.Notifications(ctx, cadre)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, n := range list {
			out[n.Kind] = append(out[n.Kind], n.CaseID+" "+n.Title)
		}
		return out
	}

	before := unread(t) // the assignment notices
	if before == 0 {
		t.Fatal("no assignment notices: the cadre should already hold entries")
	}
	t.Run("nothing due", func(t *testing.T) {
		if got := sweep(t); got != 0 {
			t.Errorf("created %d notices 15 days ahead, want 0", got)
		}
	})
	rounds := []struct {
		name      string
		advance   time.Duration
		kind      string
		title     string
		wantTotal int
	}{
		{"within 24 hours", 14*24*time.Hour + 2*time.Hour, cases.NotifyDueSoon, "24 小时内到期", 2},
		{"passed", 2 * 24 * time.Hour, cases.NotifyOverdue, "已超期", 4},
	}
	for _, r := range rounds {
		t.Run(r.name, func(t *testing.T) {
			e.clock.Advance(r.advance)
			if got := sweep(t); got != 2 {
				t.Errorf("8 sweeps at once created %d notices, want 2 (cases %s and %s)", got, a.ID, b.ID)
			}
			if got := sweep(t); got != 0 {
				t.Errorf("sweeping again created %d, want 0", got)
			}
			if got := unread(t) - before; got != r.wantTotal {
				t.Errorf("deadline notices without opening a list: %d, want %d", got, r.wantTotal)
			}
			got := kinds(t)[r.kind]
			want := map[string]bool{a.ID + " " + r.title: true, b.ID + " " + r.title: true}
			if len(got) != 2 || !want[got[0]] || !want[got[1]] || got[0] == got[1] {
				t.Errorf("%s notices %v, want one each for %s and %s titled %q", r.kind, got, a.ID, b.ID, r.title)
			}
		})
	}

	t.Run("the ticker stops with its context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); e.svc.RunDeadlineSweep(ctx, 10*time.Millisecond) }()
		time.Sleep(50 * time.Millisecond)
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("RunDeadlineSweep still running 10 s after its context ended")
		}
	})
}
