package authz_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"

	"minsheng/budgetlink"
	"minsheng/budgetlink/ledger"
	"minsheng/cases"
	"minsheng/handlers"
	"minsheng/internal/app"
	"minsheng/internal/auth"
	"minsheng/internal/media"
	"minsheng/internal/org"
	"minsheng/internal/store/storetest"
)

// The two scopes: A is the callers' own, B another sub-district's.
var scopes = map[string]scopeOrg{
	"A": {sub: "jinrongjie", comm: "jinrongjie-fengsheng"},
	"B": {sub: "desheng", comm: "desheng-andelunan"},
}

type scopeOrg struct{ sub, comm string }

// world is the server as cmd wires it (both route sets, every group) on a
// fresh database, with the matrix's users signed in. Callers are always
// scope A's; scope B's users exist so B has a cadre, staff and a resident.
type world struct {
	app    *fiber.App
	auth   *auth.Service
	cases  *cases.Service
	budget *budgetlink.Service
	sms    *smsBox
	tokens map[string]string // by user key: "cadre-A", "resident-B", "finance"…
	ids    map[string]string
	who    map[string]auth.Principal
	seeded []*seedCase // every case ever seeded, for the leak checks
	lines  []seedLine
	seq    atomic.Int64
	year   int
}

// seedCase is one seeded case and the strings only its readers may see.
type seedCase struct {
	scope, kind         string // kind: pub (cadre-filed, public), priv (the resident's own), anon
	id, number, token   string
	version             int64
	descPhone, idNumber string // written into the description
	marker              string // written into the description
	contactPhone        string
	photo               string // the id of its photo, for a started case
	ownerKey            string // the user key of the resident who owns it, "" for none
}

type seedLine struct {
	scope, id, name string
	version         int64
}

// scopeData is what one cell's placeholders point at.
type scopeData struct {
	org       scopeOrg
	pub, priv *seedCase
	anon      *seedCase
	// staged is the resident's own case moved on by staff, by stage:
	// "assigned" (to the scope's cadre), "assessed", "started",
	// "completed"; "classified" (catalog item confirmed), "linked" (to line).
	staged     map[string]*seedCase
	line       seedLine
	cadreID    string
	residentID string
}

// newWorld builds a world; tune adjusts the auth configuration (limits).
func newWorld(t *testing.T, tune ...func(*auth.Config)) *world {
	t.Helper()
	st := storetest.New(t)
	dir, logger := org.Xicheng(), storetest.Logger()
	sms := &smsBox{last: map[string]string{}}
	acfg := auth.DefaultConfig([]byte(strings.Repeat("k", 32)), logger)
	acfg.BcryptCost = bcrypt.MinCost
	acfg.SMS = sms
	for _, f := range tune {
		f(&acfg)
	}
	photos, err := media.NewLocal(t.TempDir(), []byte(strings.Repeat("m", 32)), handlers.MediaPath)
	if err != nil {
		t.Fatal(err)
	}
	zone := time.FixedZone("CST", 8*3600)
	svc, err := app.Build(context.Background(), st, app.Options{Org: dir, Logger: logger, Auth: acfg, Photos: photos, Zone: zone,
		Cases: cases.Config{TokenSecret: []byte(strings.Repeat("t", 32))}})
	if err != nil {
		t.Fatal(err)
	}
	authSvc, cs, ledger, app := svc.Auth, svc.Cases, svc.Budget, svc.Handler(handlers.Config{})
	w := &world{app: app, auth: authSvc, cases: cs, budget: ledger, sms: sms, tokens: map[string]string{}, ids: map[string]string{},
		who: map[string]auth.Principal{}, year: time.Now().In(zone).Year()}
	for i, sc := range []string{"A", "B"} {
		o := scopes[sc]
		w.staff(t, "cadre-"+sc, auth.RoleCadre, o.comm)
		w.staff(t, "sub-"+sc, auth.RoleSubdistrict, o.sub)
		w.resident(t, "resident-"+sc, fmt.Sprintf("1370000000%d", i+1))
	}
	w.staff(t, "finance", auth.RoleFinance, "")
	w.staff(t, "admin", auth.RoleAdmin, "")
	return w
}

// freshCallers replaces scope A's callers with new accounts, so a cell
// that signs its caller out or changes its account decides nothing for
// the next cell.
func (w *world) freshCallers(t *testing.T) {
	t.Helper()
	n := w.seq.Add(1)
	suffix := fmt.Sprintf("%d", n)
	w.staffNamed(t, "cadre-A", "cadrea"+suffix, auth.RoleCadre, scopes["A"].comm)
	w.staffNamed(t, "sub-A", "suba"+suffix, auth.RoleSubdistrict, scopes["A"].sub)
	w.staffNamed(t, "finance", "finance"+suffix, auth.RoleFinance, "")
	w.staffNamed(t, "admin", "admin"+suffix, auth.RoleAdmin, "")
	w.resident(t, "resident-A", fmt.Sprintf("1372%07d", n))
}

