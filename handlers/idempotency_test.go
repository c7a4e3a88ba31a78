package handlers_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"minsheng/budgetlink/ledger"
	"minsheng/handlers"
	"minsheng/internal/auth"
	"minsheng/internal/httpkit"
)

// answer is one HTTP answer as a test reads it.
type answer struct {
	status   int
	replayed bool
	body     []byte
}

func (a answer) decode(t *testing.T, out any) {
	t.Helper()
	if err := json.Unmarshal(a.body, out); err != nil {
		t.Fatalf("decode %q: %v", a.body, err)
	}
}

// keyed sends a JSON body through app.Test with an Idempotency-Key; header
// holds extra name, value pairs.
func (f *fixture) keyed(t *testing.T, who, method, path, key string, body any, header ...string) answer {
	t.Helper()
	b, _ := json.Marshal(body)
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[who])
	}
	resp, err := f.app.Test(req, 30_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, replayed: resp.Header.Get("Idempotency-Replayed") == "true", body: data}
}

// listen serves app on a real socket for the test's duration and returns
// its base URL.
func listen(t *testing.T, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

func TestIdempotencyKeyOverHTTP(t *testing.T) {
	f := newFixture(t, fixtureOptions{proxyHeader: "X-Real-IP"})
	f.staff(t, "finance", auth.RoleFinance, "")
	f.resident(t, "resident", "13800000001")
	f.resident(t, "neighbour", "13800000002")
	a := casesApp{f}
	const key = "offline-outbox:0001"

	var first caseJSON
	t.Run("first request runs", func(t *testing.T) {
		got := f.keyed(t, "resident", "POST", "/api/v1/cases", key, newCaseBody())
		if got.status != 201 || got.replayed {
			t.Fatalf("status %d replayed %v: %s", got.status, got.replayed, got.body)
		}
		got.decode(t, &first)
	})
	t.Run("same key and body replays the stored answer", func(t *testing.T) {
		// Keys in another order and other spacing are the same request.
		body := newCaseBody()
		got := f.keyed(t, "resident", "POST", "/api/v1/cases/", key, body)
		var c caseJSON
		got.decode(t, &c)
		if got.status != 201 || !got.replayed || c.ID != first.ID {
			t.Errorf("repeat: status %d replayed %v id %s, want 201 true %s", got.status, got.replayed, c.ID, first.ID)
		}
	})
	t.Run("same key and another body is 422", func(t *testing.T) {
		body := newCaseBody()
		body["title"] = "另一件事：小区门口路灯不亮"
		got := f.keyed(t, "resident", "POST", "/api/v1/cases", key, body)
		var e errBody
		got.decode(t, &e)
		if got.status != 422 || e.Error.Code != "unprocessable" || e.Error.Message != "该 Idempotency-Key 已用于另一内容不同的请求" {
			t.Errorf("status %d, %+v; want 422 unprocessable", got.status, e.Error)
		}
		var list struct {
			Items []caseJSON `json:"items"`
		}
		a.call(t, "resident", "GET", "/api/v1/cases", nil, &list)
		if len(list.Items) != 1 {
			t.Errorf("resident has %d cases, want 1", len(list.Items))
		}
	})
	t.Run("another user's same key is independent", func(t *testing.T) {
		got := f.keyed(t, "neighbour", "POST", "/api/v1/cases", key, newCaseBody())
		var c caseJSON
		got.decode(t, &c)
		if got.status != 201 || got.replayed || c.ID == "" || c.ID == first.ID {
			t.Errorf("neighbour: status %d replayed %v id %s (resident's %s), want a case of its own", got.status, got.replayed, c.ID, first.ID)
		}
	})
	t.Run("anonymous clients never get each other's case", func(t *testing.T) {
		const anonKey = "anon-filing-0001"
		var one, two, again caseJSON
		f.keyed(t, "", "POST", "/api/v1/cases", anonKey, newCaseBody(), "X-Real-IP", "203.0.113.1").decode(t, &one)
		got := f.keyed(t, "", "POST", "/api/v1/cases", anonKey, newCaseBody(), "X-Real-IP", "203.0.113.2")
		got.decode(t, &two)
		if got.status != 201 || got.replayed || two.ID == one.ID || two.TrackingToken == one.TrackingToken {
			t.Errorf("second client: status %d replayed %v case %s token %q; first client's case %s token %q",
				got.status, got.replayed, two.ID, two.TrackingToken, one.ID, one.TrackingToken)
		}
		got = f.keyed(t, "", "POST", "/api/v1/cases", anonKey, newCaseBody(), "X-Real-IP", "203.0.113.1")
		got.decode(t, &again)
		if !got.replayed || again.ID != one.ID || again.TrackingToken != one.TrackingToken {
			t.Errorf("first client's retry: replayed %v case %s, want its own %s with its token", got.replayed, again.ID, one.ID)
		}
	})
	t.Run("one key on two lines moves money on both", func(t *testing.T) {
		b := budgetApp{f}
		l1 := b.line(t, "xinjiekou", bulky, "大件垃圾清运一", 1_000_000)
		l2 := b.line(t, "xinjiekou", bulky, "大件垃圾清运二", 1_000_000)
		body := map[string]any{"kind": "increase", "amount_fen": 5_000, "reason": "追加"}
		var adj1, adj2 ledger.Adjustment
		f.keyed(t, "finance", "POST", "/api/v1/budget/lines/"+l1.ID+"/adjustments", "adj-key-0001", body).decode(t, &adj1)
		got := f.keyed(t, "finance", "POST", "/api/v1/budget/lines/"+l2.ID+"/adjustments", "adj-key-0001", body)
		got.decode(t, &adj2)
		if got.status != 201 || got.replayed || adj2.ID == "" || adj2.ID == adj1.ID {
			t.Errorf("second line: status %d replayed %v adjustment %s (first %s)", got.status, got.replayed, adj2.ID, adj1.ID)
		}
		for _, id := range []string{l1.ID, l2.ID} {
			var l ledger.BudgetLine
			a.call(t, "finance", "GET", "/api/v1/budget/lines/"+id, nil, &l)
			if l.AdjustedFen != 5_000 {
				t.Errorf("line %s adjusted by %d, want 5000", l.ProjectName, l.AdjustedFen)
			}
		}
	})
	t.Run("sign-in answers are never stored", func(t *testing.T) {
		body := map[string]any{"username": "finance", "password": "password-finance"}
		for i := range 2 {
			if got := f.keyed(t, "", "POST", "/api/v1/auth/login", "login-key-0001", body); got.status != 200 || got.replayed {
				t.Errorf("login %d: status %d replayed %v, want 200 run afresh", i+1, got.status, got.replayed)
			}
		}
	})
	t.Run("malformed key is 400", func(t *testing.T) {
		for _, k := range []string{"short", "has space in it", "键键键键键键键键键"} {
			got := f.keyed(t, "resident", "POST", "/api/v1/cases", k, newCaseBody())
			var e errBody
			got.decode(t, &e)
			if got.status != 400 || e.Error.Fields["Idempotency-Key"] == "" {
				t.Errorf("key %q: status %d, %+v; want 400 naming Idempotency-Key", k, got.status, e.Error)
			}
		}
	})
}

// TestIdempotencyConcurrentOverSocket sends 12 identical requests at once,
// over real connections, to a line and a filer that already hold entries,
// five rounds each: every round moves money once and files one case, and
// every answer names that one result.
func TestIdempotencyConcurrentOverSocket(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.staff(t, "finance", auth.RoleFinance, "")
	f.resident(t, "resident", "13800000001")
	b := budgetApp{f}
	line := b.line(t, "xinjiekou", bulky, "大件垃圾清运", 1_000_000)
	if st := f.call(t, "finance", "POST", "/api/v1/budget/lines/"+line.ID+"/adjustments",
		map[string]any{"kind": "decrease", "amount_fen": 1_000, "reason": "已有调减"}, nil); st != 201 {
		t.Fatalf("existing adjustment: status %d", st)
	}
	if st := f.call(t, "resident", "POST", "/api/v1/cases", newCaseBody(), nil); st != 201 {
		t.Fatalf("existing case: status %d", st)
	}
	base := listen(t, f.app)
	client := &http.Client{Timeout: 30 * time.Second}
	const (
		rounds = 5
		n      = 12
	)
	burst := func(t *testing.T, who, path, key string, body any) (ids map[string]int, replays int) {
		t.Helper()
		raw, _ := json.Marshal(body)
		var mu sync.Mutex
		var wg sync.WaitGroup
		ids = map[string]int{}
		start := make(chan struct{})
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", base+path, bytes.NewReader(raw))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+f.tokens[who])
				req.Header.Set("Idempotency-Key", key)
				<-start
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				var out struct {
					ID string `json:"id"`
				}
				data, _ := io.ReadAll(resp.Body)
				_ = json.Unmarshal(data, &out)
				mu.Lock()
				defer mu.Unlock()
				if resp.StatusCode != 201 {
					t.Errorf("%s: status %d: %s", path, resp.StatusCode, data)
					return
				}
				ids[out.ID]++
				if resp.Header.Get("Idempotency-Replayed") == "true" {
					replays++
				}
			}()
		}
		close(start)
		wg.Wait()
		return ids, replays
	}
	for r := range rounds {
		t.Run(fmt.Sprintf("round %d", r+1), func(t *testing.T) {
			ids, replays := burst(t, "finance", "/api/v1/budget/lines/"+line.ID+"/adjustments", fmt.Sprintf("adj-round-%02d", r),
				map[string]any{"kind": "increase", "amount_fen": 10_000, "reason": "追加"})
			if len(ids) != 1 || replays != n-1 {
				t.Errorf("adjustments: %d distinct answers %v, %d replays; want 1 and %d", len(ids), ids, replays, n-1)
			}
			var l ledger.BudgetLine
			f.call(t, "finance", "GET", "/api/v1/budget/lines/"+line.ID, nil, &l)
			if got, want := l.AdjustedFen, int64(-1_000+10_000*(r+1)); got != want {
				t.Errorf("line adjusted by %d, want %d", got, want)
			}

			ids, replays = burst(t, "resident", "/api/v1/cases", fmt.Sprintf("file-round-%02d", r), newCaseBody())
			if len(ids) != 1 || replays != n-1 {
				t.Errorf("filings: %d distinct answers %v, %d replays; want 1 and %d", len(ids), ids, replays, n-1)
			}
			var list struct {
				Items []caseJSON `json:"items"`
			}
			f.call(t, "resident", "GET", "/api/v1/cases?limit=100", nil, &list)
			if got, want := len(list.Items), r+2; got != want {
				t.Errorf("resident has %d cases, want %d", got, want)
			}
		})
	}
}

