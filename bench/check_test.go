package bench_test

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"minsheng/internal/org"
	"minsheng/internal/store/storetest"
)

// BenchmarkCheck times what `minsheng check` and the first start do with
// the summaries, alone: the first start on cases stored without summaries
// (EnsureSummaries builds them all), then RepairSummaries on the settled
// store, b.N times. For a profile of the repair:
//
//	MINSHENG_BENCH_CASES=10000 go test -run '^$' -bench 'Check$' -benchtime 3x ./bench/
//
// MINSHENG_BENCH_PROFILE=/tmp/check.prof writes a CPU profile of the repairs alone.
func BenchmarkCheck(b *testing.B) {
	n := envInt("MINSHENG_BENCH_CASES", 10_000)
	ctx := context.Background()
	st := storetest.New(b)
	dir := org.Xicheng()
	for _, idx := range allIndexes {
		if err := st.EnsureIndexes(ctx, idx); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.Collection("cases").InsertMany(ctx, spreadCases(dir, pilotSubs(dir), n)); err != nil {
		b.Fatal(err)
	}
	firstAt := time.Now()
	w := wire(b, st)
	first := time.Since(firstAt)
	// once untimed: the first scans after the bulk build read a large WAL
	if _, err := w.cases.RepairSummaries(ctx); err != nil {
		b.Fatal(err)
	}
	if path := os.Getenv("MINSHENG_BENCH_PROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	b.ResetTimer()
	var last time.Duration
	cpu0 := processCPU(b)
	for range b.N {
		rep, err := w.cases.RepairSummaries(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Cases != n || rep.Missing+rep.Stale+rep.Orphans != 0 {
			b.Fatalf("repair on a settled store: %+v, want %d cases and nothing repaired", rep, n)
		}
		last = rep.Duration
	}
	cpu := (processCPU(b) - cpu0) / time.Duration(b.N)
	b.StopTimer()
	fmt.Printf("check at %d cases: first start building every summary %s; summary repair on the settled store %s, process CPU %s (%.1f µs a case)\n",
		n, first.Round(time.Millisecond), last.Round(time.Millisecond), cpu.Round(time.Millisecond), float64(cpu.Microseconds())/float64(n))
}

// processCPU is the user and system CPU time the process has used: on a
// shared machine a steadier yardstick than the wall clock.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
