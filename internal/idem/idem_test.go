package idem_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"minsheng/internal/idem"
	"minsheng/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// clock is a settable time for expiry and lease tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newStore(t *testing.T) (*idem.Store, *clock) {
	t.Helper()
	st := storetest.New(t)
	if err := st.EnsureIndexes(context.Background(), idem.Indexes); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	return idem.New(st, idem.Config{TTL: time.Hour, Lease: time.Minute, Now: clk.now}), clk
}

func TestRecordLifecycle(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	id := idem.ID("user:u1", "POST /api/v1/cases", "key-0001")

	t.Run("ids are bound to caller, route and key", func(t *testing.T) {
		others := []string{
			idem.ID("user:u2", "POST /api/v1/cases", "key-0001"),
			idem.ID("user:u1", "POST /api/v1/cases/x/cancel", "key-0001"),
			idem.ID("user:u1", "POST /api/v1/cases", "key-0002"),
		}
		for _, o := range others {
			if o == id {
				t.Errorf("id %s shared", o)
			}
		}
	})
	t.Run("first claim owns, second sees pending", func(t *testing.T) {
		if prev, err := s.Begin(ctx, id, "POST /api/v1/cases", "h1"); err != nil || prev != nil {
			t.Fatalf("first Begin = %+v, %v; want owner", prev, err)
		}
		prev, err := s.Begin(ctx, id, "POST /api/v1/cases", "h1")
		if err != nil || prev == nil || prev.State != idem.StatePending {
			t.Fatalf("second Begin = %+v, %v; want pending record", prev, err)
		}
		if _, err := s.Begin(ctx, id, "POST /api/v1/cases", "h2"); !errors.Is(err, idem.ErrMismatch) {
			t.Errorf("other body: err %v, want ErrMismatch", err)
		}
	})
	t.Run("wait gives up while pending", func(t *testing.T) {
		got, err := s.Wait(ctx, id, 100*time.Millisecond)
		if err != nil || got == nil || got.State != idem.StatePending {
			t.Errorf("Wait = %+v, %v; want still pending", got, err)
		}
	})
	t.Run("wait returns the finished answer", func(t *testing.T) {
		go func() {
			time.Sleep(50 * time.Millisecond)
			_ = s.Finish(context.Background(), id, 201, "application/json", []byte(`{"id":"c1"}`))
		}()
		got, err := s.Wait(ctx, id, 5*time.Second)
		if err != nil || got == nil || got.State != idem.StateDone || got.Status != 201 || string(got.Body) != `{"id":"c1"}` {
			t.Fatalf("Wait = %+v, %v; want done 201", got, err)
		}
	})
	t.Run("expired record is claimed afresh", func(t *testing.T) {
		clk.add(2 * time.Hour)
		if prev, err := s.Begin(ctx, id, "POST /api/v1/cases", "h2"); err != nil || prev != nil {
			t.Errorf("Begin after expiry = %+v, %v; want owner", prev, err)
		}
	})
	t.Run("released record is claimed afresh", func(t *testing.T) {
		if err := s.Release(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Wait(ctx, id, time.Second); err != nil || got != nil {
			t.Errorf("Wait on released = %+v, %v; want nil", got, err)
		}
		if prev, err := s.Begin(ctx, id, "POST /api/v1/cases", "h3"); err != nil || prev != nil {
			t.Errorf("Begin after release = %+v, %v; want owner", prev, err)
		}
	})
	t.Run("a pending record past its lease is taken over once", func(t *testing.T) {
		clk.add(2 * time.Minute)
		var owners atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				prev, err := s.Begin(ctx, id, "POST /api/v1/cases", "h3")
				if err != nil {
					t.Error(err)
				}
				if prev == nil && err == nil {
					owners.Add(1)
				}
			}()
		}
		wg.Wait()
		if got := owners.Load(); got != 1 {
			t.Errorf("%d owners after the lease, want 1", got)
		}
	})
	t.Run("release pending and purge", func(t *testing.T) {
		other := idem.ID("user:u1", "POST /api/v1/cases", "key-0003")
		if _, err := s.Begin(ctx, other, "POST /api/v1/cases", "h"); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, other, 200, "", nil); err != nil {
			t.Fatal(err)
		}
		n, err := s.ReleasePending(ctx, clk.now().Add(time.Second))
		if err != nil || n != 1 {
			t.Errorf("ReleasePending = %d, %v; want 1 (the pending one, not the done one)", n, err)
		}
		clk.add(2 * time.Hour)
		if n, err := s.Purge(ctx); err != nil || n != 2 {
			t.Errorf("Purge = %d, %v; want 2 (the done record's claim and its answer)", n, err)
		}
	})
}

// TestConcurrentClaims: 16 identical claims at once, over rounds, with
// other records present: exactly one owner each round.
func TestConcurrentClaims(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	for _, k := range []string{"existing-1", "existing-2"} {
		if _, err := s.Begin(ctx, idem.ID("user:u1", "POST /x", k), "POST /x", "h"); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 5 {
		id := idem.ID("user:u1", "POST /x", "round-key-"+string(rune('a'+round)))
		var owners, pending atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				prev, err := s.Begin(ctx, id, "POST /x", "h")
				switch {
				case err != nil:
					t.Error(err)
				case prev == nil:
					owners.Add(1)
				case prev.State == idem.StatePending:
					pending.Add(1)
				}
			}()
		}
		wg.Wait()
		if owners.Load() != 1 || pending.Load() != 15 {
			t.Errorf("round %d: %d owners, %d saw pending; want 1 and 15", round, owners.Load(), pending.Load())
		}
	}
}