// staff creates and signs in a staff account keyed key.
func (w *world) staff(t *testing.T, key string, role auth.Role, scope string) {
	t.Helper()
	w.staffNamed(t, key, strings.ReplaceAll(key, "-", ""), role, scope)
}

// staffNamed creates and signs in the staff account name, keyed key.
func (w *world) staffNamed(t *testing.T, key, name string, role auth.Role, scope string) {
	t.Helper()
	ctx := context.Background()
	u, err := w.auth.CreateUser(ctx, auth.NewUser{Username: name, Password: "password-" + name, Name: name, Role: role, Scope: scope})
	if err != nil {
		t.Fatalf("create %s: %v", key, err)
	}
	tok, err := w.auth.Login(ctx, name, "password-"+name, w.nextIP())
	if err != nil {
		t.Fatal(err)
	}
	w.tokens[key], w.ids[key], w.who[key] = tok.AccessToken, u.ID, u.Principal()
}

// nextIP is a new client address for each sign-in, so the fixture's own
// sign-ins never meet the per-address limits the cells are about.
func (w *world) nextIP() string {
	n := w.seq.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
}

// resident signs a resident in with a text-message code.
func (w *world) resident(t *testing.T, key, phone string) {
	t.Helper()
	ctx := context.Background()
	ip := w.nextIP()
	if err := w.auth.RequestOTP(ctx, phone, ip); err != nil {
		t.Fatal(err)
	}
	tok, err := w.auth.VerifyOTP(ctx, phone, w.sms.code(phone), ip)
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.auth.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	w.tokens[key], w.ids[key], w.who[key] = tok.AccessToken, tok.User.ID, p
}

// seed files a public, a private and an anonymous case in scope sc and
// books a budget line there, each carrying sentinels of its own.
func (w *world) seed(t *testing.T, sc string) *scopeData {
	t.Helper()
	return w.seedFor(t, sc, "{pub}{case}{anon}{line}")
}

// seedFor seeds in scope sc only what the placeholders in uses name: a
// write cell's own entities.
func (w *world) seedFor(t *testing.T, sc, uses string) *scopeData {
	t.Helper()
	o := scopes[sc]
	d := &scopeData{org: o, cadreID: w.ids["cadre-"+sc], residentID: w.ids["resident-"+sc]}
	if strings.Contains(uses, "{pub") {
		d.pub = w.file(t, sc, "pub", w.who["cadre-"+sc], true, "")
	}
	if strings.Contains(uses, "{case}") || strings.Contains(uses, "{ver}") || strings.Contains(uses, "{number}") {
		d.priv = w.file(t, sc, "priv", w.who["resident-"+sc], false, "resident-"+sc)
	}
	if strings.Contains(uses, "{anon") || strings.Contains(uses, "{token}") {
		d.anon = w.file(t, sc, "anon", auth.Principal{}, false, "")
	}
	d.staged = map[string]*seedCase{}
	for _, stage := range stages {
		if strings.Contains(uses, "{"+stage) {
			d.staged[stage] = w.stage(t, sc, stage)
		}
	}
	if strings.Contains(uses, "{line") || strings.Contains(uses, "{linked") {
		d.line = w.seedLine(t, sc)
	}
	for _, stage := range []string{"classified", "linked"} {
		if strings.Contains(uses, "{"+stage) {
			d.staged[stage] = w.classify(t, sc, d.line.id, stage == "linked")
		}
	}
	return d
}

// classify files the resident's own case in scope sc, has the scope's
// staff accept it and confirm its catalog item, and link it to lineID
// when link is set.
func (w *world) classify(t *testing.T, sc, lineID string, link bool) *seedCase {
	t.Helper()
	ctx := context.Background()
	c := w.file(t, sc, "priv", w.who["resident-"+sc], false, "resident-"+sc)
	sub := w.who["sub-"+sc]
	got, err := w.cases.Accept(ctx, sub, c.id, c.version, "")
	if err == nil {
		got, err = w.budget.ConfirmItem(ctx, sub, c.id, got.Version, "SQ-05-04")
	}
	if err == nil && link {
		_, err = w.budget.LinkCase(ctx, sub, c.id, lineID, 10_000)
	}
	if err != nil {
		t.Fatalf("classify %s case: %v", sc, err)
	}
	c.version = got.Version
	return c
}

