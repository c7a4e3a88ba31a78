package idem_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"minsheng"
	"minsheng/internal/idem"
	"minsheng/internal/store/storetest"
)

// TestDo is the claim-then-store of both APIs: the cadre app's outbox
// (every action under a key, PUT /cases/{client_uuid}) and the web's
// Idempotency-Key, which reach it through Do.
func TestDo(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	st := storetest.New(t)
	if err := st.EnsureIndexes(ctx, idem.Indexes); err != nil {
		t.Fatal(err)
	}
	s := idem.New(st, idem.Config{TTL: idem.OutboxTTL, Wait: idem.OutboxWait, Now: clk.now})
	const route = "PUT /mobile/v1/cases"
	// Records of other keys are already there, as in a store in use.
	for _, k := range []string{"other-1", "other-2"} {
		if _, err := s.Do(ctx, idem.ID("u1", route, k), route, "h", func() (idem.Answer, error) {
			return idem.Answer{Status: 201, Body: []byte(`{}`)}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	ok := func(n *atomic.Int32) func() (idem.Answer, error) {
		return func() (idem.Answer, error) {
			n.Add(1)
			time.Sleep(20 * time.Millisecond)
			return idem.Answer{Status: 201, Body: []byte(`{"id":"c1"}`)}, nil
		}
	}
	for round, key := range []string{"k1", "k1b", "k1c"} {
		t.Run("simultaneous copies run once and share the answer, round "+string(rune('1'+round)), func(t *testing.T) {
			var runs, replayed atomic.Int32
			var wg sync.WaitGroup
			for range 12 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ans, err := s.Do(ctx, key, route, "h1", ok(&runs))
					if err != nil || ans.Status != 201 || string(ans.Body) != `{"id":"c1"}` {
						t.Errorf("answer %+v, %v", ans, err)
					}
					if ans.Replayed {
						replayed.Add(1)
					}
				}()
			}
			wg.Wait()
			if runs.Load() != 1 || replayed.Load() != 11 {
				t.Errorf("ran %d times, %d replayed; want 1 and 11", runs.Load(), replayed.Load())
			}
		})
	}
	t.Run("another body is EUNPROCESSABLE", func(t *testing.T) {
		var runs atomic.Int32
		_, err := s.Do(ctx, "k1", route, "h2", ok(&runs))
		if minsheng.ErrorCode(err) != minsheng.EUNPROCESSABLE || !errors.Is(err, idem.ErrMismatch) || runs.Load() != 0 {
			t.Errorf("err %v, ran %d; want unprocessable (ErrMismatch) and no run", err, runs.Load())
		}
	})
	t.Run("a refusal is replayed, an internal error releases the key", func(t *testing.T) {
		refused := func() (idem.Answer, error) {
			return idem.Answer{}, minsheng.Errorf(minsheng.ECONFLICT, "数据已被他人修改")
		}
		if _, err := s.Do(ctx, "k2", route, "h", refused); minsheng.ErrorCode(err) != minsheng.ECONFLICT {
			t.Fatalf("first: %v", err)
		}
		var runs atomic.Int32
		if _, err := s.Do(ctx, "k2", route, "h", ok(&runs)); minsheng.ErrorCode(err) != minsheng.ECONFLICT || runs.Load() != 0 {
			t.Errorf("replay of a refusal: %v, ran %d; want the conflict again without a run", err, runs.Load())
		}
		broken := func() (idem.Answer, error) { return idem.Answer{}, errors.New("disk full") }
		if _, err := s.Do(ctx, "k3", route, "h", broken); err == nil {
			t.Fatal("want the internal error")
		}
		if ans, err := s.Do(ctx, "k3", route, "h", ok(&runs)); err != nil || ans.Replayed || runs.Load() != 1 {
			t.Errorf("after an internal error: %+v %v ran %d; want a fresh run", ans, err, runs.Load())
		}
	})
	t.Run("a transient answer is sent but not kept", func(t *testing.T) {
		var runs atomic.Int32
		busy := func() (idem.Answer, error) {
			runs.Add(1)
			return idem.Answer{Status: 503, Body: []byte(`{}`), Transient: true}, nil
		}
		for range 2 {
			if ans, err := s.Do(ctx, "k5", route, "h", busy); err != nil || ans.Status != 503 || ans.Replayed {
				t.Errorf("transient: %+v %v; want the 503, not replayed", ans, err)
			}
		}
		if runs.Load() != 2 {
			t.Errorf("ran %d times, want 2 (a transient answer releases the key)", runs.Load())
		}
	})
	t.Run("a panic releases the key", func(t *testing.T) {
		func() {
			defer func() { _ = recover() }()
			_, _ = s.Do(ctx, "k6", route, "h", func() (idem.Answer, error) { panic("boom") })
		}()
		var runs atomic.Int32
		if ans, err := s.Do(ctx, "k6", route, "h", ok(&runs)); err != nil || ans.Replayed || runs.Load() != 1 {
			t.Errorf("after a panic: %+v %v ran %d; want a fresh run", ans, err, runs.Load())
		}
	})
	t.Run("a claim whose process died is taken over after the lease", func(t *testing.T) {
		started := make(chan struct{})
		hang := func() (idem.Answer, error) { close(started); select {} }
		go func() { _, _ = s.Do(ctx, "k4", route, "h", hang) }()
		<-started
		var runs atomic.Int32
		clk.add(idem.DefaultLease + time.Second)
		if ans, err := s.Do(ctx, "k4", route, "h", ok(&runs)); err != nil || runs.Load() != 1 || ans.Replayed {
			t.Errorf("takeover: %+v %v ran %d; want one fresh run", ans, err, runs.Load())
		}
	})
	t.Run("a copy gives up after Wait while the first still runs", func(t *testing.T) {
		short := idem.New(st, idem.Config{Wait: 200 * time.Millisecond, Now: clk.now})
		started, release := make(chan struct{}), make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = short.Do(ctx, "k7", route, "h", func() (idem.Answer, error) {
				close(started)
				<-release
				return idem.Answer{Status: 200}, nil
			})
		}()
		<-started
		var runs atomic.Int32
		_, err := short.Do(ctx, "k7", route, "h", ok(&runs))
		close(release)
		<-done
		if minsheng.ErrorCode(err) != minsheng.ECONFLICT || runs.Load() != 0 {
			t.Errorf("copy while running: %v ran %d; want ECONFLICT and no run", err, runs.Load())
		}
	})
	t.Run("an expired answer is forgotten", func(t *testing.T) {
		var runs atomic.Int32
		clk.add(idem.OutboxTTL + time.Hour)
		if ans, err := s.Do(ctx, "k1", route, "h2", ok(&runs)); err != nil || runs.Load() != 1 || ans.Replayed {
			t.Errorf("after TTL: %+v %v ran %d; want a fresh run under the old key", ans, err, runs.Load())
		}
	})
}

