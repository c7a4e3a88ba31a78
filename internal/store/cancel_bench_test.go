package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

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
// with the patch; "patched-deadline" gives up by a 200 ms deadline instead
// (the driver closes the connection 400 ms later; stock would not stop
// either, Find sends no maxTimeMS); "full" is one find run to its end, the
// yardstick.
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
		name     string
		stock    bool
		deadline bool // give up by a deadline (RequestTimeout) instead of a cancel
	}{{"stock", true, false}, {"patched", false, false}, {"patched-deadline", false, true}} {
		b.Run(mode.name, func(b *testing.B) {
			if mode.stock {
				b.Setenv("FERRETDB_STOCK_CLIENTCONN", "1")
			}
			waitIdle(b)
			var cpu, busy time.Duration
			reached := 0
			for range b.N {
				b.StopTimer()
				warmPool(b, func() {
					var got []bson.M
					_ = cases.FindAll(ctx, bson.D{}, &got, options.Find().SetLimit(50))
				})
				b.StartTimer()
				c0, t0 := cpuTime(b), time.Now()
				sampled := time.AfterFunc(giveUp-20*time.Millisecond, func() { reached += engineBusy() })
				var wg sync.WaitGroup
				for range clients {
					wg.Go(func() {
						rctx, cancelReq := context.WithTimeout(ctx, 30*time.Second)
						defer cancelReq()
						qctx, giveUpNow := context.WithCancel(rctx)
						if mode.deadline {
							qctx, giveUpNow = context.WithTimeout(rctx, giveUp)
						}
						defer giveUpNow()
						t := time.AfterFunc(giveUp, giveUpNow)
						defer t.Stop()
						var docs []bson.M
						_ = cases.FindAll(qctx, filter, &docs)
					})
				}
				wg.Wait()
				sampled.Stop()
				waitIdle(b)
				cpu += cpuTime(b) - c0
				busy += time.Since(t0)
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(busy.Seconds()/float64(b.N), "engine-busy-s/op")
			b.ReportMetric(float64(reached)/float64(b.N), "finds-in-engine")
		})
	}
}

// warmPool runs op (long enough for 16 to overlap) 16 at a time a few
// times, so that the driver's pool holds about 16 connections, as under
// steady load: a cold pool opens two at a
// time, and finds still waiting for one when their clients give up never
// reach the engine.
func warmPool(b *testing.B, op func()) {
	b.Helper()
	for range 3 {
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(op)
		}
		wg.Wait()
	}
}

// BenchmarkWatchedFindOne is the patch's cost on every read: a findOne by
// _id (an index lookup) with the stock connection loop and with the watch
// (a goroutine waiting on the socket and two read deadlines per command).
//
//	go test -run '^$' -bench WatchedFindOne ./internal/store/
func BenchmarkWatchedFindOne(b *testing.B) {
	skipUnlessEmbedded(b)
	ctx := context.Background()
	s := storetest.New(b)
	cases := s.Collection("cases")
	docs := make([]any, 1000)
	for i := range docs {
		docs[i] = benchCase(i)
	}
	if err := cases.InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	for _, stock := range []bool{true, false} {
		name := "patched"
		if stock {
			name = "stock"
		}
		b.Run(name, func(b *testing.B) {
			if stock {
				b.Setenv("FERRETDB_STOCK_CLIENTCONN", "1")
			}
			i := 0
			for b.Loop() {
				var got bson.M
				if err := cases.FindOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("2026-%06d", i%1000)}}, &got); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
