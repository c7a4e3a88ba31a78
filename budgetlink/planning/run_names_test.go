package planning

import (
	"context"
	"testing"
)

func TestRunsNameTheirCases(t *testing.T) {
	e := newEnv(t)
	s := e.scenario(t)
	ctx := context.Background()
	t.Run("dry run", func(t *testing.T) {
		got, err := e.svc.StartRunNamed(ctx, staff, RunRequest{RunID: runID, FiscalYear: 2026, SubDistrict: sub, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ id, number, title string }{{s.a.ID, s.a.Number, s.a.Title}, {s.b.ID, s.b.Number, s.b.Title}, {s.c.ID, s.c.Number, s.c.Title}, {s.g.ID, s.g.Number, s.g.Title}} {
			if n := got.Cases[c.id]; n.Number != c.number || n.Title != c.title {
				t.Errorf("case %s: got %+v, want %s %s", c.id, n, c.number, c.title)
			}
		}
	})
	t.Run("stored run", func(t *testing.T) {
		// Its own run id: the dry run's id names the stored preview.
		const committedID = "7d9f8a4e-2c1b-4e59-9a7e-3f1c2b6d8e02"
		if _, err := e.svc.StartRun(ctx, staff, RunRequest{RunID: committedID, FiscalYear: 2026, SubDistrict: sub}); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.RunNamed(ctx, finance, committedID)
		if err != nil {
			t.Fatal(err)
		}
		if n := got.Cases[s.b.ID]; n.Number != s.b.Number {
			t.Errorf("funded case %s: got %+v, want %s", s.b.ID, n, s.b.Number)
		}
	})
}
