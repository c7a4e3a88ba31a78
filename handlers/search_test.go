package handlers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"minsheng/internal/auth"
)

// TestSimilarIsNoOracle replays issue 21's attack: a caller who may not
// read a case's description appends one character at a time to a query
// and watches the answer. Whether the next digit is right or wrong, the
// whole answer must be the same.
func TestSimilarIsNoOracle(t *testing.T) {
	a := newCasesApp(t)
	a.resident(t, "deshengResident", "13800000003")
	const secretPhone, secretID = "13987654321", "110102198001011234"
	file := func(t *testing.T, public bool, description string) caseJSON {
		t.Helper()
		body := newCaseBody()
		body["title"], body["description"], body["public"] = "胡同旱厕改造", description, public
		var c caseJSON
		if st := a.call(t, "resident", "POST", "/api/v1/cases", body, &c); st != 201 {
			t.Fatalf("file: status %d", st)
		}
		return c
	}
	file(t, true, "联系我："+secretPhone+"，气味很重")
	file(t, false, "我的身份证号"+secretID+"，家暴")

	// answers asks path+query for the known prefix followed by each digit
	// and fails unless every answer is the same.
	answers := func(t *testing.T, who, path, prefix string) {
		t.Helper()
		var first string
		for d := 0; d <= 9; d++ {
			var raw []byte
			q := prefix + fmt.Sprint(d)
			if st := a.call(t, who, "GET", path+url.QueryEscape(q), nil, &raw); st != 200 {
				t.Fatalf("GET %s%s as %q: %d %s", path, q, who, st, raw)
			}
			if d == 0 {
				first = string(raw)
				continue
			}
			if string(raw) != first {
				t.Fatalf("the answer depends on the next digit of hidden text:\n%q → %s\n%q → %s", prefix+"0", first, q, raw)
			}
		}
	}
	// Each signed-in subtest asks as a resident of its own, so that the
	// search limit (TestSearchRateLimit) does not answer instead.
	others := 0
	another := func(t *testing.T) string {
		t.Helper()
		others++
		who := fmt.Sprint("other", others)
		a.resident(t, who, fmt.Sprintf("138000002%02d", others))
		return who
	}
	for _, n := range []int{3, 6, 10} {
		t.Run(fmt.Sprintf("anonymous, the phone after %d digits", n), func(t *testing.T) {
			answers(t, "", "/api/v1/public/similar?text=", secretPhone[:n])
		})
		t.Run(fmt.Sprintf("another resident, the phone after %d digits", n), func(t *testing.T) {
			answers(t, another(t), "/api/v1/cases/similar?community="+hComm+"&text=", secretPhone[:n])
		})
	}
	for _, n := range []int{6, 17} {
		t.Run(fmt.Sprintf("another resident, a non-public ID number after %d digits", n), func(t *testing.T) {
			who := another(t)
			answers(t, who, "/api/v1/cases/similar?community="+hComm+"&text=", secretID[:n])
			answers(t, who, "/api/v1/cases/similar?text=", secretID[:n])
		})
	}
	t.Run("a hidden word changes nothing", func(t *testing.T) {
		var with, without []byte
		a.call(t, "deshengResident", "GET", "/api/v1/cases/similar?community="+hComm+"&text="+url.QueryEscape("旱厕 家暴"), nil, &with)
		a.call(t, "deshengResident", "GET", "/api/v1/cases/similar?community="+hComm+"&text="+url.QueryEscape("旱厕 家具"), nil, &without)
		if string(with) != string(without) {
			t.Fatalf("家暴 → %s, 家具 → %s", with, without)
		}
	})
	t.Run("residents get no score; staff in scope do", func(t *testing.T) {
		path := "/api/v1/cases/similar?community=" + hComm + "&text=" + url.QueryEscape("胡同旱厕改造")
		for who, want := range map[string]bool{"deshengResident": false, "staff": true, "cadre": true} {
			var raw []byte
			if st := a.call(t, who, "GET", path, nil, &raw); st != 200 {
				t.Fatalf("%s: %d %s", who, st, raw)
			}
			if got := strings.Contains(string(raw), `"score"`); got != want {
				t.Errorf("%s: score shown %v, want %v: %s", who, got, want, raw)
			}
		}
		var raw []byte
		a.call(t, "", "GET", "/api/v1/public/similar?text="+url.QueryEscape("胡同旱厕改造"), nil, &raw)
		if strings.Contains(string(raw), `"score"`) || !strings.Contains(string(raw), "胡同旱厕改造") {
			t.Errorf("public similar: %s, want the case without a score", raw)
		}
	})
	t.Run("staff in scope still find a case by its description", func(t *testing.T) {
		var out struct{ Items []struct{ Score int } }
		if st := a.call(t, "cadre", "GET", "/api/v1/cases/similar?text="+secretPhone, nil, &out); st != 200 || len(out.Items) != 1 || out.Items[0].Score < 500 {
			t.Fatalf("status %d items %+v, want the case with its score", st, out.Items)
		}
	})
}

