package allocation

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// synthetic builds a deterministic district: 15 sub-districts × 140 catalog
// items = 2,100 lines, and needs spread over them by a fixed linear
// congruential generator, so every benchmark run sees the same data.
func synthetic(numNeeds, numLines int) ([]Line, []Need, time.Time) {
	areas := []string{"综合保障", "党群工作", "民生保障", "社区建设", "城市管理", "平安建设"}
	lines := make([]Line, numLines)
	for i := range lines {
		lines[i] = Line{
			ID:              fmt.Sprintf("L%05d", i),
			SubDistrictCode: fmt.Sprintf("SD%02d", i%15),
			ItemCode:        fmt.Sprintf("I%03d", i/15%140),
			Area:            areas[i%len(areas)],
			// 30%, 60%, 100% or 200% of a line's expected demand (needs
			// average 5500 元), so some lines waitlist and some can give.
			AvailableFen: int64(numNeeds/numLines) * 5_500_00 * []int64{3, 6, 10, 20}[i%4] / 10,
		}
	}
	asOf := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	x := uint64(42)
	rnd := func(n uint64) int64 {
		x = x*6364136223846793005 + 1442695040888963407
		return int64((x >> 33) % n)
	}
	needs := make([]Need, numNeeds)
	for i := range needs {
		needs[i] = Need{
			CaseID:           fmt.Sprintf("C%08d", i),
			LineID:           lines[rnd(uint64(numLines))].ID,
			EstimateFen:      1_000_00 + rnd(9_000_00),
			FiledAt:          asOf.Add(-time.Duration(rnd(400*24*3600)) * time.Second),
			Sanbao:           rnd(10) == 0,
			SafetyLevel:      rnd(4),
			Households:       rnd(300),
			CoSigners:        rnd(50),
			Elderly:          rnd(15),
			Disabled:         rnd(5),
			RepeatComplaints: rnd(6),
		}
	}
	return lines, needs, asOf
}

// BenchmarkRun1M is the scale the district needs: 1,000,000 needs over 2,100
// lines, generated before the timer starts. Besides ns/op and allocations it
// reports the live heap of the input (input_MiB) and of one Result kept
// alive (result_MiB), both measured after a full GC. Peak RSS, garbage
// included, is measured outside with /usr/bin/time -v on the test binary.
func BenchmarkRun1M(b *testing.B) {
	lines, needs, asOf := synthetic(1_000_000, 2_100)
	w := DefaultWeights(2026)
	input := liveHeap()
	b.ReportAllocs()
	b.ResetTimer()
	var res Result
	for b.Loop() {
		var err error
		res, err = Run(lines, needs, w, asOf)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	withResult := liveHeap()
	b.ReportMetric(float64(input)/(1<<20), "input_MiB")
	b.ReportMetric(float64(withResult-input)/(1<<20), "result_MiB")
	runtime.KeepAlive(res)
	runtime.KeepAlive(needs)
	runtime.KeepAlive(lines)
}

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
