package planning

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/budgetlink/ledger"
	"minsheng/cases"
	"minsheng/internal/org"
	"minsheng/internal/store/storetest"
)

// clockedService is e's service with a clock the test moves.
func clockedService(e *env) (*Service, *time.Time) {
	now := asOf
	svc := NewService(e.st, e.ledger, e.cases, Config{Org: org.Xicheng(), Logger: storetest.Logger(), Now: func() time.Time { return now }})
	return svc, &now
}

func previewID(i int) string { return fmt.Sprintf("5e1f0c2a-0000-4000-8000-%012d", i) }

func TestPreviewIsStored(t *testing.T) {
	e := newEnv(t)
	s := e.scenario(t)
	ctx := context.Background()

	got, err := e.svc.StartRun(ctx, staff, RunRequest{RunID: runID, FiscalYear: 2026, SubDistrict: sub, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("answered as a preview with who and when", func(t *testing.T) {
		if !got.DryRun || got.State != RunPreview || got.Applied != 0 {
			t.Errorf("got dry_run %v state %q applied %d, want a preview", got.DryRun, got.State, got.Applied)
		}
		if got.CreatedBy != staff.UserID || got.CreatedByName != staff.Name || !got.CreatedAt.Equal(asOf) {
			t.Errorf("got created by %q (%q) at %v, want %q at %v", got.CreatedBy, got.CreatedByName, got.CreatedAt, staff.UserID, asOf)
		}
		l1 := lineResult(t, got, s.l1.ID)
		if !reflect.DeepEqual(caseIDs(l1.Funded), []string{s.b.ID}) || !reflect.DeepEqual(caseIDs(l1.Waitlisted), []string{s.c.ID}) || l1.ShortfallFen != 400_000 {
			t.Errorf("L1: funded %v waitlisted %v shortfall %d, want [B], [C], 400000", caseIDs(l1.Funded), caseIDs(l1.Waitlisted), l1.ShortfallFen)
		}
	})
	t.Run("no money moved and no outcome recorded", func(t *testing.T) {
		assertLine(t, e, s.l1.ID, 200_000, map[string]int64{s.d.ID: 200_000})
		assertLine(t, e, s.l2.ID, 0, map[string]int64{})
		if n, err := e.st.Collection(runItemsCollection).Count(ctx, bson.M{}); err != nil || n != 0 {
			t.Errorf("run items: %d (%v), want none", n, err)
		}
	})
	t.Run("fetched later by id with the whole result", func(t *testing.T) {
		later, err := e.svc.Run(ctx, finance, runID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(later, got) {
			t.Errorf("GET differs:\n got %+v\nwant %+v", later, got)
		}
		if len(later.NextYear) == 0 {
			t.Errorf("next year: got none, want the waitlisted and lineless demand")
		}
	})
	t.Run("the same dry run again is the stored one", func(t *testing.T) {
		again, err := e.svc.StartRun(ctx, staff, RunRequest{RunID: runID, FiscalYear: 2026, SubDistrict: sub, DryRun: true})
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("got %+v (%v), want the stored preview", again, err)
		}
		if n, _ := e.st.Collection(runsCollection).Count(ctx, bson.M{}); n != 1 {
			t.Errorf("runs stored: %d, want 1", n)
		}
	})
	t.Run("its id cannot be committed as a run", func(t *testing.T) {
		if _, err := e.svc.StartRun(ctx, staff, RunRequest{RunID: runID, FiscalYear: 2026, SubDistrict: sub}); minsheng.ErrorCode(err) != minsheng.ECONFLICT {
			t.Errorf("got %v, want conflict", err)
		}
	})
	t.Run("listed with the committed runs, marked as a preview", func(t *testing.T) {
		if _, err := e.svc.StartRun(ctx, staff, RunRequest{RunID: previewID(1), FiscalYear: 2026, SubDistrict: sub}); err != nil {
			t.Fatal(err)
		}
		all, _, err := e.svc.Runs(ctx, staff, RunsQuery{})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]bool{}
		for _, r := range all {
			kinds[r.RunID] = r.DryRun
		}
		if want := map[string]bool{runID: true, previewID(1): false}; !reflect.DeepEqual(kinds, want) {
			t.Errorf("listed (id → dry run) %v, want %v", kinds, want)
		}
		for kind, want := range map[string]string{RunKindPreview: runID, RunKindCommitted: previewID(1)} {
			only, _, err := e.svc.Runs(ctx, staff, RunsQuery{Kind: kind})
			if err != nil || len(only) != 1 || only[0].RunID != want {
				t.Errorf("kind %s: got %+v (%v), want only %s", kind, only, err, want)
			}
		}
		if _, _, err := e.svc.Runs(ctx, staff, RunsQuery{Kind: "draft"}); minsheng.ErrorCode(err) != minsheng.EINVALID {
			t.Errorf("kind draft: got %v, want invalid", err)
		}
	})
	t.Run("another sub-district sees none of it", func(t *testing.T) {
		if _, err := e.svc.Run(ctx, outside, runID); minsheng.ErrorCode(err) != minsheng.EFORBIDDEN {
			t.Errorf("GET by outside staff: got %v, want forbidden", err)
		}
		list, _, err := e.svc.Runs(ctx, outside, RunsQuery{})
		if err != nil || len(list) != 0 {
			t.Errorf("outside list: %+v (%v), want none", list, err)
		}
	})
}

func TestPreviewCommit(t *testing.T) {
	e := newEnv(t)
	s := e.scenario(t)
	ctx := context.Background()
	svc, now := clockedService(e)
	n := 0
	preview := func(t *testing.T) RunReport {
		t.Helper()
		n++
		p, err := svc.StartRun(ctx, staff, RunRequest{RunID: previewID(n), FiscalYear: 2026, SubDistrict: sub, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	commit := func(p RunReport, runID string) (RunReport, error) {
		return svc.StartRun(ctx, staff, RunRequest{RunID: runID, FiscalYear: 2026, SubDistrict: sub, FromPreview: p.RunID})
	}

	t.Run("what moved since makes it a conflict and moves no money", func(t *testing.T) {
		moves := []struct {
			name string
			move func(t *testing.T)
		}{
			{"a line's money adjusted", func(t *testing.T) {
				if _, err := e.ledger.Adjust(ctx, finance, ledger.AdjustmentRequest{Kind: "increase", LineID: s.l2.ID, AmountFen: 100, Reason: "测试调增"}); err != nil {
					t.Fatal(err)
				}
			}},
			{"a case filed and assessed", func(t *testing.T) {
				e.addCase(t, cases.Case{ID: fmt.Sprintf("case-new-%d", n), CatalogItem: itemRelief, Assessment: assess(1_000, 1, 0), FiledAt: *now})
			}},
			{"the weights changed", func(t *testing.T) {
				w, err := svc.Weights(ctx, finance, 2026)
				if err != nil {
					t.Fatal(err)
				}
				w.Weights.WaitingPerDay++
				if _, err := svc.SetWeights(ctx, finance, 2026, BodyOf(w.Weights)); err != nil {
					t.Fatal(err)
				}
			}},
		}
		for i, m := range moves {
			t.Run(m.name, func(t *testing.T) {
				p := preview(t)
				m.move(t)
				before, _ := e.ledger.FindLineByID(ctx, s.l1.ID)
				id := fmt.Sprintf("5e1f0c2a-1111-4000-8000-%012d", i)
				_, err := commit(p, id)
				if minsheng.ErrorCode(err) != minsheng.ECONFLICT || !strings.Contains(minsheng.ErrorMessage(err), "请重新预览") {
					t.Fatalf("got %v, want a conflict asking to preview again", err)
				}
				if _, err := svc.Run(ctx, staff, id); minsheng.ErrorCode(err) != minsheng.ENOTFOUND {
					t.Errorf("the refused run: got %v, want it not stored", err)
				}
				if after, _ := e.ledger.FindLineByID(ctx, s.l1.ID); after.CommittedFen != before.CommittedFen {
					t.Errorf("L1 committed: got %d, want %d", after.CommittedFen, before.CommittedFen)
				}
			})
		}
	})

	t.Run("unchanged: commits exactly the preview, days later", func(t *testing.T) {
		p := preview(t)
		*now = now.Add(72 * time.Hour) // three more days of waiting would change scores
		const committedID = "5e1f0c2a-2222-4000-8000-000000000001"
		got, err := commit(p, committedID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != RunDone || got.FromPreview != p.RunID || !got.AsOf.Equal(p.AsOf) || !got.CreatedAt.Equal(*now) {
			t.Errorf("got state %q from %q as of %v created %v, want done from %s as of %v created %v",
				got.State, got.FromPreview, got.AsOf, got.CreatedAt, p.RunID, p.AsOf, *now)
		}
		if !reflect.DeepEqual(got.Lines, p.Lines) || !reflect.DeepEqual(got.Adjustments, p.Adjustments) || !reflect.DeepEqual(got.NextYear, p.NextYear) {
			t.Errorf("decisions differ from the preview:\n got %+v\nwant %+v", got.Lines, p.Lines)
		}
		if got.Applied != p.FundedCases {
			t.Errorf("applied %d, want the preview's %d funded", got.Applied, p.FundedCases)
		}
		stored, err := svc.Run(ctx, staff, p.RunID)
		if err != nil || stored.CommittedAs != committedID {
			t.Errorf("preview afterwards: committed_as %q (%v), want %s", stored.CommittedAs, err, committedID)
		}
		t.Run("a retry of the same commit returns the run", func(t *testing.T) {
			again, err := commit(p, committedID)
			if err != nil || again.RunID != committedID || again.Applied != got.Applied {
				t.Errorf("got %+v (%v), want the committed run", again, err)
			}
		})
		t.Run("a second commit of the preview is a conflict", func(t *testing.T) {
			if _, err := commit(p, "5e1f0c2a-2222-4000-8000-000000000002"); minsheng.ErrorCode(err) != minsheng.ECONFLICT {
				t.Errorf("got %v, want conflict", err)
			}
		})
	})

	t.Run("refusals", func(t *testing.T) {
		p := preview(t)
		cases := []struct {
			name string
			who  any
			req  RunRequest
			code string
		}{
			{"an unknown preview", staff, RunRequest{RunID: previewID(90), FiscalYear: 2026, SubDistrict: sub, FromPreview: previewID(99)}, minsheng.ECONFLICT},
			{"another year", staff, RunRequest{RunID: previewID(91), FiscalYear: 2027, SubDistrict: sub, FromPreview: p.RunID}, minsheng.EINVALID},
			{"a preview of a preview", staff, RunRequest{RunID: previewID(92), FiscalYear: 2026, SubDistrict: sub, DryRun: true, FromPreview: p.RunID}, minsheng.EINVALID},
			{"a committed run as the preview", staff, RunRequest{RunID: previewID(93), FiscalYear: 2026, SubDistrict: sub, FromPreview: "5e1f0c2a-2222-4000-8000-000000000001"}, minsheng.EINVALID},
			{"another sub-district's staff", outside, RunRequest{RunID: previewID(94), FiscalYear: 2026, SubDistrict: otherSub, FromPreview: p.RunID}, minsheng.ECONFLICT},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				who := staff
				if c.who == outside {
					who = outside
				}
				_, err := svc.StartRun(ctx, who, c.req)
				if got := minsheng.ErrorCode(err); got != c.code {
					t.Errorf("got %q (%v), want %q", got, err, c.code)
				}
				if who == outside && strings.Contains(minsheng.ErrorMessage(err), p.RunID) {
					t.Errorf("message %q names the other sub-district's preview", minsheng.ErrorMessage(err))
				}
			})
		}
	})
}

// TestPreviewCommitOnce: several simultaneous commits of one preview, each
// with its own run id, against lines that already hold reservations: one
// wins, the others are conflicts, and the money is reserved once. Rounds
// add a new need each, so every round has something to fund.
func TestPreviewCommitOnce(t *testing.T) {
	e := newEnv(t)
	s := e.scenario(t)
	ctx := context.Background()
	svc, _ := clockedService(e)
	for round := range 3 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			c := e.addCase(t, cases.Case{ID: fmt.Sprintf("case-once-%d", round), CatalogItem: itemRelief, Assessment: assess(10_000, 1, 0), FiledAt: daysAgo(1),
				Location: cases.Location{Address: fmt.Sprintf("%d号", round)}})
			p, err := svc.StartRun(ctx, staff, RunRequest{RunID: previewID(100 + round), FiscalYear: 2026, SubDistrict: sub, DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			before, _ := e.ledger.FindLineByID(ctx, s.l2.ID)
			const copies = 8
			var wg sync.WaitGroup
			errs := make([]error, copies)
			for i := range copies {
				wg.Go(func() {
					_, errs[i] = svc.StartRun(ctx, staff, RunRequest{RunID: fmt.Sprintf("5e1f0c2a-3333-4000-8%03d-%012d", round, i), FiscalYear: 2026, SubDistrict: sub, FromPreview: p.RunID})
				})
			}
			wg.Wait()
			won := 0
			for i, err := range errs {
				switch minsheng.ErrorCode(err) {
				case "":
					won++
				case minsheng.ECONFLICT:
				default:
					t.Errorf("copy %d: got %v, want success or conflict", i, err)
				}
			}
			if won != 1 {
				t.Errorf("commits that won: got %d, want 1", won)
			}
			after, _ := e.ledger.FindLineByID(ctx, s.l2.ID)
			// The preview's funded money on L2, the new case's included, once.
			want := lineResult(t, p, s.l2.ID).FundedFen
			if !slices.Contains(caseIDs(lineResult(t, p, s.l2.ID).Funded), c.ID) {
				t.Fatalf("the preview does not fund %s: %+v", c.ID, lineResult(t, p, s.l2.ID))
			}
			if got := after.CommittedFen - before.CommittedFen; got != want {
				t.Errorf("L2 committed rose by %d, want the preview's %d, once", got, want)
			}
		})
	}
}

func TestPreviewsPruned(t *testing.T) {
	e := newEnv(t)
	e.scenario(t)
	ctx := context.Background()
	svc, now := clockedService(e)
	const committedID = "5e1f0c2a-4444-4000-8000-000000000001"
	if _, err := svc.StartRun(ctx, staff, RunRequest{RunID: committedID, FiscalYear: 2026, SubDistrict: sub}); err != nil {
		t.Fatal(err)
	}
	const extra = 3
	for i := range PreviewsKept + extra {
		*now = now.Add(time.Minute)
		if _, err := svc.StartRun(ctx, staff, RunRequest{RunID: previewID(i), FiscalYear: 2026, SubDistrict: sub, DryRun: true}); err != nil {
			t.Fatal(err)
		}
	}
	previews, _, err := svc.Runs(ctx, staff, RunsQuery{Kind: RunKindPreview, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(previews) != PreviewsKept {
		t.Errorf("previews kept: got %d, want %d", len(previews), PreviewsKept)
	}
	for i := range PreviewsKept + extra {
		_, err := svc.Run(ctx, staff, previewID(i))
		if gone := minsheng.ErrorCode(err) == minsheng.ENOTFOUND; gone != (i < extra) {
			t.Errorf("preview %d: got %v, want gone %v (the oldest %d go)", i, err, i < extra, extra)
		}
	}
	if _, err := svc.Run(ctx, staff, committedID); err != nil {
		t.Errorf("the committed run: got %v, want it kept", err)
	}
}
