package bench_test

import (
	"context"
	"fmt"
	"minsheng/internal/app"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
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
	if err := st.EnsureIndexes(ctx, app.Indexes()); err != nil {
		b.Fatal(err)
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

// BenchmarkCheckRicherStore times `minsheng check` as the command runs it
// (cmd/minsheng/check.go: the summary repair, then the ledger check) on the
// reports benchmark's store (seedPilot: cases in every state, 270 lines,
// reservations with their claims and case copies), b.N times, with the
// process's peak RSS during each check:
//
//	MINSHENG_BENCH_CASES=50000 go test -run '^$' -bench 'CheckRicherStore' -benchtime 2x -timeout 60m ./bench/
//
// MINSHENG_BENCH_PROFILE=/tmp/check.prof writes a CPU profile of the checks.
func BenchmarkCheckRicherStore(b *testing.B) {
	n := envInt("MINSHENG_BENCH_CASES", 10_000)
	ctx := context.Background()
	p := seedPilot(b, n)
	// As cmd/minsheng/check.go's checkGC runs the command, unless the
	// environment sets GOGC or GOMEMLIMIT.
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(450 << 20))
	}
	defer profile(b, "MINSHENG_BENCH_PROFILE")()
	b.ResetTimer()
	for range b.N {
		resetPeakRSS(b)
		at := time.Now()
		cpu0 := processCPU(b)
		sums, err := p.cases.RepairSummaries(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if sums.Cases != n || sums.Missing+sums.Stale+sums.Orphans != 0 {
			b.Fatalf("repair on a settled store: %+v, want %d cases and nothing repaired", sums, n)
		}
		repair := time.Since(at)
		rep, err := p.ledger.Check(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK() {
			b.Fatalf("ledger check on a settled store: %d fixes, %d problems", len(rep.Fixes), len(rep.Problems))
		}
		total := time.Since(at)
		cpu := processCPU(b) - cpu0
		fmt.Printf("check at %d cases (richer store): summary repair %s, ledger check %s (%d lines, %d reservations, %d case copies), total %s, process CPU %s, peak RSS %d MB\n",
			n, repair.Round(time.Millisecond), (total - repair).Round(time.Millisecond), rep.Lines, rep.Reservations, rep.Cases,
			total.Round(time.Millisecond), cpu.Round(time.Millisecond), peakRSS(b)>>20)
	}
}

// resetPeakRSS returns the heap's free memory to the system and resets the
// process's peak resident set size (Linux: VmHWM), so that peakRSS reports
// the peak of what follows, from what the process holds now (the engine's
// caches included, as in a command that just opened the store).
func resetPeakRSS(b *testing.B) {
	b.Helper()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("peak RSS not reset: %v", err)
	}
}

// peakRSS is the process's peak resident set size in bytes since the last
// resetPeakRSS (0 where /proc is missing).
func peakRSS(b *testing.B) int64 {
	b.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
