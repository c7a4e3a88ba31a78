package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/crypto/bcrypt"

	"minsheng/handlers"
	"minsheng/internal/auth"
	"minsheng/internal/httpkit"
	"minsheng/internal/org"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

// slowScan is a read that keeps the store busy: GET /api/v1/test/scan?n=N
// runs N finds over a collection (0: until one fails), as a big list or
// report does, and reports how it ended.
type slowScan struct {
	coll    *store.Collection
	started chan struct{}
	ended   chan error
	ops     atomic.Int64
	quit    chan struct{} // closed at the test's end, so a scan never outlives it
}

func (s *slowScan) Routes(api fiber.Router, _ *httpkit.Kit) {
	api.Get("/test/scan", func(c *fiber.Ctx) error {
		n := c.QueryInt("n")
		ctx := c.UserContext()
		s.started <- struct{}{}
		var err error
		for i := 0; n == 0 || i < n; i++ {
			select {
			case <-s.quit:
				return errors.New("test over")
			default:
			}
			var docs []bson.M
			if err = s.coll.FindAll(ctx, bson.D{{Key: "k", Value: bson.D{{Key: "$gte", Value: 0}}}}, &docs); err != nil {
				break
			}
			s.ops.Add(1)
		}
		select { // never block: a failed test leaves its report unread
		case s.ended <- err:
		default:
		}
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"ok": true})
	})
}

func serveScan(t *testing.T) (base string, scan *slowScan) {
	t.Helper()
	st := storetest.New(t)
	ctx := context.Background()
	docs := make([]any, 300)
	for i := range docs {
		docs[i] = bson.D{{Key: "k", Value: i}, {Key: "text", Value: strings.Repeat("居民反映", 100)}}
	}
	if err := st.Collection("scan").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	scan = &slowScan{coll: st.Collection("scan"), started: make(chan struct{}, 1), ended: make(chan error, 1), quit: make(chan struct{})}
	base = serveGroups(t, st, scan)
	t.Cleanup(func() { close(scan.quit) })
	return base, scan
}

// serveGroups serves the API with groups on a real listener.
func serveGroups(t *testing.T, st *store.Store, groups ...httpkit.RouteGroup) (base string) {
	t.Helper()
	dir, logger := org.Xicheng(), storetest.Logger()
	acfg := auth.DefaultConfig([]byte(strings.Repeat("k", 32)), logger)
	acfg.BcryptCost = bcrypt.MinCost
	authSvc, err := auth.NewService(st, dir, acfg)
	if err != nil {
		t.Fatal(err)
	}
	app := handlers.New(handlers.Config{Auth: authSvc, Org: dir, Store: st, Logger: logger, Groups: groups, MetricsToken: testMetricsToken})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return "http://" + ln.Addr().String()
}

func metric(t *testing.T, base, name string) string {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testMetricsToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+" ") {
			return strings.TrimPrefix(line, name+" ")
		}
	}
	return ""
}

// waitMetric reads a metric until it has the value want, for up to 5 s: the
// middleware counts an abandoned request after its handler has returned,
// so just after the handler's end it may not be counted yet.
func waitMetric(t *testing.T, base, name, want string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := metric(t, base, name)
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A read whose client closes the connection stops its database work: the
// store call in flight returns context.Canceled, the handler ends, the
// abandonment is counted, and the goroutines return to where they were.
// Before the request context was cancelled on a client's disconnect, the
// scan below ran forever (its store calls never failed).
func TestClientGoneStopsTheStoreWork(t *testing.T) {
	base, scan := serveScan(t)
	gone := `minsheng_http_requests_abandoned_total{reason="client_gone"}`

	t.Run("a client that stays gets its answer", func(t *testing.T) {
		res, err := http.Get(base + "/api/v1/test/scan?n=5")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		<-scan.started
		if err := <-scan.ended; err != nil {
			t.Fatalf("scan ended with %v, want nil", err)
		}
		if res.StatusCode != 200 {
			t.Errorf("status = %d, want 200", res.StatusCode)
		}
		if got := metric(t, base, gone); got != "" {
			t.Errorf("abandoned = %q, want none", got)
		}
	})

	for round := range 3 {
		t.Run(fmt.Sprintf("a client that hangs up, round %d", round), func(t *testing.T) {
			conn, baseline := hangingGET(t, base, "/api/v1/test/scan")
			<-scan.started
			time.Sleep(200 * time.Millisecond) // some store calls succeed
			before := scan.ops.Load()
			closed := time.Now()
			conn.Close()
			var err2 error
			select {
			case err2 = <-scan.ended:
			case <-time.After(10 * time.Second):
				t.Fatalf("the scan still runs 10 s after its client left (%d store calls since)", scan.ops.Load()-before)
			}
			if !errors.Is(err2, context.Canceled) {
				t.Errorf("the store call returned %v, want context.Canceled", err2)
			}
			t.Logf("stopped %s after the client left, %d store calls later", time.Since(closed).Round(time.Millisecond), scan.ops.Load()-before)
			if got, want := waitMetric(t, base, gone, fmt.Sprint(round+1)), fmt.Sprint(round+1); got != want {
				t.Errorf("%s = %q, want %s", gone, got, want)
			}
			// The driver replaces the connection it closed on cancelling
			// (two goroutines of the engine's) and fasthttp keeps an idle
			// worker for a while: that much churn is allowed, nothing of
			// the request itself.
			if got, stacks := settledGoroutines(baseline); got > baseline+3 || strings.Contains(stacks, "watchPeer") || strings.Contains(stacks, "slowScan") {
				t.Errorf("goroutines = %d, want back to %d (+3)\n%s", got, baseline, stacks)
			}
		})
	}
}

// expensiveList is a list the engine works long on: GET /api/v1/test/expensive
// runs one find that the engine cannot push down to SQL (numbers), over
// documents with 500-element arrays against 1,500 $in values, none matching,
// so the engine decodes and compares every document in Go for seconds.
type expensiveList struct {
	coll  *store.Collection
	ended chan error
}

func (e *expensiveList) Routes(api fiber.Router, _ *httpkit.Kit) {
	api.Get("/test/expensive", func(c *fiber.Ctx) error {
		in := make(bson.A, 1500)
		for i := range in {
			in[i] = int32(-1 - i)
		}
		var docs []bson.M
		err := e.coll.FindAll(c.UserContext(), bson.D{{Key: "v", Value: bson.D{{Key: "$in", Value: in}}}}, &docs)
		select { // never block: a failed round leaves its report unread
		case e.ended <- err:
		default:
		}
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"n": len(docs)})
	})
}

