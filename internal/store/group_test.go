package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"minsheng/internal/store"
)

// TestGroup: items arriving while a batch is written go together in the
// next one, each answered with its own outcome; an item whose client left
// before its batch is not written; a lone item is written alone.
func TestGroup(t *testing.T) {
	var mu sync.Mutex
	var batches [][]int
	hold := make(chan struct{})
	g := &store.Group[int]{
		One: func(_ context.Context, i int) error {
			mu.Lock()
			defer mu.Unlock()
			batches = append(batches, []int{i})
			return nil
		},
		Many: func(ctx context.Context, items []int) []error {
			if ctx.Err() != nil {
				t.Errorf("a batch was written with a cancelled context")
			}
			mu.Lock()
			defer mu.Unlock()
			batches = append(batches, slices.Clone(items))
			errs := make([]error, len(items))
			for k, i := range items {
				if i%5 == 0 {
					errs[k] = fmt.Errorf("item %d refused", i)
				}
			}
			return errs
		},
	}
	for round := range 3 {
		batches = nil
		first := true
		leading := make(chan struct{})
		g.BeforeWrite = func(int) {
			if first {
				first = false
				close(leading)
				<-hold
			}
		}
		errs := make([]error, 16)
		var wg sync.WaitGroup
		wg.Go(func() { errs[0] = g.Do(context.Background(), 0) })
		<-leading
		gone, leave := context.WithCancel(context.Background())
		for i := 1; i < 16; i++ {
			ctx := context.Background()
			if i == 7 {
				ctx = gone
			}
			wg.Go(func() { errs[i] = g.Do(ctx, i) })
		}
		for g.Queued() != 15 {
			time.Sleep(time.Millisecond)
		}
		leave()
		close(hold)
		wg.Wait()
		hold = make(chan struct{})
		t.Run(fmt.Sprintf("round %d", round+1), func(t *testing.T) {
			if len(batches) != 2 || len(batches[0]) != 1 || len(batches[1]) != 14 {
				t.Fatalf("batches = %v, want [0] alone, then the 14 still waiting together", batches)
			}
			if slices.Contains(batches[1], 7) {
				t.Errorf("item 7, whose client left, was written: %v", batches[1])
			}
			for i, err := range errs {
				switch {
				case i == 7:
					if !errors.Is(err, context.Canceled) {
						t.Errorf("item 7: %v, want context.Canceled", err)
					}
				case i%5 == 0 && i != 0:
					if err == nil || err.Error() != fmt.Sprintf("item %d refused", i) {
						t.Errorf("item %d: %v, want its own refusal", i, err)
					}
				case err != nil:
					t.Errorf("item %d: %v, want nil", i, err)
				}
			}
		})
	}
}
