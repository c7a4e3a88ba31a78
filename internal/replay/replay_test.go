package replay_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"minsheng"
	"minsheng/internal/replay"
	"minsheng/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestDo(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	s := replay.New(storetest.New(t), clk.now)
	ok := func(n *atomic.Int32) func() (replay.Answer, error) {
		return func() (replay.Answer, error) {
			n.Add(1)
			time.Sleep(20 * time.Millisecond)
			return replay.Answer{Status: 201, Body: []byte(`{"id":"c1"}`)}, nil
		}
	}
	t.Run("simultaneous copies run once and share the answer", func(t *testing.T) {
		var runs atomic.Int32
		var wg sync.WaitGroup
		replayed := atomic.Int32{}
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ans, err := s.Do(ctx, "k1", "h1", ok(&runs))
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
	t.Run("another body is EUNPROCESSABLE", func(t *testing.T) {
		var runs atomic.Int32
		_, err := s.Do(ctx, "k1", "h2", ok(&runs))
		if minsheng.ErrorCode(err) != minsheng.EUNPROCESSABLE || runs.Load() != 0 {
			t.Errorf("err %v, ran %d; want unprocessable and no run", err, runs.Load())
		}
	})
	t.Run("a refusal is replayed, an internal error releases the key", func(t *testing.T) {
		refused := func() (replay.Answer, error) {
			return replay.Answer{}, minsheng.Errorf(minsheng.ECONFLICT, "数据已被他人修改")
		}
		if _, err := s.Do(ctx, "k2", "h", refused); minsheng.ErrorCode(err) != minsheng.ECONFLICT {
			t.Fatalf("first: %v", err)
		}
		var runs atomic.Int32
		if _, err := s.Do(ctx, "k2", "h", ok(&runs)); minsheng.ErrorCode(err) != minsheng.ECONFLICT || runs.Load() != 0 {
			t.Errorf("replay of a refusal: %v, ran %d; want the conflict again without a run", err, runs.Load())
		}
		broken := func() (replay.Answer, error) { return replay.Answer{}, errors.New("disk full") }
		if _, err := s.Do(ctx, "k3", "h", broken); err == nil {
			t.Fatal("want the internal error")
		}
		if ans, err := s.Do(ctx, "k3", "h", ok(&runs)); err != nil || ans.Replayed || runs.Load() != 1 {
			t.Errorf("after an internal error: %+v %v ran %d; want a fresh run", ans, err, runs.Load())
		}
	})
	t.Run("a claim whose process died is taken over after the lease", func(t *testing.T) {
		started := make(chan struct{})
		hang := func() (replay.Answer, error) { close(started); select {} }
		go func() { _, _ = s.Do(ctx, "k4", "h", hang) }()
		<-started
		var runs atomic.Int32
		clk.advance(replay.Lease + time.Second)
		if ans, err := s.Do(ctx, "k4", "h", ok(&runs)); err != nil || runs.Load() != 1 || ans.Replayed {
			t.Errorf("takeover: %+v %v ran %d; want one fresh run", ans, err, runs.Load())
		}
	})
	t.Run("an expired answer is forgotten", func(t *testing.T) {
		var runs atomic.Int32
		clk.advance(replay.TTL + time.Hour)
		if ans, err := s.Do(ctx, "k1", "h2", ok(&runs)); err != nil || runs.Load() != 1 || ans.Replayed {
			t.Errorf("after TTL: %+v %v ran %d; want a fresh run under the old key", ans, err, runs.Load())
		}
	})
}
