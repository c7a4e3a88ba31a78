package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/internal/auth"
)

// TestCasesHTTPConcurrentFilings: filings arriving at once over real
// sockets (which the cases service writes together, group commit) into a
// sub-district already holding cases: each is answered 201 with its own
// case and number, and every case has exactly one summary; the same
// Idempotency-Key sent 12 times among 4 other filings makes one case whose
// answer all 12 get.
func TestCasesHTTPConcurrentFilings(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	cadres := []string{"cadre0", "cadre1", "cadre2", "cadre3"}
	for _, c := range cadres {
		f.staff(t, c, auth.RoleCadre, hComm)
	}
	for range 3 {
		if st := f.call(t, "cadre0", "POST", "/api/v1/cases", newCaseBody(), nil); st != 201 {
			t.Fatalf("existing case: status %d", st)
		}
	}
	stored := 3
	base := listen(t, f.app)
	client := &http.Client{Timeout: 60 * time.Second}
	type answer struct {
		status          int
		id, number      string
		replayed, cadre string
	}
	// burst posts every body at once, each as its cadre with its key.
	type post struct{ cadre, key, title string }
	burst := func(t *testing.T, posts []post) []answer {
		t.Helper()
		out := make([]answer, len(posts))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, p := range posts {
			body := newCaseBody()
			body["title"] = p.title
			raw, _ := json.Marshal(body)
			req, _ := http.NewRequest("POST", base+"/api/v1/cases", bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+f.tokens[p.cadre])
			if p.key != "" {
				req.Header.Set("Idempotency-Key", p.key)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				data, _ := io.ReadAll(resp.Body)
				var c caseJSON
				_ = json.Unmarshal(data, &c)
				out[i] = answer{status: resp.StatusCode, id: c.ID, number: c.Number, replayed: resp.Header.Get("Idempotency-Replayed"), cadre: p.cadre}
				if resp.StatusCode != 201 {
					t.Errorf("post %d: status %d: %s", i, resp.StatusCode, data)
				}
			}()
		}
		close(start)
		wg.Wait()
		return out
	}
	wantStored := func(t *testing.T, n int) {
		t.Helper()
		// The summaries waiting to be written first, as any read does.
		if err := f.cases.FlushSummaries(context.Background()); err != nil {
			t.Fatal(err)
		}
		ids := func(coll string) []string {
			var docs []struct {
				ID string `bson:"_id"`
			}
			if err := f.st.Collection(coll).FindAll(context.Background(), bson.M{}, &docs); err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, d := range docs {
				out = append(out, d.ID)
			}
			slices.Sort(out)
			return out
		}
		cs, sums := ids("cases"), ids("case_summaries")
		if len(cs) != n || !slices.Equal(cs, sums) {
			t.Errorf("got %d cases and %d summaries (same ids: %v), want %d of each", len(cs), len(sums), slices.Equal(cs, sums), n)
		}
	}
	numbers := map[string]bool{}
	for r := range 3 {
		t.Run(fmt.Sprintf("round %d: 16 filings at once", r), func(t *testing.T) {
			var posts []post
			for i := range 16 {
				posts = append(posts, post{cadre: cadres[i%4], title: fmt.Sprintf("楼道灯不亮 %d-%d", r, i)})
			}
			for i, a := range burst(t, posts) {
				switch {
				case a.status != 201:
				case a.number == "" || numbers[a.number]:
					t.Errorf("post %d: number %q, want a new one", i, a.number)
				default:
					numbers[a.number] = true
				}
			}
			stored += 16
			wantStored(t, stored)
		})
		t.Run(fmt.Sprintf("round %d: one key 12 times among 4 other filings", r), func(t *testing.T) {
			var posts []post
			for i := range 16 {
				p := post{cadre: cadres[i%4], title: fmt.Sprintf("路灯不亮 %d-%d", r, i)}
				if i < 12 {
					p = post{cadre: "cadre0", key: fmt.Sprintf("batch-key-%02d", r), title: "同一诉求"}
				}
				posts = append(posts, p)
			}
			got := burst(t, posts)
			keyed, replays := map[string]int{}, 0
			for i, a := range got {
				if a.status != 201 {
					continue
				}
				if i < 12 {
					keyed[a.id]++
					if a.replayed == "true" {
						replays++
					}
					continue
				}
				if numbers[a.number] {
					t.Errorf("post %d: number %s given twice", i, a.number)
				}
				numbers[a.number] = true
			}
			if len(keyed) != 1 || replays != 11 {
				t.Errorf("keyed copies: %d distinct cases %v, %d replays; want 1 and 11", len(keyed), keyed, replays)
			}
			stored += 5
			wantStored(t, stored)
		})
	}
}
