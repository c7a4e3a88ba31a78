package cases_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/internal/auth"
)

// TestSubmitRepeatsWithoutLookup: a filing under a key is decided by its
// insert under the unique key, with no read first. Simultaneous copies,
// over rounds, on a store that already holds cases, make one case each
// (with one token for anonymous copies) and leave no stray summary behind.
func TestSubmitRepeatsWithoutLookup(t *testing.T) {
	ctx := context.Background()
	svc, st := intakeEnv(t) // five cases filed already
	for round, who := range []auth.Principal{resident, cadre, {}} {
		t.Run(fmt.Sprintf("round %d: 16 simultaneous copies (%s)", round, who.Role), func(t *testing.T) {
			in := input()
			in.IdempotencyKey = fmt.Sprintf("repeat-key-%d", round)
			var wg sync.WaitGroup
			type got struct{ id, number, token string }
			answers := make(chan got, 16)
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, token, err := svc.Submit(ctx, who, in)
					if err != nil {
						t.Errorf("submit: %v", err)
						return
					}
					answers <- got{c.ID, c.Number, token}
				}()
			}
			wg.Wait()
			close(answers)
			var first *got
			for a := range answers {
				if first == nil {
					first = &a
					continue
				}
				if a != *first {
					t.Errorf("copy answered %+v, want %+v", a, *first)
				}
			}
			if first != nil && (who.Role == "") != (first.token != "") {
				t.Errorf("token %q for role %q: want one exactly for an anonymous filer", first.token, who.Role)
			}
		})
	}
	t.Run("one case and one summary per filing", func(t *testing.T) {
		if err := svc.FlushSummaries(ctx); err != nil {
			t.Fatal(err)
		}
		var cs, sums []bson.M
		if err := st.Collection("cases").FindAll(ctx, bson.M{}, &cs); err != nil {
			t.Fatal(err)
		}
		if err := st.Collection("case_summaries").FindAll(ctx, bson.M{}, &sums); err != nil {
			t.Fatal(err)
		}
		if len(cs) != 8 || len(sums) != 8 {
			t.Errorf("got %d cases and %d summaries, want 8 and 8", len(cs), len(sums))
		}
	})
}
