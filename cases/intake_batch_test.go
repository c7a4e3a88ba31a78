package cases_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/org"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

// batchHold records the size of every batch the group commit writes and,
// when armed, makes the next batch's leader wait until want filings are
// queued behind it, so that they are written together.
type batchHold struct {
	mu    sync.Mutex
	sizes []int
	armed bool
}

func holdBatches(t *testing.T, svc *cases.Service, want int) *batchHold {
	t.Helper()
	h := &batchHold{}
	cases.SetIntakeHold(svc, func(n int) {
		h.mu.Lock()
		h.sizes = append(h.sizes, n)
		armed := h.armed
		h.armed = false
		h.mu.Unlock()
		if !armed {
			return
		}
		for deadline := time.Now().Add(30 * time.Second); cases.IntakeQueued(svc) < want && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	})
	t.Cleanup(func() { cases.SetIntakeHold(svc, nil) })
	return h
}

// arm makes the next batch wait for the others and forgets the sizes seen.
func (h *batchHold) arm() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed, h.sizes = true, nil
}

func (h *batchHold) largest() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Max(append([]int{0}, h.sizes...))
}

// intakeEnv is a service on a store that already holds cases in
// community A (five filed before the test) and their summaries.
func intakeEnv(t *testing.T) (*cases.Service, *store.Store) {
	t.Helper()
	ctx := context.Background()
	st := storetest.New(t)
	if err := st.EnsureIndexes(ctx, cases.Indexes); err != nil {
		t.Fatal(err)
	}
	svc := cases.NewService(st, org.Xicheng(), nil, cases.Config{Logger: storetest.Logger()})
	for i := range 5 {
		in := input()
		in.Title = fmt.Sprintf("已有诉求 %d", i)
		if _, _, err := svc.Submit(ctx, resident, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.FlushSummaries(ctx); err != nil {
		t.Fatal(err)
	}
	return svc, st
}

// wantOneSummaryPerCase checks that cases and summaries are the same set
// of ids, n of each, once the summaries waiting to be written are (as any
// read of them does first).
func wantOneSummaryPerCase(t *testing.T, svc *cases.Service, st *store.Store, n int) {
	t.Helper()
	ctx := context.Background()
	if err := svc.FlushSummaries(ctx); err != nil {
		t.Fatal(err)
	}
	cs, sums := storedIDs(t, st, "cases"), storedIDs(t, st, "case_summaries")
	if len(cs) != n || !slices.Equal(cs, sums) {
		t.Errorf("got %d cases and %d summaries (same ids: %v), want %d of each with the same ids", len(cs), len(sums), slices.Equal(cs, sums), n)
	}
}

// TestIntakeGroupCommit: simultaneous filings are written together (one
// summary insert and one case insert per batch), and each gets its own
// outcome: distinct numbers, one case and one summary each, the copies of
// one Idempotency-Key one case, a duplicate inside a batch failing only
// its own filing.
func TestIntakeGroupCommit(t *testing.T) {
	ctx := context.Background()
	svc, st := intakeEnv(t)
	h := holdBatches(t, svc, 15)
	total := 5

	for round := range 3 {
		t.Run(fmt.Sprintf("round %d: 16 simultaneous filings", round), func(t *testing.T) {
			h.arm()
			var wg sync.WaitGroup
			numbers := make(chan string, 16)
			for i := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					in := input()
					in.Title = fmt.Sprintf("第%d轮诉求 %d", round, i)
					c, _, err := svc.Submit(ctx, resident, in)
					if err != nil {
						t.Errorf("submit %d: %v", i, err)
						return
					}
					numbers <- c.Number
				}()
			}
			wg.Wait()
			close(numbers)
			seen := map[string]bool{}
			for n := range numbers {
				if seen[n] {
					t.Errorf("number %s given twice", n)
				}
				seen[n] = true
			}
			if len(seen) != 16 {
				t.Errorf("got %d distinct numbers, want 16", len(seen))
			}
			if got := h.largest(); got < 2 {
				t.Errorf("largest batch %d filings, want the queued filings written together", got)
			}
			total += 16
			wantOneSummaryPerCase(t, svc, st, total)
		})
	}

	for round, who := range []auth.Principal{resident, {}} {
		t.Run(fmt.Sprintf("round %d: one key 12 times among 4 other filings (%s)", round, who.Role), func(t *testing.T) {
			h.arm()
			type got struct{ id, number, token string }
			var wg sync.WaitGroup
			keyed := make(chan got, 12)
			for i := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					in := input()
					if i < 12 {
						in.IdempotencyKey = fmt.Sprintf("batch-key-%d", round)
					} else {
						in.Title = fmt.Sprintf("其他诉求 %d-%d", round, i)
					}
					c, token, err := svc.Submit(ctx, who, in)
					if err != nil {
						t.Errorf("submit %d: %v", i, err)
						return
					}
					if i < 12 {
						keyed <- got{c.ID, c.Number, token}
					}
				}()
			}
			wg.Wait()
			close(keyed)
			var first *got
			for a := range keyed {
				if first == nil {
					first = &a
				} else if a != *first {
					t.Errorf("copy answered %+v, want %+v", a, *first)
				}
			}
			if first != nil && (who.Role == "") != (first.token != "") {
				t.Errorf("token %q for role %q: want one exactly for an anonymous filer", first.token, who.Role)
			}
			if got := h.largest(); got < 2 {
				t.Errorf("largest batch %d filings, want the queued filings written together", got)
			}
			total += 5
			wantOneSummaryPerCase(t, svc, st, total)
		})
	}

	// fresh returns a new case in community A numbered number.
	fresh := func(number string) *cases.Case {
		now := time.Now()
		return &cases.Case{ID: uuid.NewString(), Number: number, Area: cases.AreaUrban, Title: "批量写入",
			Location: cases.Location{SubDistrict: subA, Community: commA, Address: "1号"},
			Status:   cases.StatusSubmitted, FiledAt: now, DueAt: now.Add(time.Hour), Version: 1,
			Cosigners: []string{}, Photos: []cases.Photo{}}
	}
	var taken string
	{
		var c cases.Case
		if err := st.Collection("cases").FindOne(ctx, bson.M{}, &c); err != nil {
			t.Fatal(err)
		}
		taken = c.Number
	}
	for round := range 2 {
		t.Run(fmt.Sprintf("round %d: a duplicate number fails only its own filing", round), func(t *testing.T) {
			h.arm()
			var wg sync.WaitGroup
			errs := make([]error, 16)
			for i := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					number := fmt.Sprintf("BATCH%d-%06d", round, i)
					if i == 7 {
						number = taken
					}
					errs[i] = cases.IntakeInsert(ctx, svc, fresh(number))
				}()
			}
			wg.Wait()
			for i, err := range errs {
				switch {
				case i == 7 && !errors.Is(err, minsheng.ErrDuplicate):
					t.Errorf("filing with a number taken: got %v, want a duplicate", err)
				case i != 7 && err != nil:
					t.Errorf("filing %d: got %v, want it filed", i, err)
				}
			}
			if got := h.largest(); got < 2 {
				t.Errorf("largest batch %d filings, want the queued filings written together", got)
			}
			total += 15
			wantOneSummaryPerCase(t, svc, st, total)
		})
	}

	t.Run("a batch whose every case insert fails leaves no summary", func(t *testing.T) {
		h.arm()
		var wg sync.WaitGroup
		var failed sync.Map
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Every one reuses the number of a stored case.
				number := fmt.Sprintf("BATCH0-%06d", i)
				if i == 7 {
					number = "BATCH1-000000"
				}
				if err := cases.IntakeInsert(ctx, svc, fresh(number)); !errors.Is(err, minsheng.ErrDuplicate) {
					failed.Store(i, err)
				}
			}()
		}
		wg.Wait()
		failed.Range(func(k, v any) bool {
			t.Errorf("filing %v: got %v, want a duplicate", k, v)
			return true
		})
		wantOneSummaryPerCase(t, svc, st, total)
	})
}
