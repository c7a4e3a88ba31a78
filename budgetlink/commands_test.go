package budgetlink

import (
	"context"
	"fmt"
	"testing"

	"minsheng/internal/store/storetest"
)

// TestLinkCommands pins how many store commands linking a case issues, on a
// line that already holds other cases' money beside other lines that do
// too: each command is a round trip to the engine, and each write waits
// for the process-wide write guard (issue 9: link p95 < 30 ms).
func TestLinkCommands(t *testing.T) {
	ctx := context.Background()
	st, cmds := storetest.NewCounted(t)
	e := newLinkedOn(t, st)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运（计数）", 10_000_000)
	for i := range 3 {
		other := mustLine(t, e.Service, "xinjiekou", bulkyItem, fmt.Sprintf("大件垃圾清运（其他%d）", i), 10_000_000)
		for j := range 2 {
			for _, l := range []*BudgetLine{line, other} {
				c := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, fmt.Sprintf("%s %d-%d-%s", bulkyDesc, i, j, l.ID)), bulkyItem)
				if _, err := e.LinkCase(ctx, xjkStaff, c.ID, l.ID, 10_000); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// As at the server's start: Check gives every live reservation its
	// claim, after which a link trusts the case's claim (claim.go).
	if rep, err := e.Check(ctx); err != nil || !rep.OK() {
		t.Fatalf("check = %+v, %v", rep, err)
	}
	// Read the case, read the line, claim the case, claim the movement,
	// reserve, audit, settle the movement's claim, confirm the case's
	// claim, then the case's copy with its summary (pending mark, case,
	// summary, mark cleared): 12, where linking scanned every line for
	// the case, wrote a separate link-note claim and read the case twice
	// more (16).
	const want = 12
	for round := range 3 {
		t.Run(fmt.Sprintf("link %d", round+1), func(t *testing.T) {
			c := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, fmt.Sprintf("%s 计数%d", bulkyDesc, round)), bulkyItem)
			cmds.Start()
			if _, err := e.LinkCase(ctx, xjkStaff, c.ID, line.ID, 20_000); err != nil {
				t.Fatal(err)
			}
			got := cmds.Stop()
			t.Logf("LinkCase:\n%s", storetest.Describe(got))
			if len(got) > want {
				t.Errorf("LinkCase issued %d store commands, want at most %d", len(got), want)
			}
		})
	}
}
