// Package demo fills an empty store with a believable 西城区 fiscal year —
// budget lines of all 15 sub-districts with adjustments and reviews, a few
// hundred cases across all of them (volumes by population, each
// sub-district with its own mix and rates, profile.go) in every lifecycle
// state, with generated photos, links, allocation runs and spending — through the real
// services, so every rule holds and `minsheng check` stays clean. It also
// generates N plain cases for scale tests (SeedCases). Only cmd imports it.
//
// Times: the district's "now" is the real clock's (Options.Now), and every
// timeline is placed before it within the fiscal year, so the demo looks
// alive on any day; the content — cases, states, amounts, photos — depends
// only on the seed. A fiscal year without a catalog (the calendar ran past
// the last embedded one) shows the last catalogued year as of 20 December.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"minsheng"
	"minsheng/budgetlink"
	"minsheng/budgetlink/catalog"
	"minsheng/budgetlink/ledger"
	"minsheng/budgetlink/planning"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
	"minsheng/internal/media"
	"minsheng/internal/org"
	"minsheng/internal/store"
)

// Fixed demo credentials: for demo mode only, printed at start and listed
// in the README.
const (
	// Password is the password of every demo staff account.
	Password = "minsheng-demo"
	// ResidentPhone signs in with ResidentCode (POST /api/v1/auth/otp, then
	// /api/v1/auth/otp/verify) in demo mode.
	ResidentPhone = "13800000001"
	ResidentCode  = "123456"
)

// DefaultSubDistricts are where the demo's cases are: all 15 sub-districts
// of 西城区, first 金融街 (丰盛社区 of the article), 大栅栏 and 椿树, old-city
// sub-districts with courtyards (平房院落), so a smaller demo
// (--sub-districts K) keeps them.
var DefaultSubDistricts = []string{"jinrongjie", "dashilan", "chunshu",
	"xichanganjie", "xinjiekou", "desheng", "yuetan", "zhanlanlu", "shichahai", "tianqiao",
	"taoranting", "guanganmennei", "niujie", "baizhifang", "guanganmenwai"}

// FixedCodes is the auth option that gives the demo resident its fixed SMS
// code; cmd sets it only in demo mode.
func FixedCodes() map[string]string { return map[string]string{ResidentPhone: ResidentCode} }

// Env is what the demo needs from cmd's wiring.
type Env struct {
	Store  *store.Store
	Org    *org.Directory
	Auth   *auth.Service
	Photos media.Storage
	// Cases is the cases service's configuration. The demo builds its own
	// services on Store with the same settings and its own clock, so the
	// timelines it writes span the year.
	Cases  cases.Config
	Logger *slog.Logger
}

// Options tune the demo district. Zero fields take the defaults.
type Options struct {
	// Seed makes the district: the same seed, the same district. Default 1.
	Seed uint64
	// Now is the moment the demo is seeded "as of"; default time.Now().
	Now time.Time
	// SubDistricts hold the demo's cases; default DefaultSubDistricts.
	SubDistricts []string
	// CasesPerSubDistrict scales the plan: the average per sub-district
	// (default 13); each gets cases in proportion to its population, at
	// least 8.
	CasesPerSubDistrict int
}

func (o Options) withDefaults() Options {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if len(o.SubDistricts) == 0 {
		o.SubDistricts = DefaultSubDistricts
	}
	if o.CasesPerSubDistrict <= 0 {
		o.CasesPerSubDistrict = defaultCasesPerSubDistrict
	}
	o.CasesPerSubDistrict = max(o.CasesPerSubDistrict, minCasesPerSubDistrict)
	return o
}

// Account is one demo sign-in.
type Account struct {
	Username string    `json:"username,omitempty" bson:"username,omitempty"`
	Phone    string    `json:"phone,omitempty" bson:"phone,omitempty"`
	Secret   string    `json:"secret" bson:"secret"` // password, or the fixed SMS code
	Role     auth.Role `json:"role" bson:"role"`
	Scope    string    `json:"scope,omitempty" bson:"scope,omitempty"`
	Name     string    `json:"name" bson:"name"`
}

// Report is what a seed made.
type Report struct {
	Seed       uint64    `json:"seed" bson:"seed"`
	FiscalYear int       `json:"fiscal_year" bson:"fiscal_year"`
	AsOf       time.Time `json:"as_of" bson:"as_of"`
	// Accounts are the sign-ins to show; Cadres counts the community
	// cadres besides them (username = community code, same password).
	Accounts    []Account      `json:"accounts" bson:"accounts"`
	Cadres      int            `json:"cadres" bson:"cadres"`
	Residents   int            `json:"residents" bson:"residents"`
	Cases       int            `json:"cases" bson:"cases"`
	ByStatus    map[string]int `json:"by_status" bson:"by_status"`
	ByArea      map[string]int `json:"by_area" bson:"by_area"`
	Lines       int            `json:"lines" bson:"lines"`
	Adjustments int            `json:"adjustments" bson:"adjustments"`
	Reviews     int            `json:"reviews" bson:"reviews"`
	Runs        int            `json:"runs" bson:"runs"`
	Funded      int            `json:"funded" bson:"funded"`
	// Payments are the monthly wages and running costs paid (execution.go).
	Payments int `json:"payments" bson:"payments"`
	Photos   int `json:"photos" bson:"photos"`
	// AdminExisted says the admin account was there before the seed and
	// kept its own password.
	AdminExisted bool          `json:"admin_existed" bson:"admin_existed"`
	Duration     time.Duration `json:"duration" bson:"duration"`
	// AlreadySeeded is set by Ensure when the store held the demo already.
	AlreadySeeded bool `json:"already_seeded" bson:"-"`
}

