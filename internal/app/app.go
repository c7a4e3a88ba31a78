// Package app wires the product once: the store's indexes, the domain
// services (auth, cases, the budget ledger, planning, Idempotency-Key
// records) and the route groups of both APIs. serve, seed, check and demo,
// the test fixtures of the API packages and the benchmarks all build
// through it, so what a test exercises is what a district runs.
//
// app sits beside cmd at the top of the arrows: it may import every
// package; nothing but cmd, tests and benchmarks imports it.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"minsheng/budgetlink"
	"minsheng/budgetlink/planning"
	"minsheng/cases"
	"minsheng/handlers"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
	"minsheng/internal/httpkit"
	"minsheng/internal/idem"
	"minsheng/internal/media"
	"minsheng/internal/org"
	"minsheng/internal/sms"
	"minsheng/internal/store"
	mobileapi "minsheng/mobile-api"
)

// Indexes is every index the product declares, each list kept next to
// the queries that need it; Build creates them all.
func Indexes() []store.Index {
	var out []store.Index
	for _, ix := range [][]store.Index{auth.Indexes, cases.Indexes, budgetlink.Indexes, planning.Indexes, idem.Indexes,
		cases.SyncIndexes, cases.NotifyIndexes, cases.UploadIndexes, sms.Indexes} {
		out = append(out, ix...)
	}
	return out
}

// Options are what differs between a server, a one-shot command, a test
// and a benchmark.
type Options struct {
	Org    *org.Directory
	Logger *slog.Logger
	// Auth is the whole auth configuration (auth.DefaultConfig and the
	// deployment's changes).
	Auth auth.Config
	// Photos is where case photos live; nil: a store without photos
	// (benchmarks of lists and reports).
	Photos media.Storage
	// Cases configures casework; Build fills its Users, Logger, Zone and
	// Now from the options, so one clock and one zone hold everywhere.
	Cases cases.Config
	// Zone counts fiscal years and deadlines; nil: calendar.Zone.
	Zone *time.Location
	// Now is the domain services' clock; nil: time.Now.
	Now func() time.Time
	// CaseSMS sends residents who filed with a phone an SMS on each step
	// of their case, through the sign-in code's sender, with links under
	// PublicURL (empty: links relative to the site). Tests that read
	// sign-in codes from the sender leave it off.
	CaseSMS   bool
	PublicURL string
	// SMS, when set, is the outbox every text goes through (sign-in codes
	// and case messages), queued and sent by its worker (SMS.Run, started
	// by serve); nil: Auth.SMS sends at once (tests' capture boxes, the
	// one-shot commands).
	SMS *sms.Outbox
	// Demo is serve --demo: the admin console does not warn of the log sender.
	Demo bool
}

// Services are the product's services over one store.
type Services struct {
	Store    *store.Store
	Org      *org.Directory
	Auth     *auth.Service
	Cases    *cases.Service
	Budget   *budgetlink.Service
	Planning *planning.Service
	// Idem keeps /api/v1's Idempotency-Key records; Outbox the cadre
	// app's, which live longer (a phone may stay offline for days).
	Idem   *idem.Store
	Outbox *idem.Store
	// Local is the photo store when photos live in the data dir (served
	// by us at handlers.MediaPath); nil with S3, whose links are presigned.
	Local *media.Local
	// SMS is the outbox (nil without one, see Options.SMS).
	SMS    *sms.Outbox
	Demo   bool
	Zone   *time.Location
	Logger *slog.Logger
}

// Build creates every index on st and builds the services.
func Build(ctx context.Context, st *store.Store, o Options) (*Services, error) {
	if err := st.EnsureIndexes(ctx, Indexes()); err != nil {
		return nil, err
	}
	return New(st, o)
}

// New builds the services on a store whose indexes exist.
func New(st *store.Store, o Options) (*Services, error) {
	if o.Zone == nil {
		o.Zone = calendar.Zone()
	}
	if o.SMS != nil {
		o.Auth.SMS = o.SMS
	}
	authSvc, err := auth.NewService(st, o.Org, o.Auth)
	if err != nil {
		return nil, err
	}
	s := &Services{Store: st, Org: o.Org, Auth: authSvc, Zone: o.Zone, Logger: o.Logger, SMS: o.SMS, Demo: o.Demo,
		Idem:   idem.New(st, idem.Config{}),
		Outbox: idem.New(st, idem.Config{TTL: idem.OutboxTTL, Wait: idem.OutboxWait})}
	s.Local, _ = o.Photos.(*media.Local)
	ccfg := o.Cases
	ccfg.Users, ccfg.Logger, ccfg.Zone, ccfg.Now = authSvc, o.Logger, o.Zone, o.Now
	s.Cases = cases.NewService(st, o.Org, o.Photos, ccfg)
	// budgetlink implements the money effects of completing or cancelling
	// a case; SetCases wires both directions (cases never imports it).
	s.Budget = budgetlink.NewService(st, budgetlink.Config{Org: o.Org, Logger: o.Logger, Zone: o.Zone, Now: o.Now})
	s.Budget.SetCases(s.Cases)
	if o.CaseSMS {
		s.Cases.SetSMS(authSvc.SMS(), o.PublicURL)
	}
	s.Planning = planning.NewService(st, s.Budget, s.Cases, planning.Config{Org: o.Org, Logger: o.Logger, Zone: o.Zone, Now: o.Now})
	return s, nil
}

// RouteGroups are the domain APIs under /api/v1.
func (s *Services) RouteGroups() []httpkit.RouteGroup {
	return []httpkit.RouteGroup{
		handlers.CasesAPI{Cases: s.Cases, Media: s.Local, Idem: s.Idem, Zone: s.Zone, Logger: s.Logger},
		handlers.BudgetAPI{Budget: s.Budget},
		handlers.AllocationAPI{Planning: s.Planning, Reports: s.Budget.Reporter},
		handlers.SiteAPI{Cases: s.Cases, Budget: s.Budget, Auth: s.Auth, Zone: s.Zone},
		handlers.SMSAPI{Outbox: s.SMS, Demo: s.Demo},
	}
}

// RootGroups are the APIs served outside /api/v1: the cadre app's.
func (s *Services) RootGroups() []httpkit.RouteGroup {
	return []httpkit.RouteGroup{
		mobileapi.API{Auth: s.Auth, Cases: s.Cases, Budget: s.Budget, Org: s.Org, Replay: s.Outbox},
	}
}

// Handler is the HTTP server over the services: both APIs, with hc's
// deployment settings (front ends, proxies, metrics, demo mark).
func (s *Services) Handler(hc handlers.Config) *fiber.App {
	if hc.Logger == nil {
		hc.Logger = s.Logger
	}
	hc.Auth, hc.Org, hc.Store, hc.Idempotency = s.Auth, s.Org, s.Store, s.Idem
	hc.Groups, hc.RootGroups = s.RouteGroups(), s.RootGroups()
	return handlers.New(hc)
}