// TestHash: the parts are length-prefixed, so a boundary cannot move.
func TestHash(t *testing.T) {
	if idem.Hash([]byte("ab"), []byte("c")) == idem.Hash([]byte("a"), []byte("bc")) {
		t.Error("Hash(ab, c) == Hash(a, bc)")
	}
	if got, want := idem.Hash([]byte("x")), idem.Hash([]byte("x")); got != want {
		t.Errorf("Hash not stable: %s, %s", got, want)
	}
}

// TestDoAfterTakeover: the first copy, presumed dead after the lease,
// finishes after all; whichever of it and the copy that took over stores
// first, every later copy gets the taking-over copy's answer.
func TestDoAfterTakeover(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	st := storetest.New(t)
	if err := st.EnsureIndexes(ctx, idem.Indexes); err != nil {
		t.Fatal(err)
	}
	s := idem.New(st, idem.Config{Now: clk.now})
	const route = "POST /api/v1/cases"
	for _, lateFirst := range []bool{false, true} {
		name := "the late first copy stores after the takeover"
		if lateFirst {
			name = "the late first copy stores before the takeover"
		}
		t.Run(name, func(t *testing.T) {
			key := fmt.Sprintf("takeover-%t", lateFirst)
			started, release, firstDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
			go func() {
				defer close(firstDone)
				_, _ = s.Do(ctx, key, route, "h", func() (idem.Answer, error) {
					close(started)
					<-release
					return idem.Answer{Status: 201, Body: []byte(`"first"`)}, nil
				})
			}()
			<-started
			clk.add(idem.DefaultLease + time.Second)
			takeover := func() (idem.Answer, error) {
				if lateFirst {
					close(release)
					<-firstDone
				}
				return idem.Answer{Status: 201, Body: []byte(`"second"`)}, nil
			}
			if ans, err := s.Do(ctx, key, route, "h", takeover); err != nil || string(ans.Body) != `"second"` {
				t.Fatalf("takeover: %+v %v", ans, err)
			}
			if !lateFirst {
				close(release)
				<-firstDone
			}
			ans, err := s.Do(ctx, key, route, "h", func() (idem.Answer, error) { t.Error("ran a third time"); return idem.Answer{}, nil })
			if err != nil || !ans.Replayed || string(ans.Body) != `"second"` {
				t.Errorf("replay = %+v %v; want the taking-over copy's answer", ans, err)
			}
		})
	}
}

// TestDoFormerly: a record stored under a route's former hash answers the
// same request sent with the new hash (Request.Formerly); a request with
// another content is still 422.
func TestDoFormerly(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	if err := st.EnsureIndexes(ctx, idem.Indexes); err != nil {
		t.Fatal(err)
	}
	s := idem.New(st, idem.Config{})
	const route = "POST /mobile/v1/cases/actions"
	id := idem.ID("u1", route, "key-formerly")
	if _, err := s.Do(ctx, id, route, "old", func() (idem.Answer, error) {
		return idem.Answer{Status: 200, Body: []byte(`"first"`)}, nil
	}); err != nil {
		t.Fatal(err)
	}
	ran := func() (idem.Answer, error) { t.Error("ran again"); return idem.Answer{}, nil }
	ans, err := s.DoRequest(ctx, idem.Request{ID: id, Route: route, Hash: "new", Formerly: "old"}, ran)
	if err != nil || !ans.Replayed || string(ans.Body) != `"first"` {
		t.Errorf("same request, new hash: %+v %v; want the stored answer", ans, err)
	}
	_, err = s.DoRequest(ctx, idem.Request{ID: id, Route: route, Hash: "other", Formerly: "other-old"}, ran)
	if !errors.Is(err, idem.ErrMismatch) || minsheng.ErrorCode(err) != minsheng.EUNPROCESSABLE {
		t.Errorf("another request: %v; want 422 wrapping ErrMismatch", err)
	}
}
