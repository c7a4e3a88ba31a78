package mobileapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"minsheng/budgetlink"
	"minsheng/cases"
	"minsheng/handlers"
	"minsheng/internal/app"
	"minsheng/internal/auth"
	"minsheng/internal/media"
	"minsheng/internal/org"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// The community the tests work in, and one of another sub-district.
const (
	subA  = "xichanganjie"
	commA = "xichanganjie-liubukou"
	commB = "xinjiekou-yude"
)

// fixture is the real server as cmd wires it (auth, cases with a local
// photo store, the budget ledger, /api/v1 and /mobile/v1) on a fresh
// database; tokens, ids and principals hold each signed-in user by name.
type fixture struct {
	st      *store.Store
	app     *fiber.App
	auth    *auth.Service
	cases   *cases.Service
	budget  *budgetlink.Service
	tokens  map[string]string
	refresh map[string]string
	ids     map[string]string
	who     map[string]auth.Principal
}

func newFixture(t testing.TB) *fixture { t.Helper(); return newFixtureAt(t, nil) }

// newFixtureAt is newFixture with the domain's clock (nil: the real one).
func newFixtureAt(t testing.TB, now func() time.Time) *fixture {
	t.Helper()
	return newFixtureWith(t, now, nil)
}

// newFixtureWith is newFixtureAt with photos kept in s3 (nil: the local
// store cmd uses without S3_ENDPOINT).
func newFixtureWith(t testing.TB, now func() time.Time, s3 media.Storage) *fixture {
	t.Helper()
	return newFixtureAuth(t, now, s3, nil)
}