// engineFrame is in a goroutine's stack while the embedded engine (in this
// process) runs a command.
const engineFrame = "clientconn.(*conn).handleOpMsg"

func engineBusy() int {
	buf := make([]byte, 8<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), engineFrame)
}

// A list whose HTTP client hangs up stops inside the embedded engine, not
// only in the handler: the request context's cancellation makes the driver
// close its connection, and the engine (third_party/PATCHES, "Client gone")
// stops the find when it sees the connection closed. The store keeps
// serving and nothing is left running.
//
// How we checked that it fails without the patch: with
// FERRETDB_STOCK_CLIENTCONN=1 (the patch's stock switch) the handler still
// returns at once with context.Canceled, but every round fails with the
// engine inside the find 10 s after the client left.
func TestClientGoneStopsTheEngineWork(t *testing.T) {
	if storetest.External() {
		t.Skip("watches the embedded engine's goroutines in this process; the store is external")
	}
	st := storetest.New(t)
	ctx := context.Background()
	arr := make(bson.A, 500)
	for i := range arr {
		arr[i] = int32(i)
	}
	docs := make([]any, 200)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("d%04d", i)}, {Key: "v", Value: arr}}
	}
	coll := st.Collection("expensive")
	if err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	list := &expensiveList{coll: coll, ended: make(chan error, 1)}
	base := serveGroups(t, st, list)
	gone := `minsheng_http_requests_abandoned_total{reason="client_gone"}`

	for round := range 3 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			conn, baseline := hangingGET(t, base, "/api/v1/test/expensive")
			start := time.Now()
			for engineBusy() == 0 {
				if time.Since(start) > 10*time.Second {
					t.Fatal("the engine never started the find")
				}
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond) // the phone loses signal mid-list
			closed := time.Now()
			conn.Close()
			select {
			case err := <-list.ended:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("the store call returned %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the handler still waits 10 s after its client left")
			}
			for engineBusy() > 0 {
				if time.Since(closed) > 10*time.Second {
					t.Fatalf("the engine still runs the find %s after the client left", time.Since(closed).Round(time.Millisecond))
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("engine stopped %s after the client left", time.Since(closed).Round(time.Millisecond))
			if got, want := waitMetric(t, base, gone, fmt.Sprint(round+1)), fmt.Sprint(round+1); got != want {
				t.Errorf("%s = %q, want %s", gone, got, want)
			}
			var got bson.M
			if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "d0007"}}, &got); err != nil {
				t.Errorf("next query: %v", err)
			}
			// As above: the driver's replacement connection (two engine
			// goroutines) and an idle fasthttp worker may remain.
			if got, stacks := settledGoroutines(baseline); got > baseline+3 {
				t.Errorf("goroutines = %d, want back to %d (+3)\n%s", got, baseline, stacks)
			}
		})
	}
}

// hangingGET sends a GET of path on a connection of its own, after idle
// connections are closed, and returns the connection (for the test to hang
// up) and the goroutine count from before it.
func hangingGET(t *testing.T, base, path string) (net.Conn, int) {
	t.Helper()
	http.DefaultClient.CloseIdleConnections()
	time.Sleep(100 * time.Millisecond)
	baseline := runtime.NumGoroutine()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	return conn, baseline
}

// settledGoroutines closes idle connections, waits up to 5 s for the
// goroutine count to come back within 3 of baseline, and returns it with
// every goroutine's stack.
func settledGoroutines(baseline int) (int, string) {
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline+3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	return runtime.NumGoroutine(), string(buf[:runtime.Stack(buf, true)])
}