// flakyGroup fails its first call with a server error and its second with
// a panic, then succeeds, counting calls.
type flakyGroup struct{ calls *atomic.Int32 }

func (g flakyGroup) Routes(api fiber.Router, _ *httpkit.Kit) {
	api.Post("/test/flaky", func(c *fiber.Ctx) error {
		switch n := g.calls.Add(1); n {
		case 1:
			return errors.New("store unreachable")
		case 2:
			panic("boom")
		default:
			return c.Status(201).JSON(fiber.Map{"call": n})
		}
	})
}

// TestIdempotencyServerErrorsNotStored: a 500 or a panic releases the key,
// so the retry runs again; the success after it is what later retries get.
func TestIdempotencyServerErrorsNotStored(t *testing.T) {
	g := flakyGroup{calls: new(atomic.Int32)}
	a := newTestAppWith(t, handlers.Config{Groups: []httpkit.RouteGroup{g}})
	send := func() answer {
		req := httptest.NewRequest("POST", "/api/v1/test/flaky", bytes.NewReader([]byte(`{"x":1}`)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "flaky-key-01")
		resp, err := a.app.Test(req, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return answer{status: resp.StatusCode, replayed: resp.Header.Get("Idempotency-Replayed") == "true", body: data}
	}
	for i, want := range []answer{{status: 500}, {status: 500}, {status: 201, body: []byte(`{"call":3}`)}, {status: 201, replayed: true, body: []byte(`{"call":3}`)}} {
		got := send()
		if got.status != want.status || got.replayed != want.replayed || (want.body != nil && string(got.body) != string(want.body)) {
			t.Errorf("attempt %d: status %d replayed %v body %s; want %d %v %s", i+1, got.status, got.replayed, got.body, want.status, want.replayed, want.body)
		}
	}
	if got := g.calls.Load(); got != 3 {
		t.Errorf("handler ran %d times, want 3", got)
	}
}
