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
// store, b.N times:
//
//	MINSHENG_BENCH_CASES=10000 go test -run '^$' -bench 'Check$' -benchtime 1x ./bench/
//
// MINSHENG_BENCH_PROFILE=/tmp/check.prof writes a CPU profile of the repairs
// alone, MINSHENG_BENCH_PROFILE_START one of the first start.
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
	stop := profile(b, "MINSHENG_BENCH_PROFILE_START")
	firstAt := time.Now()
	w := wire(b, st)
	first := time.Since(firstAt)
	stop()
	// once untimed: the first scans after the bulk build read a large WAL
	if _, err := w.cases.RepairSummaries(ctx); err != nil {
		b.Fatal(err)
	}
	defer profile(b, "MINSHENG_BENCH_PROFILE")()
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

// profile writes a CPU profile to the file the environment variable env
// names, if set, until the returned function is called.
func profile(b *testing.B, env string) (stop func()) {
	b.Helper()
	path := os.Getenv(env)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }
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
