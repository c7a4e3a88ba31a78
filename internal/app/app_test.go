package app_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"minsheng/handlers"
	"minsheng/internal/app"
	"minsheng/internal/auth"
	"minsheng/internal/org"
	"minsheng/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// Every index has one name in its collection: two lists declaring the same
// name with different keys would leave one of them silently uncreated.
func TestIndexesOneNamePerCollection(t *testing.T) {
	seen := map[string]bool{}
	for _, ix := range app.Indexes() {
		k := ix.Collection + "/" + ix.Name
		if seen[k] {
			t.Errorf("index %s declared twice", k)
		}
		seen[k] = true
	}
	if len(seen) == 0 {
		t.Fatal("no indexes declared")
	}
}

// A second start on the same store builds again (indexes exist), and the
// one handler serves both APIs: /api/v1 and the cadre app's /mobile/v1
// each answer a signed-out caller 401, not 404.
func TestBuildTwiceServesBothAPIs(t *testing.T) {
	st := storetest.New(t)
	acfg := auth.DefaultConfig([]byte(strings.Repeat("k", 32)), storetest.Logger())
	acfg.BcryptCost = bcrypt.MinCost
	opts := app.Options{Org: org.Xicheng(), Logger: storetest.Logger(), Auth: acfg}
	for round := range 2 {
		svc, err := app.Build(context.Background(), st, opts)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		h := svc.Handler(handlers.Config{})
		for _, path := range []string{"/api/v1/cases", "/mobile/v1/cases"} {
			res, err := h.Test(httptest.NewRequest("GET", path, nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := res.StatusCode, 401; got != want {
				t.Errorf("round %d: GET %s = %d, want %d", round, path, got, want)
			}
		}
	}
}