// newFixtureAuth is newFixtureWith with the auth settings changed by tweak
// (nil: production's), e.g. smaller limits.
func newFixtureAuth(t testing.TB, now func() time.Time, s3 media.Storage, tweak func(*auth.Config)) *fixture {
	t.Helper()
	st := storetest.New(t)
	dir, logger := org.Xicheng(), storetest.Logger()
	acfg := auth.DefaultConfig([]byte(strings.Repeat("k", 32)), logger)
	acfg.BcryptCost = bcrypt.MinCost
	acfg.FixedCodes = map[string]string{residentPhone: residentCode}
	if tweak != nil {
		tweak(&acfg)
	}
	local, err := media.NewLocal(t.TempDir(), []byte(strings.Repeat("m", 32)), handlers.MediaPath)
	if err != nil {
		t.Fatal(err)
	}
	photos := media.Storage(local)
	if s3 != nil {
		photos = s3
	}
	svc, err := app.Build(context.Background(), st, app.Options{Org: dir, Logger: logger, Auth: acfg, Photos: photos, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	authSvc, cs, ledger, app := svc.Auth, svc.Cases, svc.Budget, svc.Handler(handlers.Config{})
	f := &fixture{st: st, app: app, auth: authSvc, cases: cs, budget: ledger, tokens: map[string]string{},
		refresh: map[string]string{}, ids: map[string]string{}, who: map[string]auth.Principal{}}
	f.user(t, "wangfang", auth.RoleCadre, commA)
	f.user(t, "lisi", auth.RoleCadre, commA)
	f.user(t, "zhou", auth.RoleSubdistrict, subA)
	f.user(t, "far", auth.RoleCadre, commB)
	return f
}

// user creates and signs in a staff account.
func (f *fixture) user(t testing.TB, name string, role auth.Role, scope string) {
	t.Helper()
	ctx := context.Background()
	u, err := f.auth.CreateUser(ctx, auth.NewUser{Username: name, Password: "password-" + name, Name: name + "名", Role: role, Scope: scope})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	tok, err := f.auth.Login(ctx, name, "password-"+name, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	f.tokens[name], f.refresh[name], f.ids[name], f.who[name] = tok.AccessToken, tok.RefreshToken, u.ID, u.Principal()
}

// residentPhone is the phone caseBody files with; residentCode is the
// text-message code that signs its resident in.
const (
	residentPhone = "13812345678"
	residentCode  = "246810"
)

// resident signs in the resident of residentPhone, as the site does (a
// text-message code), under name.
func (f *fixture) resident(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	if err := f.auth.RequestOTP(ctx, residentPhone, "192.0.2.2"); err != nil {
		t.Fatal(err)
	}
	tok, err := f.auth.VerifyOTP(ctx, residentPhone, residentCode, "192.0.2.2")
	if err != nil {
		t.Fatal(err)
	}
	f.tokens[name], f.ids[name], f.who[name] = tok.AccessToken, tok.User.ID, tok.User.Principal()
}

// call sends a request as who ("" anonymous). A string or []byte body is
// sent as is, anything else as JSON; header holds name, value pairs. out
// may be nil, *[]byte or a value to decode into. It returns the status.
func (f *fixture) call(t testing.TB, who, method, path string, body any, out any, header ...string) int {
	t.Helper()
	status, _ := f.callH(t, who, method, path, body, out, header...)
	return status
}

func (f *fixture) callH(t testing.TB, who, method, path string, body any, out any, header ...string) (int, http.Header) {
	t.Helper()
	var r io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
		ctype = "image/jpeg"
	default:
		raw, _ := json.Marshal(b)
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[who])
	}
	resp, err := f.app.Test(req, 60_000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if raw, ok := out.(*[]byte); ok {
			*raw = data
		} else if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode, resp.Header
}

// mcase is the part of a /mobile/v1 case the tests read.
type mcase struct {
	ID       string `json:"id"`
	Number   string `json:"number"`
	Status   string `json:"status"`
	Version  int64  `json:"version"`
	ClientID string `json:"client_id"`
	Token    string `json:"tracking_token"`
	Timeline []struct {
		Action string `json:"action"`
		Label  string `json:"label"`
	} `json:"timeline"`
	Photos []struct {
		ID     string `json:"id"`
		Tag    string `json:"tag"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
	} `json:"photos"`
	Actions []struct {
		Action string `json:"action"`
		Label  string `json:"label"`
	} `json:"actions"`
	Deadline *struct {
		Text string `json:"text"`
	} `json:"deadline"`
}

func (c mcase) count(action string) int {
	n := 0
	for _, e := range c.Timeline {
		if e.Action == action {
			n++
		}
	}
	return n
}

// decode unmarshals a JSON answer or fails the test.
func decode(t *testing.T, raw []byte, out any) {
	t.Helper()
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("decode %q: %v", raw, err)
	}
}

type apiError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// seq numbers the bodies caseBody makes; tests call it from several
// goroutines at once.
var seq atomic.Int64

// caseBody is a valid filing body, distinct per call.
func caseBody() map[string]any {
	return map[string]any{
		"area": "CG", "title": fmt.Sprintf("10号院旱厕改造%d", seq.Add(1)), "description": "地面不平，需人工清掏",
		"address": "六部口10号院", "contact_name": "张大爷", "contact_phone": residentPhone, "households": 6,
	}
}

// file creates a case through PUT and returns it.
func (f *fixture) file(t *testing.T, who string) mcase {
	t.Helper()
	var out mcase
	if st := f.call(t, who, "PUT", "/mobile/v1/cases/"+uuid.NewString(), caseBody(), &out); st != http.StatusCreated {
		t.Fatalf("file: status %d", st)
	}
	return out
}

// assigned files a case, has the sub-district accept it and assign it to
// cadre, and returns it at its current version.
func (f *fixture) assigned(t *testing.T, cadre string) mcase {
	t.Helper()
	c := f.file(t, cadre)
	ctx := context.Background()
	got, err := f.cases.Accept(ctx, f.who["zhou"], c.ID, c.Version, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err = f.cases.Assign(ctx, f.who["zhou"], c.ID, got.Version, f.ids[cadre], ""); err != nil {
		t.Fatal(err)
	}
	c.Version, c.Status = got.Version, string(got.Status)
	return c
}

// act posts one action with an Idempotency-Key.
func (f *fixture) act(t *testing.T, who, id, action, key string, body map[string]any, out any) int {
	t.Helper()
	return f.call(t, who, "POST", "/mobile/v1/cases/"+id+"/actions/"+action, body, out, "Idempotency-Key", key)
}
