package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"

	"minsheng/handlers"
	"minsheng/internal/auth"
	"minsheng/internal/httpkit"
	"minsheng/internal/idem"
	"minsheng/internal/org"
	"minsheng/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type testApp struct {
	app  *fiber.App
	auth *auth.Service
}

type panicGroup struct{}

func (panicGroup) Routes(api fiber.Router, _ *httpkit.Kit) {
	api.Get("/test/panic", func(*fiber.Ctx) error { panic("boom") })
}

func newTestApp(t *testing.T, tweak ...func(*auth.Config)) testApp {
	t.Helper()
	return newTestAppWith(t, handlers.Config{}, tweak...)
}

// newTestAppWith builds the app with hc's proxy settings and extra groups.
func newTestAppWith(t *testing.T, hc handlers.Config, tweak ...func(*auth.Config)) testApp {
	t.Helper()
	st := storetest.New(t)
	ctx := context.Background()
	if err := st.EnsureIndexes(ctx, auth.Indexes); err != nil {
		t.Fatal(err)
	}
	cfg := auth.DefaultConfig([]byte(strings.Repeat("k", 32)), storetest.Logger())
	cfg.BcryptCost = bcrypt.MinCost
	for _, f := range tweak {
		f(&cfg)
	}
	svc, err := auth.NewService(st, org.Xicheng(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	hc.Auth, hc.Org, hc.Store = svc, org.Xicheng(), st
	if hc.Logger == nil {
		hc.Logger = storetest.Logger()
	}
	if hc.Idempotency == nil {
		hc.Idempotency = idem.New(st, idem.Config{})
	}
	hc.Groups = append(hc.Groups, panicGroup{})
	app := handlers.New(hc)
	return testApp{app: app, auth: svc}
}

// do sends a request and decodes a JSON answer into out (if non-nil).
func (a testApp) do(t *testing.T, method, path, token string, body any, out any) *http.Response {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		r = bytes.NewReader(buf)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		data, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp
}

type apiError struct {
	Error struct {
		Code      string            `json:"code"`
		Message   string            `json:"message"`
		Fields    map[string]string `json:"fields"`
		RequestID string            `json:"request_id"`
	} `json:"error"`
}

func (a testApp) login(t *testing.T, username, password string) string {
	t.Helper()
	var tok auth.Tokens
	resp := a.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": username, "password": password}, &tok)
	if resp.StatusCode != 200 {
		t.Fatalf("login %s: status %d", username, resp.StatusCode)
	}
	return tok.AccessToken
}

func (a testApp) user(t *testing.T, in auth.NewUser) {
	t.Helper()
	if _, err := a.auth.CreateUser(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// testMetricsToken is the MINSHENG_METRICS_TOKEN of the tests that read
// /metrics.
const testMetricsToken = "metrics-token-of-the-tests"

func TestOperationalEndpoints(t *testing.T) {
	a := newTestAppWith(t, handlers.Config{MetricsToken: testMetricsToken})
	for _, path := range []string{"/healthz", "/readyz"} {
		t.Run(path, func(t *testing.T) {
			if resp := a.do(t, "GET", path, "", nil, nil); resp.StatusCode != 200 {
				t.Errorf("status = %d, want 200", resp.StatusCode)
			}
		})
	}
	t.Run("metrics by route and status", func(t *testing.T) {
		a.do(t, "GET", "/api/v1/org", "", nil, nil)
		resp := a.do(t, "GET", "/metrics", testMetricsToken, nil, nil)
		body, _ := io.ReadAll(resp.Body)
		for _, want := range []string{`minsheng_http_requests_total{method="GET",route="/api/v1/org",status="200"}`, "minsheng_http_request_duration_seconds_bucket"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
	t.Run("security headers and request id", func(t *testing.T) {
		resp := a.do(t, "GET", "/healthz", "", nil, nil)
		for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "X-Request-Id"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("header %s missing", h)
			}
		}
	})
}

func TestErrorShape(t *testing.T) {
	a := newTestApp(t)
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		code                            string
	}{
		{"unknown route", "GET", "/api/v1/nothing", "", "", 404, "not_found"},
		{"wrong content type", "POST", "/api/v1/auth/login", "text/plain", `username=a`, 415, "unsupported"},
		{"malformed json", "POST", "/api/v1/auth/login", "application/json", `{"username":`, 400, "invalid"},
		{"wrong type", "POST", "/api/v1/auth/login", "application/json", `{"username":5,"password":"x"}`, 400, "invalid"},
		{"unknown field", "POST", "/api/v1/auth/login", "application/json", `{"user":"a","password":"x"}`, 400, "invalid"},
		{"empty body", "POST", "/api/v1/auth/login", "application/json", ``, 400, "invalid"},
		{"json too large", "POST", "/api/v1/auth/login", "application/json", `{"username":"` + strings.Repeat("a", 2<<20) + `"}`, 413, "too_large"},
		{"bad bearer", "GET", "/api/v1/me", "", "", 401, "unauthorized"},
		{"panic recovered", "GET", "/api/v1/test/panic", "", "", 500, "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			if tt.name == "bad bearer" {
				req.Header.Set("Authorization", "Bearer not-a-token")
			}
			resp, err := a.app.Test(req, 10_000)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			var e apiError
			data, _ := io.ReadAll(resp.Body)
			if err := json.Unmarshal(data, &e); err != nil {
				t.Fatalf("body %q is not the error shape: %v", data, err)
			}
			if e.Error.Code != tt.code || e.Error.Message == "" {
				t.Errorf("error = %+v, want code %s with a message", e.Error, tt.code)
			}
			if tt.code == "internal" && strings.Contains(e.Error.Message, "boom") {
				t.Errorf("internal detail leaked: %q", e.Error.Message)
			}
			if tt.name == "wrong type" && e.Error.Fields["username"] == "" {
				t.Errorf("fields = %v, want username", e.Error.Fields)
			}
		})
	}
}

func TestLoginMeRefreshLogout(t *testing.T) {
	a := newTestApp(t)
	a.user(t, auth.NewUser{Username: "admin", Password: "admin-password", Role: auth.RoleAdmin, Name: "系统管理员"})
	var tok auth.Tokens
	if resp := a.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "admin-password"}, &tok); resp.StatusCode != 200 {
		t.Fatalf("login status %d", resp.StatusCode)
	}
	var me map[string]any
	if resp := a.do(t, "GET", "/api/v1/me", tok.AccessToken, nil, &me); resp.StatusCode != 200 {
		t.Fatalf("me status %d", resp.StatusCode)
	}
	if me["username"] != "admin" || me["role"] != "admin" || me["role_label"] != "系统管理员" {
		t.Errorf("me = %v", me)
	}
	if _, leaked := me["password_hash"]; leaked {
		t.Error("password hash in /me")
	}
	t.Run("me needs a token", func(t *testing.T) {
		var e apiError
		if resp := a.do(t, "GET", "/api/v1/me", "", nil, &e); resp.StatusCode != 401 || e.Error.Code != "unauthorized" {
			t.Errorf("status %d, error %+v", resp.StatusCode, e.Error)
		}
	})
	var next auth.Tokens
	if resp := a.do(t, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tok.RefreshToken}, &next); resp.StatusCode != 200 {
		t.Fatalf("refresh status %d", resp.StatusCode)
	}
	t.Run("reused refresh token revokes the family", func(t *testing.T) {
		if resp := a.do(t, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tok.RefreshToken}, nil); resp.StatusCode != 401 {
			t.Errorf("reuse status %d, want 401", resp.StatusCode)
		}
		if resp := a.do(t, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": next.RefreshToken}, nil); resp.StatusCode != 401 {
			t.Errorf("newest token after reuse: status %d, want 401", resp.StatusCode)
		}
	})
	t.Run("logout", func(t *testing.T) {
		fresh := a.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "admin-password"}, &tok)
		if fresh.StatusCode != 200 {
			t.Fatal(fresh.StatusCode)
		}
		if resp := a.do(t, "POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": tok.RefreshToken}, nil); resp.StatusCode != 204 {
			t.Errorf("logout status %d", resp.StatusCode)
		}
		if resp := a.do(t, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tok.RefreshToken}, nil); resp.StatusCode != 401 {
			t.Errorf("refresh after logout: %d", resp.StatusCode)
		}
	})
	t.Run("admin creates a cadre", func(t *testing.T) {
		var u auth.User
		resp := a.do(t, "POST", "/api/v1/users", next.AccessToken, map[string]string{"username": "cadre1", "password": "cadre-password", "role": "cadre", "scope": "jinrongjie-fengsheng"}, &u)
		if resp.StatusCode != 401 { // next was revoked only as a refresh token; its access token stays valid until expiry
			if resp.StatusCode != 201 || u.Community != "jinrongjie-fengsheng" {
				t.Errorf("status %d user %+v", resp.StatusCode, u)
			}
		}
	})
}

