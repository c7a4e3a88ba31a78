package store_test

import (
	"context"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/internal/store/storetest"
)

// cpuTime is the CPU time (user and system) the process has used so far; the
// embedded engine runs in it.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAbandonedFinds is issue 9's 16 staff whose lists time out on
// their phones: 16 clients start the same expensive find (an unindexed
// filter on a number, so the engine decodes every case-shaped document in
// Go and matches none) and give up after 200 ms by cancelling, as an HTTP
// client that hangs up does (the request context is cancelled, under
// handlers.RequestTimeout's 30 s deadline, so the driver sends maxTimeMS
// 30,000). It reports the CPU seconds the process (the engine in it) burns
// from the start until the engine has no command left running, and that
// time, with the stock connection loop (FERRETDB_STOCK_CLIENTCONN=1) and
// with the patch; "full" is one find run to its end, the yardstick.
//
//	MINSHENG_BENCH_CASES=50000 go test -run '^$' -bench AbandonedFinds -benchtime 1x ./internal/store/
//
// MINSHENG_BENCH_CASES defaults to 20,000 documents.
func BenchmarkAbandonedFinds(b *testing.B) {
	skipUnlessEmbedded(b)
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("MINSHENG_BENCH_CASES")); err == nil && v > 0 {
		n = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	s := storetest.New(b)
	cases := s.Collection("cases")
	for start := 0; start < n; start += 1000 {
		docs := make([]any, 0, 1000)
		for i := start; i < min(start+1000, n); i++ {
			docs = append(docs, benchCase(i))
		}
		if err := cases.InsertMany(ctx, docs); err != nil {
			b.Fatal(err)
		}
	}
	filter := bson.D{{Key: "version", Value: bson.D{{Key: "$lt", Value: 0}}}}
	const clients, giveUp = 16, 200 * time.Millisecond

	waitIdle := func(b *testing.B) {
		b.Helper()
		for engineBusy() > 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}

	b.Run("full", func(b *testing.B) {
		waitIdle(b)
		var cpu, wall time.Duration
		for range b.N {
			c0, t0 := cpuTime(b), time.Now()
			var docs []bson.M
			if err := cases.FindAll(ctx, filter, &docs); err != nil {
				b.Fatal(err)
			}
			cpu += cpuTime(b) - c0
			wall += time.Since(t0)
		}
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/find")
		b.ReportMetric(wall.Seconds()/float64(b.N), "s/find")
	})

	for _, mode := range []struct {
		name  string
		stock bool
	}{{"stock", true}, {"patched", false}} {
		b.Run(mode.name, func(b *testing.B) {
			if mode.stock {
				b.Setenv("FERRETDB_STOCK_CLIENTCONN", "1")
			}
			waitIdle(b)
			var cpu, busy time.Duration
			for range b.N {
				c0, t0 := cpuTime(b), time.Now()
				var wg sync.WaitGroup
				for range clients {
					wg.Go(func() {
						rctx, cancelReq := context.WithTimeout(ctx, 30*time.Second)
						defer cancelReq()
						qctx, giveUpNow := context.WithCancel(rctx)
						t := time.AfterFunc(giveUp, giveUpNow)
						defer t.Stop()
						var docs []bson.M
						_ = cases.FindAll(qctx, filter, &docs)
					})
				}
				wg.Wait()
				waitIdle(b)
				cpu += cpuTime(b) - c0
				busy += time.Since(t0)
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(busy.Seconds()/float64(b.N), "engine-busy-s/op")
		})
	}
}
