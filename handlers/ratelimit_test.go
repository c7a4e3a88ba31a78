package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"

	"minsheng/cases"
	"minsheng/cases/casestest"
	"minsheng/handlers"
	"minsheng/internal/auth"
	"minsheng/internal/httpkit"
	"minsheng/internal/media"
	"minsheng/internal/org"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

// proxiedApp is auth and cases behind a trusted proxy's X-Real-IP header,
// so a test can send requests from several client addresses.
type proxiedApp struct {
	app  *fiber.App
	auth *auth.Service
}

func newProxiedApp(t *testing.T, tweak ...func(*auth.Config)) proxiedApp {
	t.Helper()
	st := storetest.New(t)
	ctx := context.Background()
	for _, idx := range [][]store.Index{auth.Indexes, cases.Indexes} {
		if err := st.EnsureIndexes(ctx, idx); err != nil {
			t.Fatal(err)
		}
	}
	dir, logger := org.Xicheng(), storetest.Logger()
	acfg := auth.DefaultConfig([]byte(strings.Repeat("k", 32)), logger)
	acfg.BcryptCost = bcrypt.MinCost
	for _, f := range tweak {
		f(&acfg)
	}
	authSvc, err := auth.NewService(st, dir, acfg)
	if err != nil {
		t.Fatal(err)
	}
	photos, err := media.NewLocal(t.TempDir(), []byte(strings.Repeat("m", 32)), handlers.MediaPath)
	if err != nil {
		t.Fatal(err)
	}
	cs := cases.NewService(st, dir, photos, cases.Config{Users: authSvc, Logger: logger})
	app := handlers.New(handlers.Config{Auth: authSvc, Org: dir, Store: st, Logger: logger,
		Groups:      []httpkit.RouteGroup{handlers.CasesAPI{Cases: cs, Media: photos}},
		ProxyHeader: "X-Real-IP", TrustedProxies: []string{"0.0.0.0"}})
	return proxiedApp{app: app, auth: authSvc}
}

type limitedAnswer struct {
	status     int
	retryAfter string
	code       string
	message    string
	body       string
}

// post sends body as JSON from the client address ip, with token if any.
func (a proxiedApp) post(t *testing.T, ip, path, token string, body any) limitedAnswer {
	t.Helper()
	return a.postKey(t, ip, path, token, "", body)
}

// postKey is post with an Idempotency-Key (none if empty).
func (a proxiedApp) postKey(t *testing.T, ip, path, token, key string, body any) limitedAnswer {
	t.Helper()
	b, _ := json.Marshal(body)
	req := httptest.NewRequest("POST", path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Real-IP", ip)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	return answerOf(t, a.app, req)
}

// answerOf sends req to app and returns its status, Retry-After and error.
func answerOf(t *testing.T, app *fiber.App, req *http.Request) limitedAnswer {
	t.Helper()
	resp, err := app.Test(req, 30_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(data, &e)
	return limitedAnswer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), code: e.Error.Code, message: e.Error.Message, body: string(data)}
}

// hourLimitWait is the longest wait of an hour's sliding window: the
// window and its oldest slot (1/60 of it), which counts whole.
const hourLimitWait = 3600 + 60

// wantRetryAfter checks a 429: Retry-After holds whole seconds within
// [lo, hi], and the message states the same wait.
func wantRetryAfter(t *testing.T, got limitedAnswer, lo, hi int) {
	t.Helper()
	if got.status != 429 || got.code != "rate_limited" {
		t.Fatalf("status %d code %q (%s), want 429 rate_limited", got.status, got.code, got.body)
	}
	secs, err := strconv.Atoi(got.retryAfter)
	if err != nil || secs < lo || secs > hi {
		t.Fatalf("Retry-After = %q, want seconds in [%d, %d]", got.retryAfter, lo, hi)
	}
	if want := auth.WaitText(time.Duration(secs) * time.Second); !strings.Contains(got.message, want) {
		t.Errorf("message %q does not state the wait of Retry-After (%q)", got.message, want)
	}
}

func TestAnonymousFilingRateLimit(t *testing.T) {
	a := newProxiedApp(t)
	for i := 1; i <= 60; i++ {
		if got := a.post(t, "198.51.100.7", "/api/v1/cases", "", newCaseBody()); got.status != 201 {
			t.Fatalf("filing %d from one address: status %d (%s), want 201", i, got.status, got.body)
		}
	}
	t.Run("61st from the same address", func(t *testing.T) {
		got := a.post(t, "198.51.100.7", "/api/v1/cases", "", newCaseBody())
		// The window is an hour; the wait is what is left of it.
		wantRetryAfter(t, got, 1, hourLimitWait)
	})
	t.Run("another address still files", func(t *testing.T) {
		if got := a.post(t, "198.51.100.8", "/api/v1/cases", "", newCaseBody()); got.status != 201 {
			t.Fatalf("status %d (%s), want 201", got.status, got.body)
		}
	})
}

