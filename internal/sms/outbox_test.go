package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

// gateway is a provider behind the http sender that records which
// message ids it accepted (answered 200), and fails as told before that.
type gateway struct {
	*provider
	mu       sync.Mutex
	accepted map[string]int
	fail     func(n int) int // status to answer request n with; 0: accept; -1: hang past the timeout
}

func newGateway(t *testing.T, fail func(n int) int) (*gateway, Sender) {
	g := &gateway{accepted: map[string]int{}, fail: fail}
	g.provider = newProvider(t, func(n int, r captured, w http.ResponseWriter) {
		switch st := g.fail(n); st {
		case 0:
			var b struct{ ID string }
			_ = json.Unmarshal([]byte(r.Body), &b)
			g.mu.Lock()
			g.accepted[b.ID]++
			g.mu.Unlock()
			_, _ = w.Write([]byte(`{"code":0}`))
		case -1:
			time.Sleep(1300 * time.Millisecond)
		default:
			w.WriteHeader(st)
		}
	})
	s, err := NewSender(Config{Mode: "http", Templates: codes, HTTP: HTTPConfig{URL: g.URL, Success: "code=0", Timeout: time.Second}}, storetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	return g, s
}

func (g *gateway) count(id string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.accepted[id]
}

func fast() OutboxConfig {
	return OutboxConfig{Backoff: 5 * time.Millisecond, MaxWait: 40 * time.Millisecond, Lease: 300 * time.Millisecond, Poll: 10 * time.Millisecond}
}

func run(t *testing.T, o *Outbox) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); o.Run(ctx) }()
	return func() { cancel(); <-done }
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func record(t *testing.T, st *store.Store, id string) Record {
	t.Helper()
	var r Record
	if err := st.Collection(outboxCollection).FindOne(context.Background(), map[string]string{"_id": id}, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func stateOf(st *store.Store, id string) string {
	var r Record
	_ = st.Collection(outboxCollection).FindOne(context.Background(), map[string]string{"_id": id}, &r)
	return r.State
}

// TestOutboxOutage: the provider answers 5xx and times out for a while;
// posting never waits for it, nothing is lost, and every message reaches
// the provider exactly once.
func TestOutboxOutage(t *testing.T) {
	st := storetest.New(t)
	var down atomic.Bool
	down.Store(true)
	g, s := newGateway(t, func(n int) int {
		if down.Load() {
			if n == 2 || n == 5 {
				return -1 // a timeout
			}
			return 503
		}
		return 0
	})
	o := NewOutbox(st, s, storetest.Logger(), OutboxConfig{MaxTries: 1000, Backoff: 5 * time.Millisecond, MaxWait: 30 * time.Millisecond, Lease: 3 * time.Second, Poll: 10 * time.Millisecond})
	stop := run(t, o)
	defer stop()
	ctx := context.Background()
	const n = 12
	for i := range n {
		start := time.Now()
		ok, err := o.Post(ctx, otpMessage(t, fmt.Sprintf("m%d", i), "13912345678", "123456"))
		if err != nil || !ok {
			t.Fatalf("post %d: %v %v", i, ok, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("post waited %v for a provider that is down", d)
		}
	}
	waitFor(t, "failed tries", func() bool { return len(g.requests()) > n+4 })
	if c := g.count("m0"); c != 0 {
		t.Fatal("accepted while down")
	}
	down.Store(false)
	waitFor(t, "all sent", func() bool {
		sum, _ := o.List(ctx, "")
		if sum.Counts[StateSent] != n {
			t.Logf("counts %v", sum.Counts)
		}
		return sum.Counts[StateSent] == n
	})
	for i := range n {
		if c := g.count(fmt.Sprintf("m%d", i)); c != 1 {
			t.Errorf("m%d accepted %d times", i, c)
		}
	}
	r := record(t, st, "m0")
	if r.Tries < 2 || r.LastError == "" || r.SentAt == nil || r.Phone != "" || r.Params != nil || r.PhoneMasked != "139****5678" {
		t.Errorf("m0 after the outage = %+v", r)
	}
}

// TestOutboxGivesUp: a message failing every try ends failed after
// MaxTries and is listed with its error; a refusal ends it at once.
func TestOutboxGivesUp(t *testing.T) {
	st := storetest.New(t)
	g, s := newGateway(t, func(n int) int { return 502 })
	cfg := fast()
	cfg.MaxTries = 4
	o := NewOutbox(st, s, storetest.Logger(), cfg)
	stop := run(t, o)
	defer stop()
	ctx := context.Background()
	if _, err := o.Post(ctx, otpMessage(t, "dead", "13912345678", "654321")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "failed", func() bool { return stateOf(st, "dead") == StateFailed })
	if r := record(t, st, "dead"); r.Tries != 4 || !strings.Contains(r.LastError, "502") {
		t.Errorf("record = %+v", r)
	}
	if got := len(g.requests()); got != 4 {
		t.Errorf("%d requests, want 4", got)
	}
	sum, err := o.List(ctx, StateFailed)
	if err != nil || len(sum.Items) != 1 || sum.Counts[StateFailed] != 1 {
		t.Fatalf("list = %+v, %v", sum, err)
	}
	b, _ := json.Marshal(sum)
	if strings.Contains(string(b), "654321") || strings.Contains(string(b), "13912345678") {
		t.Errorf("the list shows the code or the phone: %s", b)
	}

	g.fail = func(int) int { return 400 }
	before := len(g.requests())
	_, _ = o.Post(ctx, otpMessage(t, "refused", "13912345678", "111111"))
	waitFor(t, "refused", func() bool { return stateOf(st, "refused") == StateFailed })
	if r := record(t, st, "refused"); r.Tries != 1 || len(g.requests()) != before+1 {
		t.Errorf("a permanent refusal was retried: %+v", r)
	}
}

// TestOutboxCodeNeverListedWhileQueued: the admins' list shows a queued
// sign-in code's masked phone, never the code.
func TestOutboxCodeNeverListedWhileQueued(t *testing.T) {
	st := storetest.New(t)
	_, s := newGateway(t, func(int) int { return 0 })
	o := NewOutbox(st, s, storetest.Logger(), fast())
	if _, err := o.Post(context.Background(), otpMessage(t, "q", "13912345678", "987654")); err != nil {
		t.Fatal(err)
	}
	sum, _ := o.List(context.Background(), StateQueued)
	b, _ := json.Marshal(sum)
	if len(sum.Items) != 1 || strings.Contains(string(b), "987654") || !strings.Contains(string(b), "139****5678") {
		t.Errorf("list = %s", b)
	}
}

// TestOutboxExpired: a sign-in code whose code expired before the
// provider came back is given up, not sent.
func TestOutboxExpired(t *testing.T) {
	st := storetest.New(t)
	g, s := newGateway(t, func(int) int { return 0 })
	o := NewOutbox(st, s, storetest.Logger(), fast())
	m := otpMessage(t, "old", "13912345678", "222222")
	m.Expires = time.Now().Add(-time.Second)
	_, _ = o.Post(context.Background(), m)
	stop := run(t, o)
	defer stop()
	waitFor(t, "expired", func() bool { return stateOf(st, "old") == StateFailed })
	if len(g.requests()) != 0 || !strings.Contains(record(t, st, "old").LastError, "过期") {
		t.Errorf("expired code sent or not said: %+v", record(t, st, "old"))
	}
}

// TestOutboxKillMidSend: the worker stops after the provider accepted a
// message and before it was marked sent (a kill). The record stays
// "sending"; once its lease runs out the next worker sends it again —
// at-least-once to the provider, the duplicate window being that lease —
// and a worker started after it was marked sent never sends it again.
func TestOutboxKillMidSend(t *testing.T) {
	st := storetest.New(t)
	g, s := newGateway(t, func(int) int { return 0 })
	ctx := context.Background()
	first := NewOutbox(st, s, storetest.Logger(), fast())
	first.afterSend = func(Record) bool { return false } // killed here
	for i := range 3 {                                   // other messages already waiting
		_, _ = first.Post(ctx, otpMessage(t, fmt.Sprintf("other%d", i), "13800000001", "000000"))
	}
	if _, err := first.Post(ctx, otpMessage(t, "k", "13912345678", "333333")); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); first.Run(ctx) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the killed worker did not stop")
	}
	killed := ""
	for _, id := range []string{"k", "other0", "other1", "other2"} {
		if stateOf(st, id) == StateSending {
			killed = id
		}
	}
	if killed == "" || g.count(killed) != 1 {
		t.Fatalf("after the kill: states k=%s, accepted %v", stateOf(st, "k"), g.accepted)
	}

	second := NewOutbox(st, s, storetest.Logger(), fast())
	stop := run(t, second)
	waitFor(t, "all sent", func() bool {
		sum, _ := second.List(ctx, "")
		return sum.Counts[StateSent] == 4
	})
	stop()
	if g.count(killed) != 2 {
		t.Errorf("the message cut off mid-send reached the provider %d times, want 2 (at-least-once)", g.count(killed))
	}
	total := len(g.requests())

	third := NewOutbox(st, s, storetest.Logger(), fast())
	stop = run(t, third)
	time.Sleep(400 * time.Millisecond) // past a lease
	stop()
	if len(g.requests()) != total {
		t.Errorf("a restarted worker resent messages marked sent: %d requests, had %d", len(g.requests()), total)
	}
}

// TestOutboxSameEventAtOnce: the same cause posted by several requests at
// once is one record and one message, round after round, with other
// messages in the outbox.
func TestOutboxSameEventAtOnce(t *testing.T) {
	st := storetest.New(t)
	g, s := newGateway(t, func(int) int { return 0 })
	o := NewOutbox(st, s, storetest.Logger(), fast())
	stop := run(t, o)
	defer stop()
	ctx := context.Background()
	for round := range 5 {
		_, _ = o.Post(ctx, otpMessage(t, fmt.Sprintf("bystander%d", round), "13800000001", "000000"))
		id := fmt.Sprintf("case-%d:accept:2", round)
		var wg sync.WaitGroup
		var won atomic.Int32
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m, _ := New(id, KindAccepted, "13912345678", map[string]string{"number": "XC2026-000001", "link": "l"})
				ok, err := o.Post(ctx, m)
				if err != nil {
					t.Error(err)
				}
				if ok {
					won.Add(1)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("round %d: %d posts recorded it", round, won.Load())
		}
		waitFor(t, "sent", func() bool { return stateOf(st, id) == StateSent })
	}
	time.Sleep(50 * time.Millisecond)
	for round := range 5 {
		if c := g.count(fmt.Sprintf("case-%d:accept:2", round)); c != 1 {
			t.Errorf("round %d: sent %d times", round, c)
		}
	}
}
