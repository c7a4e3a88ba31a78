package reports

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"minsheng/budgetlink/ledger"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/org"
	"minsheng/internal/store/storetest"
)

// TestDistrictReportsBesideWrites runs district-wide demand and
// consistency reports (the cached lines and the cached facts of every
// sub-district) while cases are linked to lines that already hold
// reservations, 8 links and 8 reports at a time over several rounds, and
// after each round wants exactly what a fresh service — no cache — reads
// from the store.
func TestDistrictReportsBesideWrites(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	staffOf := map[string]auth.Principal{"xinjiekou": xjkStaff, "desheng": dsStaff}
	communities := map[string]string{"xinjiekou": "xinjiekou-yude", "desheng": "desheng-deshengli"}
	lines := map[string][]*ledger.BudgetLine{}
	var waiting []*cases.Case
	for _, sub := range []string{"xinjiekou", "desheng"} {
		for k := range 2 {
			lines[sub] = append(lines[sub], mustLine(t, e.Service, sub, bulkyItem, fmt.Sprintf("大件垃圾清运 %d", k), 10_000_000))
		}
		for i := range 14 {
			c := e.classify(t, staffOf[sub], e.file(t, communities[sub], fmt.Sprintf("旧沙发清运 %d号楼", i), "楼道旧沙发"), bulkyItem)
			waiting = append(waiting, c)
		}
	}
	// Entries already there: a reservation on every line.
	link := func(c *cases.Case) error {
		sub := c.Location.SubDistrict
		l := lines[sub][len(c.ID)%2]
		_, err := e.LinkCase(ctx, staffOf[sub], c.ID, l.ID, 30_000)
		return err
	}
	for i := range 4 {
		if err := link(waiting[i*7]); err != nil {
			t.Fatal(err)
		}
	}
	waiting = append(append([]*cases.Case{}, waiting[1:7]...), append(waiting[8:14], append(waiting[15:21], waiting[22:]...)...)...)

	// The fresh reader, made anew for every comparison: the same store,
	// empty caches (a cases service's facts cache follows only its own
	// writes), wired to read only (its cases service moves no money).
	st := e.st
	compare := func(t *testing.T) {
		t.Helper()
		cs := cases.NewService(st, org.Xicheng(), nil, cases.Config{Users: caseUsers, Logger: storetest.Logger()})
		fresh := serviceOn(st, ledger.Config{Logger: storetest.Logger(), Now: e.Service.Now})
		fresh.SetCases(cs)
		for name, p := range map[string]auth.Principal{"district": finance, "sub-district": xjkStaff} {
			got, err := e.DemandReport(ctx, p, 2026, "")
			if err != nil {
				t.Fatal(err)
			}
			want, err := fresh.DemandReport(ctx, p, 2026, "")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("demand (%s):\n got %+v\nwant %+v", name, got, want)
			}
		}
		got, err := e.ConsistencyReport(ctx, finance, 2026, 0)
		if err != nil {
			t.Fatal(err)
		}
		want, err := fresh.ConsistencyReport(ctx, finance, 2026, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("consistency:\n got %+v\nwant %+v", got, want)
		}
	}
	// The cached reader answers before the first round, so its caches
	// are filled when the writes start.
	t.Run("before writes", compare)
	for round := range 3 {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			batch := waiting[round*8 : round*8+8]
			var wg sync.WaitGroup
			errs := make(chan error, 32)
			for i := range 8 {
				wg.Add(2)
				go func() {
					defer wg.Done()
					if err := link(batch[i]); err != nil {
						errs <- fmt.Errorf("link %s: %w", batch[i].ID, err)
					}
				}()
				go func() {
					defer wg.Done()
					if _, err := e.DemandReport(ctx, finance, 2026, ""); err != nil {
						errs <- err
					}
					if _, err := e.ConsistencyReport(ctx, finance, 2026, 0); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			compare(t)
		})
	}
	rep, err := e.DemandReport(ctx, finance, 2026, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Items) != 1 || rep.Items[0].FundedCases != 28 {
		t.Errorf("demand items = %+v, want one item with 28 funded cases", rep.Items)
	}
}