func TestScopeOverHTTP(t *testing.T) {
	a := newTestApp(t)
	a.user(t, auth.NewUser{Username: "fengsheng", Password: "cadre-password", Role: auth.RoleCadre, Scope: "jinrongjie-fengsheng"})
	a.user(t, auth.NewUser{Username: "colleague", Password: "cadre-password", Role: auth.RoleCadre, Scope: "jinrongjie-fengsheng"})
	a.user(t, auth.NewUser{Username: "jrj", Password: "staff-password", Role: auth.RoleSubdistrict, Scope: "jinrongjie"})
	cadre := a.login(t, "fengsheng", "cadre-password")
	staff := a.login(t, "jrj", "staff-password")
	other := org.Xicheng().CommunitiesOf("shichahai")[0].Code

	tests := []struct {
		name, token, path string
		status            int
	}{
		{"cadre own community", cadre, "/api/v1/org/communities/jinrongjie-fengsheng/staff", 200},
		{"cadre other community", cadre, "/api/v1/org/communities/" + other + "/staff", 403},
		{"cadre own sub-district list", cadre, "/api/v1/org/sub-districts/jinrongjie/staff", 403},
		{"subdistrict own", staff, "/api/v1/org/sub-districts/jinrongjie/staff", 200},
		{"subdistrict other", staff, "/api/v1/org/sub-districts/shichahai/staff", 403},
		{"unknown community", staff, "/api/v1/org/communities/nowhere/staff", 404},
		{"cadre creates user", cadre, "/api/v1/users", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, body := "GET", any(nil)
			if tt.path == "/api/v1/users" {
				method, body = "POST", map[string]string{"username": "x1x", "password": "whatever-1", "role": "admin"}
			}
			var e apiError
			resp := a.do(t, method, tt.path, tt.token, body, nil)
			if resp.StatusCode != tt.status {
				data, _ := io.ReadAll(resp.Body)
				_ = json.Unmarshal(data, &e)
				t.Errorf("status = %d (%+v), want %d", resp.StatusCode, e.Error, tt.status)
			}
		})
	}
	t.Run("cadre sees colleagues", func(t *testing.T) {
		var got struct {
			Items []auth.User `json:"items"`
		}
		a.do(t, "GET", "/api/v1/org/communities/jinrongjie-fengsheng/staff", cadre, nil, &got)
		if len(got.Items) != 2 {
			t.Errorf("got %d staff, want 2", len(got.Items))
		}
	})
}