func TestSignedInFilingAndUploadRateLimit(t *testing.T) {
	a := newProxiedApp(t, func(c *auth.Config) {
		c.FilePerUser = auth.Limit{N: 3, Window: time.Hour}
		c.UploadPerUser = auth.Limit{N: 2, Window: time.Hour}
	})
	ctx := context.Background()
	if _, err := a.auth.CreateUser(ctx, auth.NewUser{Username: "cadre", Password: "password-cadre", Role: auth.RoleCadre, Scope: hComm}); err != nil {
		t.Fatal(err)
	}
	tok, err := a.auth.Login(ctx, "cadre", "password-cadre", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	body := newCaseBody()
	var caseID string
	t.Run("8 simultaneous copies of one filing count once", func(t *testing.T) {
		var wg sync.WaitGroup
		answers := make(chan limitedAnswer, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers <- a.postKey(t, "192.0.2.1", "/api/v1/cases", tok.AccessToken, "outbox-key-1", body)
			}()
		}
		wg.Wait()
		close(answers)
		for ans := range answers {
			if ans.status != 201 {
				t.Errorf("copy: status %d (%s), want 201", ans.status, ans.body)
			}
			var c struct{ ID string }
			_ = json.Unmarshal([]byte(ans.body), &c)
			caseID = c.ID
		}
	})
	for i := 2; i <= 3; i++ {
		if got := a.post(t, "192.0.2.1", "/api/v1/cases", tok.AccessToken, body); got.status != 201 {
			t.Fatalf("filing %d: status %d (%s)", i, got.status, got.body)
		}
	}
	t.Run("per user, from any address", func(t *testing.T) {
		wantRetryAfter(t, a.post(t, "192.0.2.99", "/api/v1/cases", tok.AccessToken, body), 1, hourLimitWait)
	})
	t.Run("uploads per user", func(t *testing.T) {
		var last limitedAnswer
		for i := 0; i < 3; i++ {
			last = a.upload(t, "192.0.2.1", caseID, tok.AccessToken)
		}
		wantRetryAfter(t, last, 1, hourLimitWait)
	})
}

// upload sends a small photo as multipart/form-data.
func (a proxiedApp) upload(t *testing.T, ip, caseID, token string) limitedAnswer {
	t.Helper()
	boundary := "xxBOUNDARYxx"
	photo := string(casestest.JPEG(t, 16, 12))
	body := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\nprogress\r\n" +
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n" + photo + "\r\n--" + boundary + "--\r\n"
	req := httptest.NewRequest("POST", "/api/v1/cases/"+caseID+"/photos", strings.NewReader(body))
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	req.Header.Set("X-Real-IP", ip)
	req.Header.Set("Authorization", "Bearer "+token)
	return answerOf(t, a.app, req)
}

// TestLoginLockoutPerAddress is the sweep's finding: wrong passwords from
// one address locked the account everywhere, admin included, for 15
// minutes even for the right password. Now the attacker's address is
// locked with a growing wait stated in Retry-After and the message, while
// staff at another address sign in — also during 8 simultaneous attempts
// from the attacker, over several rounds.
func TestLoginLockoutPerAddress(t *testing.T) {
	a := newProxiedApp(t)
	ctx := context.Background()
	if _, err := a.auth.CreateUser(ctx, auth.NewUser{Username: "admin", Password: "correct-horse", Role: auth.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	wrong := map[string]string{"username": "admin", "password": "wrong-horse"}
	right := map[string]string{"username": "admin", "password": "correct-horse"}
	const attacker, staff = "203.0.113.66", "192.0.2.10"
	for i := 1; i <= 4; i++ {
		if got := a.post(t, attacker, "/api/v1/auth/login", "", wrong); got.status != 401 {
			t.Fatalf("wrong password %d: status %d, want 401", i, got.status)
		}
	}
	t.Run("fifth wrong password locks the address for 30 s", func(t *testing.T) {
		wantRetryAfter(t, a.post(t, attacker, "/api/v1/auth/login", "", wrong), 29, 30)
	})
	t.Run("right password from the locked address waits", func(t *testing.T) {
		wantRetryAfter(t, a.post(t, attacker, "/api/v1/auth/login", "", right), 1, 30)
	})
	for round := 1; round <= 5; round++ {
		t.Run("round "+strconv.Itoa(round)+": staff at another address signs in during an attack", func(t *testing.T) {
			var wg sync.WaitGroup
			answers := make(chan limitedAnswer, 8)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					answers <- a.post(t, attacker, "/api/v1/auth/login", "", wrong)
				}()
			}
			got := a.post(t, staff, "/api/v1/auth/login", "", right)
			wg.Wait()
			close(answers)
			if got.status != 200 {
				t.Fatalf("staff login: status %d (%s), want 200", got.status, got.body)
			}
			for ans := range answers {
				if ans.status != 429 {
					t.Errorf("attacker: status %d, want 429", ans.status)
				}
			}
		})
	}
}
