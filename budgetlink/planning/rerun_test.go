package planning

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"minsheng/cases"
)

// TestKilledRunRePostedTogether: a committed run dies after a few
// reservations, then two (here eight) clients re-POST the same run id at
// once, on a line that already holds other reservations — where the
// engine's $ne over arrays let both copies reserve the same cases. Every
// funded case must end reserved once, over five rounds.
func TestKilledRunRePostedTogether(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l := e.line(t, sub, itemToilet, "胡同整治（并发重放）", 10_000_000)
	for i := range 3 {
		c := e.addCase(t, cases.Case{ID: fmt.Sprintf("held-%d", i), CatalogItem: itemToilet, Assessment: assess(10_000, 1, 0),
			FiledAt: daysAgo(120), Location: cases.Location{Address: fmt.Sprintf("held-%d", i)}})
		if _, err := e.ledger.LinkCase(ctx, staff, c.ID, l.ID, 10_000); err != nil {
			t.Fatal(err)
		}
	}
	crash := errors.New("simulated crash")
	committed := int64(30_000)
	want := map[string]int64{"held-0": 10_000, "held-1": 10_000, "held-2": 10_000}
	for round := range 5 {
		for i := range 6 {
			id := fmt.Sprintf("rerun-%d-%d", round, i)
			amt := int64(10_000 + 1_000*i)
			e.addCase(t, cases.Case{ID: id, CatalogItem: itemToilet, Assessment: assess(amt, 1, 0),
				FiledAt: daysAgo(90 - i), Location: cases.Location{Address: id}})
			want[id] = amt
			committed += amt
		}
		req := RunRequest{RunID: fmt.Sprintf("2b7c6d1e-0000-4000-8000-%012d", round), FiscalYear: 2026, SubDistrict: sub}
		e.svc.faultAfterReserve = func(n int) error {
			if n == 2 {
				return crash
			}
			return nil
		}
		if _, err := e.svc.StartRun(ctx, staff, req); !errors.Is(err, crash) {
			t.Fatalf("round %d: first attempt got %v, want the crash", round, err)
		}
		e.svc.faultAfterReserve = nil
		var wg sync.WaitGroup
		start := make(chan struct{})
		for c := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				got, err := e.svc.StartRun(ctx, staff, req)
				if err != nil {
					t.Errorf("round %d client %d: %v", round, c, err)
					return
				}
				if got.State != RunDone || got.Applied != 6 || len(got.Failed) != 0 {
					t.Errorf("round %d client %d: state %s applied %d failed %v, want done, 6, none", round, c, got.State, got.Applied, got.Failed)
				}
			}()
		}
		close(start)
		wg.Wait()
		assertLine(t, e, l.ID, committed, want)
	}
	rep, err := e.ledger.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 {
		t.Errorf("check problems: %v", rep.Problems)
	}
}
