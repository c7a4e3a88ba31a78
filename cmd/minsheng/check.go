package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"

	"minsheng/budgetlink/ledger"
	"minsheng/cases"
)

// check recomputes every budget line from its reservations and adjustments,
// repairs line totals and the copies on cases, and reports what it fixed.
// It exits non-zero only when the store fails or problems remain that it
// could not repair; data it cannot apply (amounts beyond the money bound)
// is marked failed or frozen and reported, never a reason to stop. On the
// embedded store it refuses to run while a server holds the data directory.
func check(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newStoreCommand("check", stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	d, err := fs.open(ctx, args, getenv, stderr)
	if err != nil {
		return err
	}
	defer d.store.Close(context.WithoutCancel(ctx))
	defer checkGC(getenv)()
	// Queue summaries first: the ledger check lists cases through them.
	sums, err := d.cases.RepairSummaries(ctx)
	if err != nil {
		return err
	}
	rep, err := d.budget.Check(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			ledger.CheckReport
			Summaries cases.SummaryRepair `json:"summaries"`
		}{rep, sums}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "checked %d case summaries in %s: %d missing, %d stale, %d orphans repaired\n",
			sums.Cases, sums.Duration, sums.Missing, sums.Stale, sums.Orphans)
		fmt.Fprintf(stdout, "checked %d lines, %d reservations, %d cases, %d pending adjustments in %s\n",
			rep.Lines, rep.Reservations, rep.Cases, rep.Adjustments, rep.Duration)
		for _, f := range rep.Fixes {
			b, _ := json.Marshal(f)
			fmt.Fprintf(stdout, "fixed: %s\n", b)
		}
		for _, p := range rep.Problems {
			fmt.Fprintf(stdout, "problem: %s\n", p)
		}
		for _, f := range rep.Frozen {
			b, _ := json.Marshal(f)
			fmt.Fprintf(stdout, "frozen: %s\n", b)
		}
		if rep.OK() {
			fmt.Fprintln(stdout, "ledger consistent")
		}
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("%d problems left that need a person", len(rep.Problems))
	}
	return nil
}

// checkMemoryLimit is the heap check lets the garbage collector wait for.
// check is one pass that allocates for every case it reads and keeps
// little: at 50,000 cases the collector took a quarter of its CPU with the
// default GOGC; with the collector held off until this limit, peak RSS was
// 500 MB and the check 10-15 % faster (BenchmarkCheckRicherStore).
const checkMemoryLimit = 450 << 20

// checkGC holds the garbage collector off until checkMemoryLimit while
// check runs, unless GOGC or GOMEMLIMIT set it; the returned function puts
// the settings back.
func checkGC(getenv func(string) string) (restore func()) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	percent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(checkMemoryLimit)
	return func() {
		debug.SetMemoryLimit(limit)
		debug.SetGCPercent(percent)
	}
}

func logCheck(logger *slog.Logger, rep ledger.CheckReport) {
	level := slog.LevelInfo
	if !rep.OK() {
		level = slog.LevelWarn
	}
	logger.Log(context.Background(), level, "ledger check", "lines", rep.Lines, "reservations", rep.Reservations,
		"cases", rep.Cases, "fixes", rep.Fixes, "problems", rep.Problems, "frozen", rep.Frozen, "duration", rep.Duration)
}
