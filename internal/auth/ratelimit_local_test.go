package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/internal/auth"
)

// TestFilingLimitOnEmbeddedEngine: on the embedded engine (one process)
// the filing limits are counted in memory, with the same answers as the
// database gave, and without a write per filing.
func TestFilingLimitOnEmbeddedEngine(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *auth.Config) { c.FilePerUser = auth.Limit{N: 3, Window: time.Hour} })
	if !e.st.OneProcess() {
		t.Skip("the counts are in memory only where one process owns the store (embedded FerretDB)")
	}
	cadre := auth.Principal{UserID: "cadre-1", Role: auth.RoleCadre}
	file := func(key string) error {
		return e.svc.AllowFiling(ctx, auth.Attempt{Principal: cadre, IP: "192.0.2.1", IdempotencyKey: key})
	}
	for round := range 3 {
		t.Run(fmt.Sprintf("round %d: 16 simultaneous copies of one filing count once", round), func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- file(fmt.Sprintf("outbox-key-%d", round))
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("copy: %v, want allowed", err)
				}
			}
		})
	}
	t.Run("a fourth filing is limited", func(t *testing.T) {
		wantCode(t, file("outbox-key-3"), minsheng.ERATELIMITED)
	})
	t.Run("its retry is limited too: a refusal claims no key", func(t *testing.T) {
		wantCode(t, file("outbox-key-3"), minsheng.ERATELIMITED)
	})
	t.Run("a counted filing's copy still passes", func(t *testing.T) {
		if err := file("outbox-key-1"); err != nil {
			t.Errorf("copy of a counted filing: %v, want allowed", err)
		}
	})
	t.Run("the window ends", func(t *testing.T) {
		// The window slides: its oldest slot (1/60 of it) counts whole.
		e.clock.Advance(time.Hour + time.Minute)
		if err := file("outbox-key-4"); err != nil {
			t.Errorf("next window: %v, want allowed", err)
		}
	})
	t.Run("nothing was written", func(t *testing.T) {
		var docs []bson.M
		if err := e.st.Collection("rate_limits").FindAll(ctx, bson.M{}, &docs); err != nil {
			t.Fatal(err)
		}
		if got := len(docs); got != 0 {
			t.Errorf("rate_limits holds %d documents, want 0", got)
		}
	})
}
