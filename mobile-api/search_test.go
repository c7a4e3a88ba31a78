package mobileapi_test

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"minsheng/internal/auth"
)

// TestSearchRateLimit: the cadre app's searches count against the same
// limits as /api/v1's (auth.Service.AllowSearch), per user and per
// address; one more in the window is 429 with Retry-After.
func TestSearchRateLimit(t *testing.T) {
	def := auth.DefaultConfig([]byte(strings.Repeat("k", 32)), nil)
	routes := []struct{ name, path string }{
		{"similar", "/mobile/v1/similar?text=" + url.QueryEscape("楼道灯")},
		{"queue by address", "/mobile/v1/cases?address=" + url.QueryEscape("六部口")},
	}
	// limited fails unless path as who is 429 with a Retry-After within
	// the limit's window.
	limited := func(t *testing.T, f *fixture, who, path string, lim auth.Limit) {
		t.Helper()
		var raw []byte
		st, h := f.callH(t, who, "GET", path, nil, &raw)
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		secs, err := strconv.Atoi(h.Get("Retry-After"))
		if st != 429 || e.Error.Code != "rate_limited" || err != nil || secs < 1 || secs > int(lim.MaxWait().Seconds()) {
			t.Fatalf("status %d Retry-After %q: %s, want 429 within %s", st, h.Get("Retry-After"), raw, lim.MaxWait())
		}
	}
	for _, r := range routes {
		t.Run(r.name+" per user", func(t *testing.T) {
			f := newFixture(t)
			for i := 0; i < int(def.SearchPerUser.N); i++ {
				if st := f.call(t, "wangfang", "GET", r.path, nil, nil); st != 200 {
					t.Fatalf("search %d: status %d", i+1, st)
				}
			}
			limited(t, f, "wangfang", r.path, def.SearchPerUser)
			if st := f.call(t, "lisi", "GET", r.path, nil, nil); st != 200 {
				t.Fatalf("another user: status %d, want 200", st)
			}
		})
		t.Run(r.name+" per address", func(t *testing.T) {
			f := newFixture(t)
			users := []string{"wangfang", "lisi", "zhou"}
			for i := 0; i < int(def.SearchPerIP.N); i++ {
				if st := f.call(t, users[i%len(users)], "GET", r.path, nil, nil); st != 200 {
					t.Fatalf("search %d: status %d", i+1, st)
				}
			}
			limited(t, f, "far", r.path, def.SearchPerIP)
		})
	}
	t.Run("the queue without an address is not a search", func(t *testing.T) {
		f := newFixture(t)
		for i := 0; i <= int(def.SearchPerUser.N); i++ {
			if st := f.call(t, "wangfang", "GET", "/mobile/v1/cases", nil, nil); st != 200 {
				t.Fatalf("list %d: status %d", i+1, st)
			}
		}
	})
}
