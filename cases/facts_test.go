package cases_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/cases"
	"minsheng/internal/auth"
)

// reportView is what the reports read of a case (EachCaseFacts' contract);
// marshalled to BSON so times compare at the store's millisecond.
type reportView struct {
	ID, Number, Area, Title         string
	SubDistrict, Community, Address string
	Status                          cases.Status
	FiledAt, DueAt                  time.Time
	AssignedTo                      string
	Version                         int64
	CatalogItem                     string
	Households, CosignCount         int
	MergedFrom                      []string   `bson:",omitempty"`
	AcceptedAt, CompletionDueAt     *time.Time `bson:",omitempty"`
	CompletedAt                     *time.Time `bson:",omitempty"`
	Verdict, FirstVerdict, Latest   cases.Verdict
	Assessment                      *cases.Assessment `bson:",omitempty"`
	Budget                          *cases.BudgetLink `bson:",omitempty"`
	StatusLabel                     string
}

func viewOf(c *cases.Case) []byte {
	v := reportView{ID: c.ID, Number: c.Number, Area: c.Area, Title: c.Title, SubDistrict: c.Location.SubDistrict,
		Community: c.Location.Community, Address: c.Location.Address, Status: c.Status, FiledAt: c.FiledAt, DueAt: c.DueAt,
		AssignedTo: c.AssignedTo, Version: c.Version, CatalogItem: c.CatalogItem, Households: c.Households, CosignCount: c.CosignCount,
		MergedFrom: c.MergedFrom, AcceptedAt: c.AcceptedAt, CompletionDueAt: c.CompletionDueAt, CompletedAt: c.CompletedAt,
		Verdict: c.Verdict, Budget: c.Budget, StatusLabel: c.StatusLabel}
	if n := len(c.Verdicts); n > 0 {
		v.FirstVerdict, v.Latest = c.Verdicts[0].Verdict, c.Verdicts[n-1].Verdict
	}
	if c.Assessment != nil {
		a := *c.Assessment
		a.Note = ""
		v.Assessment = &a
	}
	b, err := bson.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestEachCaseFactsMatchesEachCase reads the same corpus — every state,
// co-signed, merged, classified, assessed, reopened after a dissatisfied
// verdict, with budget copies — through EachCase (the full cases, what the
// reports read before) and EachCaseFacts (the summaries), under the filters
// the reports use, and wants the same cases in the same order with the same
// report fields; also after a summary lost its facts (an older build's).
func TestEachCaseFactsMatchesEachCase(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ids := corpus(t, e)
	for _, st := range []cases.Status{cases.StatusAccepted, cases.StatusAssessed, cases.StatusInProgress, cases.StatusCompleted, cases.StatusClosed} {
		e.clock.Advance(time.Minute)
		e.to(t, st)
	}
	// Reopened: dissatisfied, completed again, then satisfied.
	c := e.to(t, cases.StatusCompleted)
	c, err := e.svc.RecordVerdict(ctx, resident, cases.CaseRef{ID: c.ID}, c.Version, cases.Rating{Verdict: cases.VerdictDissatisfied, Comment: "灯还是不亮"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = e.svc.Complete(ctx, cadre, c.ID, c.Version, 52000, "再次更换"); err != nil {
		t.Fatal(err)
	}
	if _, err = e.svc.RecordVerdict(ctx, resident, cases.CaseRef{ID: c.ID}, c.Version, cases.Rating{Verdict: cases.VerdictSatisfied}); err != nil {
		t.Fatal(err)
	}
	// Co-signed, classified with a budget copy, merged.
	kept := e.to(t, cases.StatusAssessed)
	if _, err := e.svc.Cosign(ctx, neighbour, kept.ID); err != nil {
		t.Fatal(err)
	}
	if kept, err = e.svc.FindByID(ctx, kept.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetCatalogItem(ctx, staff, kept.ID, kept.Version, "CG-01", 30); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetBudgetCopy(ctx, auth.Principal{}, kept.ID, &cases.BudgetLink{LineID: "line-x", ItemCode: "CG-01", EstimateFen: 50000, ReservedFen: 50000, State: "reserved", LinkedAt: e.clock.Now(), LinkedBy: "staff-a"}, ""); err != nil {
		t.Fatal(err)
	}
	dup := e.to(t, cases.StatusAccepted)
	if _, err := e.svc.Merge(ctx, staff, dup.ID, dup.Version, kept.ID, "同一问题"); err != nil {
		t.Fatal(err)
	}

	filters := map[string]cases.Filter{
		"all":          {},
		"sub-district": {SubDistrict: subA},
		"has budget":   {HasBudget: true},
		"filed period": {FiledFrom: time.Date(2026, 3, 2, 1, 5, 0, 0, time.UTC), FiledTo: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)},
		"community":    {SubDistrict: subA, Community: commA},
	}
	compare := func(t *testing.T) {
		t.Helper()
		for name, f := range filters {
			t.Run(name, func(t *testing.T) {
				var want, got [][]byte
				if err := e.svc.EachCase(ctx, f, func(c *cases.Case) error { want = append(want, viewOf(c)); return nil }); err != nil {
					t.Fatal(err)
				}
				if err := e.svc.EachCaseFacts(ctx, f, func(c *cases.Case) error { got = append(got, viewOf(c)); return nil }); err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("got %d cases, want %d", len(got), len(want))
				}
				if len(want) == 0 {
					t.Fatal("the filter selects no case; the corpus does not test it")
				}
				for i := range want {
					if !bytes.Equal(got[i], want[i]) {
						var g, w reportView
						_ = bson.Unmarshal(got[i], &g)
						_ = bson.Unmarshal(want[i], &w)
						t.Errorf("case %d:\n got %+v\nwant %+v", i, g, w)
					}
				}
			})
		}
	}
	if !cases.FactsCached(e.svc) {
		t.Log("facts cache off (not FerretDB): comparing the summaries' reads only")
	}
	t.Run("summaries with facts", compare)
	t.Run("twice, the second from the cache", compare)
	// Writes after the cache was filled: a transition, a co-signature, a
	// budget copy, a new filing, in both sub-districts.
	moved, err := e.svc.Accept(ctx, staff, ids[0], 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Cosign(ctx, stranger, moved.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetBudgetCopy(ctx, auth.Principal{}, ids[5], &cases.BudgetLink{LineID: "line-y", State: "spent", SpentFen: 100}, ""); err != nil {
		t.Fatal(err)
	}
	far := input()
	far.Community = commB
	e.submit(t, resident, far)
	t.Run("after writes", compare)
	// Readers racing writers: every read completes and the cache ends
	// consistent with the store.
	t.Run("readers beside writers", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for r := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 3 {
					if err := e.svc.EachCaseFacts(ctx, cases.Filter{SubDistrict: []string{subA, subB}[r%2]}, func(*cases.Case) error { return nil }); err != nil {
						errs <- err
					}
				}
			}()
		}
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := input()
				if i%2 == 1 {
					in.Community = commB
				}
				if _, _, err := e.svc.Submit(ctx, resident, in); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
	t.Run("after concurrent writes", compare)
	for _, id := range []string{kept.ID, dup.ID, c.ID} {
		if err := cases.DropFacts(e.svc, id); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("summaries without facts", compare)
	t.Run("repair restores the facts", func(t *testing.T) {
		rep, err := e.svc.RepairSummaries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Stale != 3 {
			t.Errorf("repair rewrote %d stale summaries, want 3 (the ones without facts)", rep.Stale)
		}
	})
}
