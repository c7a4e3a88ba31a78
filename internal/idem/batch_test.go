package idem_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"minsheng/internal/idem"
	"minsheng/internal/store/storetest"
)

// TestDoGroupInserts: the claims of simultaneous requests are written
// together (one insert command for all), and each request still gets its
// own outcome: every distinct key runs once, the copies of one key run it
// once and replay its answer, over rounds on a store holding records.
func TestDoGroupInserts(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	if err := st.EnsureIndexes(ctx, idem.Indexes); err != nil {
		t.Fatal(err)
	}
	s := idem.New(st, idem.Config{})
	const route = "POST /api/v1/cases"
	for i := range 3 {
		if _, err := s.Do(ctx, idem.ID("u0", route, fmt.Sprint(i)), route, "h", func() (idem.Answer, error) {
			return idem.Answer{Status: 201, Body: []byte(`{}`)}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var sizes []int
	armed := false
	idem.SetInsertHold(s, func(n int) {
		mu.Lock()
		sizes = append(sizes, n)
		wait := armed
		armed = false
		mu.Unlock()
		// The first batch of a round waits until the other claims queue.
		for deadline := time.Now().Add(30 * time.Second); wait && idem.InsertsQueued(s) < 27 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	})
	for round := range 3 {
		t.Run(fmt.Sprintf("round %d: 16 keys and one key 12 times at once", round), func(t *testing.T) {
			mu.Lock()
			armed, sizes = true, nil
			mu.Unlock()
			var runs [17]atomic.Int32
			var replayed atomic.Int32
			var wg sync.WaitGroup
			for i := range 28 {
				k := min(i, 16) // 16 distinct keys, then 12 copies of key 16
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := idem.ID(fmt.Sprintf("u%d", round), route, fmt.Sprintf("key-%d", k))
					body := fmt.Sprintf(`{"key":%d}`, k)
					ans, err := s.Do(ctx, id, route, "h", func() (idem.Answer, error) {
						runs[k].Add(1)
						return idem.Answer{Status: 201, Body: []byte(body)}, nil
					})
					if err != nil || ans.Status != 201 || string(ans.Body) != body {
						t.Errorf("key %d: answer %+v, %v; want 201 %s", k, ans, err, body)
					}
					if ans.Replayed {
						replayed.Add(1)
					}
				}()
			}
			wg.Wait()
			for k := range runs {
				if n := runs[k].Load(); n != 1 {
					t.Errorf("key %d ran %d times, want once", k, n)
				}
			}
			if n := replayed.Load(); n != 11 {
				t.Errorf("%d answers replayed, want 11", n)
			}
			mu.Lock()
			largest := slices.Max(append([]int{0}, sizes...))
			mu.Unlock()
			if largest < 2 {
				t.Errorf("largest insert batch %d, want the queued claims written together", largest)
			}
		})
	}
}