// The marker of a seeded store: one document, claimed by insert before
// anything is written, so a second seed — even a concurrent one — refuses.
const (
	markerCollection = "demo"
	markerID         = "district"
	stateSeeding     = "seeding"
	stateDone        = "done"
)

type marker struct {
	ID         string    `bson:"_id"`
	State      string    `bson:"state"`
	StartedAt  time.Time `bson:"started_at"`
	FinishedAt time.Time `bson:"finished_at,omitempty"`
	Report     *Report   `bson:"report,omitempty"`
}

// Errors of Seed and Ensure (ECONFLICT).
var (
	errSeeded   = minsheng.Errorf(minsheng.ECONFLICT, "此数据目录已有演示数据，不能再次写入；如需重建请换一个空的数据目录")
	errRealData = minsheng.Errorf(minsheng.ECONFLICT, "数据库中已有案件或预算项目，演示数据只能写入空库（--demo 不会改动真实数据）")
	errHalfDone = minsheng.Errorf(minsheng.ECONFLICT, "上次写入演示数据未完成，请删除数据目录后重试")
)

// Seed fills an empty store with the demo district and returns what it
// made. It refuses (ECONFLICT) a store that already holds the demo, or any
// case or budget line.
func Seed(ctx context.Context, env Env, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	st := env.Store.Collection(markerCollection)
	var m marker
	switch err := st.FindOne(ctx, markerFilter(), &m); {
	case err == nil:
		return nil, errSeeded
	case !errors.Is(err, minsheng.ErrNotFound):
		return nil, fmt.Errorf("demo: unable to read marker: %w", err)
	}
	if err := refuseRealData(ctx, env); err != nil {
		return nil, err
	}
	started := time.Now()
	if err := st.InsertOne(ctx, marker{ID: markerID, State: stateSeeding, StartedAt: started.UTC()}); err != nil {
		if errors.Is(err, minsheng.ErrDuplicate) {
			return nil, errSeeded
		}
		return nil, fmt.Errorf("demo: unable to claim the store: %w", err)
	}
	rep, err := newSeeder(env, opts).run(ctx)
	if err != nil {
		return nil, err
	}
	rep.Duration = time.Since(started).Round(time.Millisecond)
	if _, err := st.UpdateOne(ctx, markerFilter(), map[string]any{"$set": map[string]any{
		"state": stateDone, "finished_at": time.Now().UTC(), "report": rep,
	}}); err != nil {
		return nil, fmt.Errorf("demo: unable to mark the store seeded: %w", err)
	}
	return rep, nil
}

// Ensure is serve --demo: it seeds an empty store, returns the stored
// report of one seeded before (AlreadySeeded), and refuses a store with
// real data (ECONFLICT).
func Ensure(ctx context.Context, env Env, opts Options) (*Report, error) {
	var m marker
	err := env.Store.Collection(markerCollection).FindOne(ctx, markerFilter(), &m)
	switch {
	case err == nil && m.State == stateDone && m.Report != nil:
		m.Report.AlreadySeeded = true
		return m.Report, nil
	case err == nil:
		return nil, errHalfDone
	case !errors.Is(err, minsheng.ErrNotFound):
		return nil, fmt.Errorf("demo: unable to read marker: %w", err)
	}
	return Seed(ctx, env, opts)
}

func markerFilter() map[string]any { return map[string]any{"_id": markerID} }

// refuseRealData is ECONFLICT when the store holds any case or budget line.
func refuseRealData(ctx context.Context, env Env) error {
	admin := auth.Principal{UserID: "demo-seed", Name: "演示数据", Role: auth.RoleAdmin}
	cs := cases.NewService(env.Store, env.Org, env.Photos, env.Cases)
	found, _, err := cs.Find(ctx, admin, cases.Filter{Limit: 1})
	if err != nil {
		return fmt.Errorf("demo: unable to look for cases: %w", err)
	}
	if len(found) > 0 {
		return errRealData
	}
	bl := budgetlink.NewService(env.Store, budgetlink.Config{Org: env.Org, Logger: env.Logger})
	lines, _, err := bl.Lines(ctx, admin, ledger.LineFilter{Limit: 1})
	if err != nil {
		return fmt.Errorf("demo: unable to look for budget lines: %w", err)
	}
	if len(lines) > 0 {
		return errRealData
	}
	return nil
}

// clock is the demo's time: the seeder moves it to each step's moment, and
// the services it built read it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// fiscalYear picks the demo's year and "now": the current year when its
// catalog exists, else the last catalogued year as of 20 December.
func fiscalYear(now time.Time) (int, time.Time) {
	last := catalog.CatalogYearAt(now, zone)
	if last == calendar.FiscalYear(now, zone) {
		return last, now
	}
	return last, time.Date(last, 12, 20, 18, 0, 0, 0, zone)
}

// zone is where the fiscal year and working hours are counted.
var zone = calendar.Zone()

// services are the real services over the store, on the demo clock.
type services struct {
	cases    *cases.Service
	budget   *budgetlink.Service
	planning *planning.Service
}

func newServices(env Env, clk *clock) services {
	cfg := env.Cases
	cfg.Now = clk.Now
	cfg.Users = env.Auth
	if cfg.Zone == nil {
		cfg.Zone = zone
	}
	cs := cases.NewService(env.Store, env.Org, env.Photos, cfg)
	bl := budgetlink.NewService(env.Store, budgetlink.Config{Org: env.Org, Logger: env.Logger, Now: clk.Now, Zone: cfg.Zone})
	bl.SetCases(cs)
	pl := planning.NewService(env.Store, bl, cs, planning.Config{Org: env.Org, Logger: env.Logger, Now: clk.Now, Zone: cfg.Zone})
	return services{cases: cs, budget: bl, planning: pl}
}
