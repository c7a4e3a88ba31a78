package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"

	"minsheng/budgetlink"
	"minsheng/budgetlink/planning"
	"minsheng/cases"
	"minsheng/handlers"
	"minsheng/internal/app"
	"minsheng/internal/auth"
	"minsheng/internal/media"
	"minsheng/internal/org"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

// fixture is the real server wired as cmd wires it — auth, cases with a
// local photo store, the budget ledger and planning, every route group — on
// a fresh database. tokens and ids hold each signed-in user by name.
type fixture struct {
	app      *fiber.App
	st       *store.Store
	auth     *auth.Service
	cases    *cases.Service
	budget   *budgetlink.Service
	planning *planning.Service
	sms      *smsBox
	tokens   map[string]string
	ids      map[string]string
}

// fixtureOptions adjust the wiring: a fixed clock for the domain services,
// smaller photo limits.
type fixtureOptions struct {
	now         func() time.Time
	photoLimits media.Limits
	// proxyHeader, when set, is trusted from app.Test's 0.0.0.0, so a test
	// can speak as several client addresses.
	proxyHeader string
	// auth adjusts the auth configuration (rate limits, say).
	auth func(*auth.Config)
}

func newFixture(t testing.TB, opts fixtureOptions) *fixture {
	t.Helper()
	st := storetest.New(t)
	dir, logger := org.Xicheng(), storetest.Logger()
	sms := &smsBox{last: map[string]string{}}
	acfg := auth.DefaultConfig([]byte(strings.Repeat("k", 32)), logger)
	acfg.BcryptCost = bcrypt.MinCost
	acfg.SMS = sms
	if opts.auth != nil {
		opts.auth(&acfg)
	}
	photos, err := media.NewLocal(t.TempDir(), []byte(strings.Repeat("m", 32)), handlers.MediaPath)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := app.Build(context.Background(), st, app.Options{Org: dir, Logger: logger, Auth: acfg, Photos: photos,
		Cases: cases.Config{PhotoLimits: opts.photoLimits}, Now: opts.now})
	if err != nil {
		t.Fatal(err)
	}
	var hc handlers.Config
	if opts.proxyHeader != "" {
		hc.ProxyHeader, hc.TrustedProxies = opts.proxyHeader, []string{"0.0.0.0"}
	}
	authSvc, cs, ledger, plan, app := svc.Auth, svc.Cases, svc.Budget, svc.Planning, svc.Handler(hc)
	return &fixture{app: app, st: st, auth: authSvc, cases: cs, budget: ledger, planning: plan, sms: sms,
		tokens: map[string]string{}, ids: map[string]string{}}
}

// staff creates and signs in a staff account named name.
func (f *fixture) staff(t testing.TB, name string, role auth.Role, scope string) {
	t.Helper()
	ctx := context.Background()
	created, err := f.auth.CreateUser(ctx, auth.NewUser{Username: name, Password: "password-" + name, Name: name, Role: role, Scope: scope})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	tok, err := f.auth.Login(ctx, name, "password-"+name, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	f.tokens[name], f.ids[name] = tok.AccessToken, created.ID
}

// resident signs a resident in with a text-message code, as the phone does.
func (f *fixture) resident(t testing.TB, name, phone string) {
	t.Helper()
	ctx := context.Background()
	if err := f.auth.RequestOTP(ctx, phone, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	tok, err := f.auth.VerifyOTP(ctx, phone, f.sms.code(phone), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	f.tokens[name], f.ids[name] = tok.AccessToken, tok.User.ID
}

// call sends a request as who ("" for anonymous). A string body is sent as
// is, anything else as JSON; header holds name, value pairs. out may be nil,
// a *[]byte for the raw body, or a value to decode JSON into.
func (f *fixture) call(t testing.TB, who, method, path string, body any, out any, header ...string) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			r = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return f.send(t, req, who, out)
}

// send sends a prepared request as who; see call for out.
func (f *fixture) send(t testing.TB, req *http.Request, who string, out any) int {
	t.Helper()
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[who])
	}
	resp, err := f.app.Test(req, 30_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if raw, ok := out.(*[]byte); ok {
			*raw = data
		} else if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", req.Method, req.URL, data, err)
		}
	}
	return resp.StatusCode
}

// smsBox keeps the last code texted to each phone.
type smsBox struct {
	mu   sync.Mutex
	last map[string]string
}

func (b *smsBox) Send(_ context.Context, phone, text string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last[phone] = regexp.MustCompile(`\d{6}`).FindString(text)
	return nil
}

func (b *smsBox) code(phone string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last[phone]
}