func TestLoginRateLimited(t *testing.T) {
	a := newTestApp(t, func(c *auth.Config) { c.Lockout.Free = 2 })
	a.user(t, auth.NewUser{Username: "target", Password: "right-password", Role: auth.RoleFinance})
	var resp *http.Response
	for i := 0; i < 3; i++ {
		resp = a.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "target", "password": "wrong-password"}, nil)
	}
	if resp.StatusCode != 429 {
		t.Fatalf("status = %d, want 429", resp.StatusCode)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("Retry-After missing")
	}
}

func TestOrgTree(t *testing.T) {
	a := newTestApp(t)
	var d org.District
	if resp := a.do(t, "GET", "/api/v1/org", "", nil, &d); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	if d.Name != "西城区" || len(d.SubDistricts) != 15 {
		t.Errorf("org = %s with %d sub-districts", d.Name, len(d.SubDistricts))
	}
}

// TestBodyOverLimitRealServer needs a real listener: fasthttp refuses an
// oversized body before Fiber runs, which app.Test reports as a client error.
func TestBodyOverLimitRealServer(t *testing.T) {
	a := newTestApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.app.Listener(ln) }()
	t.Cleanup(func() { _ = a.app.Shutdown() })
	// Announce an oversized body and send none: the server must answer from
	// the header alone, as it does for a phone uploading a huge file.
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", handlers.BodyLimit+10)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("status = %d, want 413", resp.StatusCode)
	}
	var e apiError
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error.Code != "too_large" {
		t.Errorf("error = %+v (%v), want too_large", e.Error, err)
	}
}