// TestSimilarHidesOthersNonPublicCases: a resident finds another
// resident's 不公开 case through no search, and cannot co-sign it (404, as
// for a case that does not exist).
func TestSimilarHidesOthersNonPublicCases(t *testing.T) {
	a := newCasesApp(t)
	body := newCaseBody()
	body["public"] = false
	var private caseJSON
	if st := a.call(t, "resident", "POST", "/api/v1/cases", body, &private); st != 201 {
		t.Fatalf("file: status %d", st)
	}
	text := url.QueryEscape("3号楼楼道灯不亮")
	for _, path := range []string{
		"/api/v1/cases/similar?community=" + hComm + "&text=" + text,
		"/api/v1/cases/similar?community=" + hComm + "&area=CG&text=" + text,
		"/api/v1/cases/similar?text=" + text,
		"/api/v1/public/similar?community=" + hComm + "&text=" + text,
	} {
		t.Run(path, func(t *testing.T) {
			var raw []byte
			if st := a.call(t, "neighbour", "GET", path, nil, &raw); st != 200 {
				t.Fatalf("status %d %s", st, raw)
			}
			if strings.Contains(string(raw), private.ID) {
				t.Fatalf("another resident's non-public case is listed: %s", raw)
			}
		})
	}
	t.Run("its filer still finds it", func(t *testing.T) {
		var raw []byte
		if a.call(t, "resident", "GET", "/api/v1/cases/similar?community="+hComm+"&text="+text, nil, &raw); !strings.Contains(string(raw), private.ID) {
			t.Fatalf("the filer's own case is missing: %s", raw)
		}
	})
	t.Run("co-signing it is 404", func(t *testing.T) {
		var raw []byte
		if st := a.call(t, "neighbour", "POST", "/api/v1/cases/"+private.ID+"/cosign", nil, &raw); st != http.StatusNotFound {
			t.Fatalf("cosign: status %d %s, want 404", st, raw)
		}
		if st := a.call(t, "neighbour", "GET", "/api/v1/cases/"+private.ID, nil, nil); st == 200 {
			t.Fatal("the resident reads the case after the refused co-signature")
		}
	})
}

// TestSearchRateLimit: every search route counts against
// auth.Config.SearchPerUser per user and SearchPerIP (signed in) or
// SearchAnonymousPerIP per address; one more in the window is 429 with
// Retry-After.
func TestSearchRateLimit(t *testing.T) {
	def := auth.DefaultConfig([]byte(strings.Repeat("k", 32)), nil)
	text := url.QueryEscape("楼道灯")
	routes := []struct{ name, path string }{
		{"signed-in similar", "/api/v1/cases/similar?text=" + text},
		{"case list with text", "/api/v1/cases?text=" + text},
	}
	for _, r := range routes {
		t.Run(r.name+" per user", func(t *testing.T) {
			f := newFixture(t, fixtureOptions{proxyHeader: "X-Real-IP"})
			f.resident(t, "one", "13800000011")
			f.resident(t, "two", "13800000012")
			for i := 0; i < int(def.SearchPerUser.N); i++ {
				if st := f.call(t, "one", "GET", r.path, nil, nil, "X-Real-IP", fmt.Sprintf("198.51.100.%d", i%200)); st != 200 {
					t.Fatalf("search %d: status %d", i+1, st)
				}
			}
			got := f.limited(t, "one", r.path, "198.51.100.250")
			wantRetryAfter(t, got, 1, int(def.SearchPerUser.MaxWait().Seconds()))
			if st := f.call(t, "two", "GET", r.path, nil, nil, "X-Real-IP", "198.51.100.250"); st != 200 {
				t.Fatalf("another user from the same address: %d, want 200", st)
			}
		})
		t.Run(r.name+" per address", func(t *testing.T) {
			f := newFixture(t, fixtureOptions{proxyHeader: "X-Real-IP"})
			users := int(def.SearchPerIP.N/def.SearchPerUser.N) + 2
			for u := 0; u < users; u++ {
				f.resident(t, fmt.Sprint("r", u), fmt.Sprintf("138000001%02d", u))
			}
			for i := 0; i < int(def.SearchPerIP.N); i++ {
				who := fmt.Sprint("r", i%(users-1))
				if st := f.call(t, who, "GET", r.path, nil, nil, "X-Real-IP", "203.0.113.7"); st != 200 {
					t.Fatalf("search %d as %s: status %d", i+1, who, st)
				}
			}
			got := f.limited(t, fmt.Sprint("r", users-1), r.path, "203.0.113.7")
			wantRetryAfter(t, got, 1, int(def.SearchPerIP.MaxWait().Seconds()))
		})
	}
	t.Run("public similar per address", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{proxyHeader: "X-Real-IP"})
		path := "/api/v1/public/similar?text=" + text
		for i := 0; i < int(def.SearchAnonymousPerIP.N); i++ {
			if st := f.call(t, "", "GET", path, nil, nil, "X-Real-IP", "203.0.113.8"); st != 200 {
				t.Fatalf("search %d: status %d", i+1, st)
			}
		}
		got := f.limited(t, "", path, "203.0.113.8")
		wantRetryAfter(t, got, 1, int(def.SearchAnonymousPerIP.MaxWait().Seconds()))
		if st := f.call(t, "", "GET", path, nil, nil, "X-Real-IP", "203.0.113.9"); st != 200 {
			t.Fatalf("another address: %d, want 200", st)
		}
	})
	t.Run("a case list without text is not a search", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{proxyHeader: "X-Real-IP"})
		f.resident(t, "one", "13800000011")
		for i := 0; i <= int(def.SearchPerUser.N); i++ {
			if st := f.call(t, "one", "GET", "/api/v1/cases", nil, nil, "X-Real-IP", "198.51.100.1"); st != 200 {
				t.Fatalf("list %d: status %d", i+1, st)
			}
		}
	})
}

// limited sends one GET as who ("" anonymous) from ip and returns the
// answer with its Retry-After and error.
func (f *fixture) limited(t *testing.T, who, path, ip string) limitedAnswer {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("X-Real-IP", ip)
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[who])
	}
	return answerOf(t, f.app, req)
}
