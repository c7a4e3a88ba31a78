package mobileapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/google/uuid"

	"minsheng/cases"
)

// replica is what the phone holds after applying syncs.
type replica map[string]stamp

// stamp identifies one state of a case: any write bumps the version or
// adds a timeline entry.
type stamp struct {
	version  int64
	timeline int
	status   string
}

type syncPage struct {
	Items      []mcase `json:"items"`
	Tombstones []struct {
		ID     string `json:"id"`
		Reason string `json:"reason"`
	} `json:"tombstones"`
	Cursor string `json:"cursor"`
	More   bool   `json:"more"`
	Reset  bool   `json:"reset"`
}

// syncOnce applies one page to r and reports items that carried a state
// the phone already had (a change returned twice).
func (f *fixture) syncOnce(t *testing.T, who string, r replica, cursor string, limit int) (next string, more bool, repeats []string) {
	t.Helper()
	var page syncPage
	path := fmt.Sprintf("/mobile/v1/sync?limit=%d", limit)
	if cursor != "" {
		path += "&cursor=" + url.QueryEscape(cursor)
	}
	if st := f.call(t, who, "GET", path, nil, &page); st != http.StatusOK {
		t.Fatalf("sync: status %d", st)
	}
	if page.Reset {
		clear(r)
	}
	for _, it := range page.Items {
		s := stamp{it.Version, len(it.Timeline), it.Status}
		if old, ok := r[it.ID]; ok && old == s {
			repeats = append(repeats, it.Number)
		}
		r[it.ID] = s
	}
	for _, ts := range page.Tombstones {
		delete(r, ts.ID)
	}
	return page.Cursor, page.More, repeats
}

// TestSyncUnderConcurrentWrites syncs in small pages while other writers
// assess, file and merge cases of the same community, over several rounds;
// afterwards the phone holds exactly the server's cases in their final
// state, and no sync ever returned a state the phone already had.
func TestSyncUnderConcurrentWrites(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []string
	for range 6 {
		ids = append(ids, f.assigned(t, "wangfang").ID)
	}
	f.file(t, "lisi")
	f.file(t, "far") // another community: never on wangfang's phone
	cadre, staff := f.who["wangfang"], f.who["zhou"]

	r := replica{}
	cursor := ""
	for round := range 5 {
		var mu sync.Mutex
		var merged []string
		var writers sync.WaitGroup
		for w := range 4 {
			writers.Add(1)
			go func() {
				defer writers.Done()
				rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				for op := range 8 {
					switch op % 4 {
					case 0, 1, 2: // re-assess one of the assigned cases
						id := ids[rng.IntN(len(ids))]
						c, err := f.cases.FindByID(ctx, id)
						if err != nil {
							t.Error(err)
							return
						}
						_, err = f.cases.Assess(ctx, cadre, id, c.Version, cases.Assessment{EstimateFen: int64(op+1) * 100, Households: 1, Risk: 1})
						if err != nil && err.Error() == "" {
							t.Error(err)
						}
					case 3: // file a new case, and merge every other one away
						var c mcase
						f.call(t, "lisi", "PUT", "/mobile/v1/cases/"+uuid.NewString(), caseBody(), &c)
						if c.ID != "" && w%2 == 0 {
							if _, err := f.cases.Merge(ctx, staff, c.ID, c.Version, ids[0], "重复"); err != nil {
								t.Errorf("merge: %v", err)
							}
							mu.Lock()
							merged = append(merged, c.ID)
							mu.Unlock()
						}
					}
				}
			}()
		}
		done := make(chan struct{})
		go func() { writers.Wait(); close(done) }()
		syncs := 0
	loop:
		for {
			select {
			case <-done:
				break loop
			default:
			}
			var repeats []string
			cursor, _, repeats = f.syncOnce(t, "wangfang", r, cursor, 3)
			syncs++
			if len(repeats) > 0 {
				t.Errorf("round %d: states returned twice: %v", round, repeats)
			}
		}
		for more := true; more; {
			var repeats []string
			cursor, more, repeats = f.syncOnce(t, "wangfang", r, cursor, 3)
			if len(repeats) > 0 {
				t.Errorf("round %d: states returned twice: %v", round, repeats)
			}
		}
		// The phone now equals the server.
		want := replica{}
		err := f.cases.EachCase(ctx, cases.Filter{Community: commA}, func(c *cases.Case) error {
			if c.Status != cases.StatusMerged {
				want[c.ID] = stamp{c.Version, len(c.Timeline), string(c.Status)}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(r) != len(want) {
			t.Errorf("round %d: phone holds %d cases, server %d", round, len(r), len(want))
		}
		for id, s := range want {
			if r[id] != s {
				t.Errorf("round %d: case %s on phone %+v, server %+v", round, id, r[id], s)
			}
		}
		for _, id := range merged {
			if _, ok := r[id]; ok {
				t.Errorf("round %d: merged case %s still on the phone", round, id)
			}
		}
		t.Logf("round %d: %d syncs during the writes, %d cases held", round, syncs, len(r))
		// A sync with nothing changed returns nothing.
		var page syncPage
		f.call(t, "wangfang", "GET", "/mobile/v1/sync?cursor="+cursor, nil, &page)
		if len(page.Items) != 0 || len(page.Tombstones) != 0 || page.Cursor != cursor {
			t.Errorf("round %d: idle sync returned %d items, %d tombstones, cursor changed %v; want none and the same cursor", round, len(page.Items), len(page.Tombstones), page.Cursor != cursor)
		}
	}

	t.Run("a lost answer is fetched again with the previous cursor", func(t *testing.T) {
		id := ids[1]
		c, _ := f.cases.FindByID(ctx, id)
		if _, err := f.cases.Assess(ctx, cadre, id, c.Version, cases.Assessment{EstimateFen: 5, Households: 1, Risk: 1}); err != nil {
			t.Fatal(err)
		}
		var first, again syncPage
		f.call(t, "wangfang", "GET", "/mobile/v1/sync?cursor="+cursor, nil, &first)
		f.call(t, "wangfang", "GET", "/mobile/v1/sync?cursor="+cursor, nil, &again)
		if len(first.Items) != 1 || len(again.Items) != 1 || again.Items[0].Version != first.Items[0].Version {
			t.Errorf("items %d and %d, want the same one change twice", len(first.Items), len(again.Items))
		}
	})
	t.Run("an unknown cursor resets", func(t *testing.T) {
		var page syncPage
		f.call(t, "wangfang", "GET", "/mobile/v1/sync?cursor=nope", nil, &page)
		if !page.Reset || len(page.Items) == 0 {
			t.Errorf("reset %v with %d items, want a full reset", page.Reset, len(page.Items))
		}
	})
}
