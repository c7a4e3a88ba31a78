package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

// engineFrame is a stack frame present while the embedded engine runs a
// command of ours: the connection loop handing an OP_MSG to its handler.
const engineFrame = "clientconn.(*conn).handleOpMsg"

// engineBusy reports how many of the process's goroutines are inside the
// embedded engine's command handler. The engine runs in this process, so its
// goroutines are ours to count.
func engineBusy() int {
	buf := make([]byte, 8<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), engineFrame)
}

// waitEngine waits up to limit for at most want goroutines inside the
// engine's command handler and returns how long that took.
func waitEngine(t *testing.T, want int, limit time.Duration) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	for engineBusy() > want {
		if time.Since(start) > limit {
			return time.Since(start), false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start), true
}

// seedExpensive fills a collection on which slowFilter costs the engine
// seconds of CPU per find: numbers are not pushed down to SQL, so the
// engine decodes every document and compares each of its 500 array
// elements with each of the 1,500 $in values in Go (none matches).
func seedExpensive(t *testing.T, s *store.Store, name string, docs int) *store.Collection {
	t.Helper()
	arr := make(bson.A, 500)
	for i := range arr {
		arr[i] = int32(i)
	}
	batch := make([]any, docs)
	for i := range batch {
		batch[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("d%04d", i)}, {Key: "v", Value: arr}}
	}
	c := s.Collection(name)
	if err := c.InsertMany(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	return c
}

func slowFilter() bson.D {
	in := make(bson.A, 1500)
	for i := range in {
		in[i] = int32(-1 - i)
	}
	return bson.D{{Key: "v", Value: bson.D{{Key: "$in", Value: in}}}}
}

// A find whose caller gives up stops inside the embedded engine, not only
// in the driver. mongo-driver v2 closes the connection on a cancelled
// context; on a passed deadline it keeps the connection, waits 400 ms for
// the reply in the pool (BGReadTimeout), then closes it (Collection.Find
// sends no maxTimeMS, DRIVERS-2722, so the engine knows no deadline). The
// patched engine cancels the command's context when its client closes the
// connection (third_party/PATCHES, "Client gone"). The pool serves the next
// query, and no goroutine is left behind.
//
// How we checked that it fails without the patch: with
// FERRETDB_STOCK_CLIENTCONN=1 (the patch's stock switch) every round
// fails with the engine still inside the find 10 s after the cancel or
// the deadline.
func TestCancelledFindStopsInTheEngine(t *testing.T) {
	if os.Getenv("MINSHENG_TEST_MONGODB_URI") != "" {
		t.Skip("counts the embedded engine's goroutines")
	}
	s := storetest.New(t)
	c := seedExpensive(t, s, "slow", 200)
	ctx := context.Background()
	if err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "small"}, {Key: "v", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	baseline := runtime.NumGoroutine()

	for round := range 4 {
		deadline := round%2 == 1
		name := fmt.Sprintf("cancelled, round %d", round/2)
		if deadline {
			name = fmt.Sprintf("deadline, round %d", round/2)
		}
		t.Run(name, func(t *testing.T) {
			qctx, cancel := context.WithCancel(ctx)
			want := context.Canceled
			if deadline {
				qctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
				want = context.DeadlineExceeded
			}
			defer cancel()
			ended := make(chan error, 1)
			go func() {
				var docs []bson.M
				ended <- c.FindAll(qctx, slowFilter(), &docs)
			}()
			start := time.Now()
			for engineBusy() == 0 {
				if time.Since(start) > 10*time.Second {
					t.Fatal("the engine never started the find")
				}
				time.Sleep(5 * time.Millisecond)
			}
			if !deadline {
				time.Sleep(100 * time.Millisecond) // well inside the find
				cancel()
			}
			select {
			case err := <-ended:
				if !errors.Is(err, want) {
					t.Errorf("FindAll returned %v, want %v", err, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("FindAll did not return 10 s after its context ended")
			}
			took, ok := waitEngine(t, 0, 10*time.Second)
			if !ok {
				t.Fatalf("the engine still runs the find %s after FindAll returned (%d goroutines in %s)", took.Round(time.Millisecond), engineBusy(), engineFrame)
			}
			t.Logf("engine stopped %s after FindAll returned", took.Round(time.Millisecond))

			var got []bson.M
			if err := c.FindAll(ctx, bson.D{{Key: "_id", Value: "small"}}, &got); err != nil {
				t.Fatalf("next query: %v", err)
			}
			if len(got) != 1 {
				t.Errorf("next query found %d documents, want 1", len(got))
			}
			deadline := time.Now().Add(5 * time.Second)
			for runtime.NumGoroutine() > baseline+2 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if got := runtime.NumGoroutine(); got > baseline+2 {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines = %d, want back to %d (+2)\n%s", got, baseline, buf[:runtime.Stack(buf, true)])
			}
		})
	}
}

// A write whose caller gives up still runs to its end in the engine: the
// patch watches read-only commands only, so a batch of an import (or a
// transition's update) that the driver abandons by closing its connection
// is applied whole, as before, and never half.
//
// How we checked that it would fail if writes were watched: with "insert"
// added to the patch's readOnlyCommands, every round stored 0 of the 200
// documents.
func TestCancelledInsertRunsToItsEnd(t *testing.T) {
	if os.Getenv("MINSHENG_TEST_MONGODB_URI") != "" {
		t.Skip("watches the embedded engine's goroutines")
	}
	s := storetest.New(t)
	ctx := context.Background()
	for round := range 3 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			coll := s.Collection(fmt.Sprintf("import%d", round))
			docs := make([]any, 200) // one InsertMany command (store's insertBatch)
			for i := range docs {
				docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("r%d-%04d", round, i)}, {Key: "text", Value: strings.Repeat("居民反映楼道照明长期不亮", 60)}}
			}
			qctx, cancel := context.WithCancel(ctx)
			defer cancel()
			ended := make(chan error, 1)
			go func() { ended <- coll.InsertMany(qctx, docs) }()
			start := time.Now()
			for !engineIn("(*Handler).MsgInsert") {
				if time.Since(start) > 10*time.Second {
					t.Fatal("the engine never started the insert")
				}
				time.Sleep(time.Millisecond)
			}
			cancel()
			err := <-ended
			if _, ok := waitEngine(t, 0, 10*time.Second); !ok {
				t.Fatal("the engine still runs the insert 10 s after the cancel")
			}
			n, cerr := coll.Count(ctx, bson.D{})
			if cerr != nil {
				t.Fatal(cerr)
			}
			if n != int64(len(docs)) {
				t.Errorf("documents after a cancelled insert = %d, want %d (the whole batch); InsertMany returned %v", n, len(docs), err)
			}
			t.Logf("InsertMany returned %v; %d documents stored", err, n)
		})
	}
}

// engineIn reports whether a goroutine of the engine is in a function whose
// name contains frame.
func engineIn(frame string) bool {
	buf := make([]byte, 8<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), frame)
}