// seedLine books a budget line in scope sc, its project name a sentinel.
func (w *world) seedLine(t *testing.T, sc string) seedLine {
	t.Helper()
	o := scopes[sc]
	n := w.seq.Add(1)
	name := fmt.Sprintf("预算哨兵%s%03d", sc, n)
	l, err := w.budget.CreateLine(context.Background(), w.who["finance"], ledger.NewLine{
		FiscalYear: w.year, SubDistrict: o.sub, ItemCode: "SQ-05-04", ProjectName: name, ApprovedFen: 5_000_000})
	if err != nil {
		t.Fatalf("seed line: %v", err)
	}
	line := seedLine{scope: sc, id: l.ID, name: name, version: l.Version}
	w.lines = append(w.lines, line)
	return line
}

func (w *world) file(t *testing.T, sc, kind string, p auth.Principal, public bool, owner string) *seedCase {
	t.Helper()
	n := w.seq.Add(1)
	c := &seedCase{scope: sc, kind: kind, ownerKey: owner,
		descPhone: fmt.Sprintf("1391%07d", n), idNumber: fmt.Sprintf("1101021980%08d", n),
		marker: fmt.Sprintf("隐私哨兵%s%s%03d", sc, kind, n), contactPhone: fmt.Sprintf("1365%07d", n)}
	o := scopes[sc]
	got, token, err := w.cases.Submit(context.Background(), p, cases.NewCase{
		Area: "CG", Title: fmt.Sprintf("楼道堆物清理%03d", n),
		Description: fmt.Sprintf("%s：联系电话 %s，身份证 %s，院内堆物需清运", c.marker, c.descPhone, c.idNumber),
		SubDistrict: o.sub, Community: o.comm, Address: fmt.Sprintf("%d号院", n),
		ContactName: "张大爷", ContactPhone: c.contactPhone, Households: 3, Public: public,
	})
	if err != nil {
		t.Fatalf("seed %s %s case: %v", sc, kind, err)
	}
	c.id, c.number, c.token, c.version = got.ID, got.Number, token, got.Version
	w.seeded = append(w.seeded, c)
	return c
}

// stages are the steps a staged case goes through, in order.
var stages = []string{"assigned", "assessed", "started", "completed"}

// stage files the resident's own case in scope sc and moves it, as the
// scope's staff, to stage: assigned to the cadre, assessed, started (with
// a photo taken after, so it can be completed) or completed.
func (w *world) stage(t *testing.T, sc, stage string) *seedCase {
	t.Helper()
	ctx := context.Background()
	c := w.file(t, sc, "priv", w.who["resident-"+sc], false, "resident-"+sc)
	sub, cadre := w.who["sub-"+sc], w.who["cadre-"+sc]
	got, err := w.cases.Accept(ctx, sub, c.id, c.version, "")
	steps := map[string]func() (*cases.Case, error){
		"assigned": func() (*cases.Case, error) { return w.cases.Assign(ctx, sub, c.id, got.Version, cadre.UserID, "") },
		"assessed": func() (*cases.Case, error) {
			return w.cases.Assess(ctx, cadre, c.id, got.Version, cases.Assessment{EstimateFen: 100_000, Households: 3, Risk: 1})
		},
		"started": func() (*cases.Case, error) {
			if _, err := w.cases.Start(ctx, cadre, c.id, got.Version, ""); err != nil {
				return nil, err
			}
			return w.cases.AddPhoto(ctx, cadre, c.id, cases.TagAfter, bytes.NewReader(tinyJPEG(t)))
		},
		"completed": func() (*cases.Case, error) { return w.cases.Complete(ctx, cadre, c.id, got.Version, 100_000, "") },
	}
	for _, s := range stages {
		if err != nil {
			break
		}
		got, err = steps[s]()
		if s == stage {
			break
		}
	}
	if err != nil {
		t.Fatalf("stage %s case %s: %v", sc, stage, err)
	}
	c.version = got.Version
	if n := len(got.Photos); n > 0 {
		c.photo = got.Photos[n-1].ID
	}
	return c
}

// tinyJPEG is a small real photo: completion needs one taken after.
func tinyJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// do sends one request as the user keyed who ("" anonymous) and returns
// the status and body.
func (w *world) do(t *testing.T, who, method, target, body, ctype string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	switch {
	case ctype != "":
		req.Header.Set("Content-Type", ctype)
	case body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	if method != "GET" {
		req.Header.Set("Idempotency-Key", fmt.Sprintf("authz-%d-%d", time.Now().UnixNano(), w.seq.Add(1)))
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+w.tokens[who])
	}
	resp, err := w.app.Test(req, 60_000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = io.Copy(&buf, resp.Body)
	return resp.StatusCode, buf.Bytes()
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
