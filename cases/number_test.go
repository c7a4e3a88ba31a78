package cases_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/cases"
	"minsheng/internal/org"
	"minsheng/internal/store/storetest"
)

// TestCaseNumbersFromBlocks: filings draw their numbers from blocks
// reserved with one counter increment; simultaneous filings, and a second
// process (a restart, or another instance) on the same store, never get
// the same number, and the counter is not written per filing (only per
// block, one spare block ahead).
func TestCaseNumbersFromBlocks(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	if err := st.EnsureIndexes(ctx, cases.Indexes); err != nil {
		t.Fatal(err)
	}
	cfg := cases.Config{Logger: storetest.Logger()}
	first := cases.NewService(st, org.Xicheng(), nil, cfg)
	var mu sync.Mutex
	seen := map[string]bool{}
	file := func(t *testing.T, svc *cases.Service, n int) {
		t.Helper()
		var wg sync.WaitGroup
		got := make(chan string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := input()
				in.Title = fmt.Sprintf("楼道灯不亮 %d", i)
				c, _, err := svc.Submit(ctx, cadre, in)
				if err != nil {
					t.Errorf("submit: %v", err)
					return
				}
				got <- c.Number
			}()
		}
		wg.Wait()
		close(got)
		mu.Lock()
		defer mu.Unlock()
		for num := range got {
			if seen[num] {
				t.Errorf("number %s given twice", num)
			}
			seen[num] = true
		}
	}
	for round := range 3 {
		t.Run(fmt.Sprintf("round %d: 30 simultaneous filings", round), func(t *testing.T) { file(t, first, 30) })
	}
	t.Run("the counter moved by whole blocks, not per filing", func(t *testing.T) {
		var counters []struct {
			Value int64 `bson:"value"`
		}
		if err := st.Collection("counters").FindAll(ctx, bson.M{}, &counters); err != nil {
			t.Fatal(err)
		}
		if len(counters) != 1 {
			t.Fatalf("got %d counters, want 1", len(counters))
		}
		// 90 filings: two blocks in use, and the spare reserved ahead (or
		// on its way).
		block := int64(cases.NumberBlock)
		if got := counters[0].Value; got%block != 0 || got < 2*block || got > 3*block {
			t.Errorf("counter = %d after 90 filings, want %d or %d (two blocks of %d, and one spare)", got, 2*block, 3*block, block)
		}
	})
	t.Run("another process on the store files alongside", func(t *testing.T) {
		second := cases.NewService(st, org.Xicheng(), nil, cfg)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); file(t, first, 8) }()
		go func() { defer wg.Done(); file(t, second, 8) }()
		wg.Wait()
	})
	if got, want := len(seen), 106; got != want {
		t.Errorf("got %d distinct numbers, want %d", got, want)
	}
}
