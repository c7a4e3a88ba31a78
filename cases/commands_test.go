package cases_test

import (
	"context"
	"fmt"
	"testing"

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
	type step struct {
		name string
		want int
		do   func(c *cases.Case) (*cases.Case, error)
	}
	steps := []step{
		// Load, then the versioned write with its summary (pending mark,
		// case, summary, mark cleared); then the resident's text message
		// (claim, sent) and its timeline entry: the case alone, as the
		// summary carries no timeline (it was a whole summary write, 12).
		{"accept", 8, func(c *cases.Case) (*cases.Case, error) { return e.svc.Accept(ctx, staff, c.ID, c.Version, "") }},
		// ...and the cadre's notification.
		{"assign", 6, func(c *cases.Case) (*cases.Case, error) {
			return e.svc.Assign(ctx, staff, c.ID, c.Version, cadre.UserID, "")
		}},
		{"assess", 5, func(c *cases.Case) (*cases.Case, error) {
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