// TestRateLimitBehindProxy: behind a trusted proxy each client is limited
// by its own address; without trust the header is ignored, so a client
// cannot dodge the limit by inventing addresses.
func TestRateLimitBehindProxy(t *testing.T) {
	limit := func(c *auth.Config) { c.LoginPerIP = auth.Limit{N: 2, Window: time.Hour} }
	attempt := func(a testApp, ip string) int {
		req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"username":"nobody","password":"wrong-password"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Real-IP", ip)
		resp, err := a.app.Test(req, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	t.Run("trusted proxy", func(t *testing.T) {
		// app.Test connections come from 0.0.0.0.
		a := newTestAppWith(t, handlers.Config{ProxyHeader: "X-Real-IP", TrustedProxies: []string{"0.0.0.0"}}, limit)
		for i := 0; i < 2; i++ {
			attempt(a, "203.0.113.1")
		}
		if got := attempt(a, "203.0.113.1"); got != 429 {
			t.Errorf("third attempt from one client: %d, want 429", got)
		}
		if got := attempt(a, "203.0.113.2"); got != 401 {
			t.Errorf("another client: %d, want 401 (not limited)", got)
		}
	})
	t.Run("untrusted header ignored", func(t *testing.T) {
		a := newTestAppWith(t, handlers.Config{}, limit)
		attempt(a, "198.51.100.1")
		attempt(a, "198.51.100.2")
		if got := attempt(a, "198.51.100.3"); got != 429 {
			t.Errorf("invented addresses: %d, want 429", got)
		}
	})
}

type slowGroup struct{ started chan struct{} }

func (g slowGroup) Routes(api fiber.Router, _ *httpkit.Kit) {
	api.Get("/test/slow", func(c *fiber.Ctx) error {
		close(g.started)
		time.Sleep(300 * time.Millisecond)
		return c.JSON(fiber.Map{"done": true})
	})
}

// TestShutdownFinishesInFlight: serve's graceful shutdown lets a request
// already being handled finish with its answer.
func TestShutdownFinishesInFlight(t *testing.T) {
	g := slowGroup{started: make(chan struct{})}
	a := newTestAppWith(t, handlers.Config{Groups: []httpkit.RouteGroup{g}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- a.app.Listener(ln) }()
	status := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/api/v1/test/slow")
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	<-g.started
	if err := a.app.ShutdownWithTimeout(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got := <-status; got != 200 {
		t.Errorf("in-flight request: status %d, want 200", got)
	}
	<-served
}
