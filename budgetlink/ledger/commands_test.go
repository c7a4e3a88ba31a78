package ledger

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
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
	// summary; the mark is cleared later with others'): 11, where linking
	// scanned every line for the case, wrote a separate link-note claim,
	// read the case twice more and cleared its mark itself (16).
	const want = 11
	for round := range 3 {
		t.Run(fmt.Sprintf("link %d", round+1), func(t *testing.T) {
			c := e.classify(t, xjkStaff, e.file(t, "xinjiekou-yude", bulkyTitle, fmt.Sprintf("%s 计数%d", bulkyDesc, round)), bulkyItem)
			cmds.Start()
			if _, err := e.LinkCase(ctx, xjkStaff, c.ID, line.ID, 20_000); err != nil {
				t.Fatal(err)
			}
			// The sweep that clears finished case writes' pending marks in
			// batches (cases/summary.go) runs beside requests, not in them.
			got := slices.DeleteFunc(cmds.Stop(), func(c storetest.Command) bool { return c.Name == "delete case_summaries_pending" })
			t.Logf("LinkCase:\n%s", storetest.Describe(got))
			if len(got) > want {
				t.Errorf("LinkCase issued %d store commands, want at most %d", len(got), want)
			}
		})
	}
}

// BenchmarkLinkCase links cases to a line that already holds many
// reservations (MINSHENG_BENCH_RESERVATIONS, default 300), as a pilot
// store's busiest lines do, beside other lines; profile it with -cpuprofile (the
// embedded engine runs in the test process).
func BenchmarkLinkCase(b *testing.B) {
	ctx := context.Background()
	st := storetest.New(b)
	e := newLinkedOn(b, st)
	n := 300
	if v := os.Getenv("MINSHENG_BENCH_RESERVATIONS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	line := mustLine(b, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运（基准）", 1_000_000_000)
	fileOne := func(i int) string {
		c := e.classify(b, xjkStaff, e.file(b, "xinjiekou-yude", bulkyTitle, fmt.Sprintf("%s 基准%d", bulkyDesc, i)), bulkyItem)
		return c.ID
	}
	for i := range n {
		if _, err := e.LinkCase(ctx, xjkStaff, fileOne(i), line.ID, 10_000); err != nil {
			b.Fatal(err)
		}
	}
	// Other lines of the sub-district holding other cases' money, written
	// directly with their claims (MINSHENG_BENCH_OTHER_LINES lines of 36
	// reservations: a pilot store has ~270 lines and ~9,700 reservations).
	others := 0
	if v := os.Getenv("MINSHENG_BENCH_OTHER_LINES"); v != "" {
		others, _ = strconv.Atoi(v)
	}
	now := e.now()
	for i := range others {
		l := BudgetLine{ID: fmt.Sprintf("BL-other-%04d", i), FiscalYear: 2026, SubDistrict: "xinjiekou", ItemCode: bulkyItem,
			ProjectName: fmt.Sprintf("其他项目 %d", i), ApprovedFen: 100_000_000, Adjustments: []LineDelta{}, CreatedAt: now, UpdatedAt: now}
		for j := range 36 {
			caseID := fmt.Sprintf("other-%04d-%02d", i, j)
			l.Reservations = append(l.Reservations, Reservation{CaseID: caseID, AmountFen: 10_000, State: StateReserved,
				LinkedAt: now, LinkedBy: "u-xjk", Movement: newID("MV"), UpdatedAt: now, Claim: reserveClaimID(l.ID, caseID, 0)})
			if err := e.claims.InsertOne(ctx, caseClaim{CaseID: caseID, LineID: l.ID, Token: newID("CL"), CreatedAt: now, UpdatedAt: now}); err != nil {
				b.Fatal(err)
			}
		}
		l.CommittedFen, l.AvailableFen = 36*10_000, 100_000_000-36*10_000
		if err := e.lines.InsertOne(ctx, l); err != nil {
			b.Fatal(err)
		}
	}
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = fileOne(n + i)
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := e.LinkCase(ctx, xjkStaff, ids[i], line.ID, 10_000); err != nil {
			b.Fatal(err)
		}
	}
}
