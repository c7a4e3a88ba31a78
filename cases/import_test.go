package cases_test

import (
	"context"
	"testing"
	"time"

	"minsheng"
	"minsheng/cases"
)

func imported(in cases.NewCase, at time.Time, st cases.Status) cases.ImportCase {
	return cases.ImportCase{
		NewCase: in, FiledAt: at, Status: st, StepGap: 6 * time.Hour,
		CatalogItem: "SQ-05-06", SLADays: 15, AssignedName: "赵干部",
		Assessment:    &cases.Assessment{EstimateFen: 120000, Households: 12, Risk: 1},
		ActualCostFen: 110000,
	}
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	t.Run("numbers in filing order after filed cases, states as the transitions leave them", func(t *testing.T) {
		e := newEnv(t)
		first := e.submit(t, resident, input()) // XC2026-000001
		base := time.Date(2026, 5, 1, 1, 0, 0, 0, time.UTC)
		var batch []cases.ImportCase
		statuses := []cases.Status{cases.StatusClosed, cases.StatusSubmitted, cases.StatusRejected, cases.StatusAssessed,
			cases.StatusCancelled, cases.StatusCompleted, cases.StatusInProgress, cases.StatusAssigned, cases.StatusAccepted}
		for i, st := range statuses {
			// Given newest first: Import numbers them oldest first.
			batch = append(batch, imported(input(), base.Add(-time.Duration(i)*24*time.Hour), st))
		}
		n, err := e.svc.Import(ctx, admin, batch)
		if err != nil || n != len(statuses) {
			t.Fatalf("Import: got %d, %v; want %d imported", n, err, len(statuses))
		}
		list, _, err := e.svc.Find(ctx, admin, cases.Filter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(statuses)+1 {
			t.Fatalf("got %d cases, want %d", len(list), len(statuses)+1)
		}
		byNumber := map[string]*cases.Case{}
		for _, c := range list {
			byNumber[c.Number] = c
		}
		if byNumber["XC2026-000001"].ID != first.ID {
			t.Errorf("the filed case lost its number")
		}
		for i, st := range statuses {
			num := "XC2026-" + []string{"000010", "000009", "000008", "000007", "000006", "000005", "000004", "000003", "000002"}[i]
			c, err := e.svc.FindByID(ctx, byNumber[num].ID)
			if err != nil {
				t.Fatalf("%s: %v", num, err)
			}
			if c.Status != st {
				t.Errorf("%s: status got %s, want %s", num, c.Status, st)
			}
			if got, want := c.FiledAt, base.Add(-time.Duration(i)*24*time.Hour); !got.Equal(want) {
				t.Errorf("%s: filed at %s, want %s", num, got, want)
			}
			last := c.Timeline[len(c.Timeline)-1]
			if last.To != st && st != cases.StatusSubmitted {
				t.Errorf("%s: last event leads to %s, want %s", num, last.To, st)
			}
			if int(c.Version) != len(c.Timeline) {
				t.Errorf("%s: version %d with %d events, want one per step", num, c.Version, len(c.Timeline))
			}
			switch {
			case st.Open() && st != cases.StatusSubmitted:
				if c.AcceptedAt == nil || c.CompletionDueAt == nil || !c.DueAt.Equal(c.AcceptedAt.AddDate(0, 0, 15)) {
					t.Errorf("%s (%s): accepted %v, due %v: want the 15-day deadline from acceptance", num, st, c.AcceptedAt, c.DueAt)
				}
			case st == cases.StatusClosed:
				if c.Verdict != cases.VerdictSatisfied || c.ClosedAt == nil || c.ActualCostFen != 110000 {
					t.Errorf("%s: verdict %q closed %v cost %d", num, c.Verdict, c.ClosedAt, c.ActualCostFen)
				}
			case st == cases.StatusRejected || st == cases.StatusCancelled:
				if c.Reason == "" || c.ClosedAt == nil || c.IsOverdue(base.AddDate(1, 0, 0)) {
					t.Errorf("%s (%s): reason %q closed %v", num, st, c.Reason, c.ClosedAt)
				}
			}
		}
		// Filing goes on after the imported numbers.
		if next := e.submit(t, resident, input()); next.Number != "XC2026-000011" {
			t.Errorf("next filing: got %s, want XC2026-000011", next.Number)
		}
	})
	t.Run("admin only", func(t *testing.T) {
		e := newEnv(t)
		for _, p := range []string{"staff", "finance", "cadre", "resident", "anonymous"} {
			_, err := e.svc.Import(ctx, principalBy[p], []cases.ImportCase{imported(input(), time.Now(), cases.StatusClosed)})
			if code := minsheng.ErrorCode(err); code != minsheng.EFORBIDDEN && code != minsheng.EUNAUTHORIZED {
				t.Errorf("%s: got %v, want forbidden", p, err)
			}
		}
	})
	t.Run("one bad case imports nothing", func(t *testing.T) {
		e := newEnv(t)
		bad := imported(input(), time.Now(), cases.StatusAssessed)
		bad.Community = "nowhere"
		_, err := e.svc.Import(ctx, admin, []cases.ImportCase{imported(input(), time.Now(), cases.StatusClosed), bad})
		wantCode(t, err, minsheng.EINVALID)
		noAssessment := imported(input(), time.Now(), cases.StatusAssessed)
		noAssessment.Assessment = nil
		_, err = e.svc.Import(ctx, admin, []cases.ImportCase{noAssessment})
		wantCode(t, err, minsheng.EINVALID)
		merged := imported(input(), time.Now(), cases.StatusMerged)
		_, err = e.svc.Import(ctx, admin, []cases.ImportCase{merged})
		wantCode(t, err, minsheng.EINVALID)
		if list, _, _ := e.svc.Find(ctx, admin, cases.Filter{}); len(list) != 0 {
			t.Errorf("got %d cases after refused imports, want none", len(list))
		}
	})
}
