package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/budgetlink"
	"minsheng/budgetlink/catalog"
	"minsheng/budgetlink/planning"
	"minsheng/cases"
	"minsheng/demo"
	"minsheng/handlers"
	"minsheng/internal/app"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
	"minsheng/internal/config"
	"minsheng/internal/idem"
	"minsheng/internal/media"
	"minsheng/internal/org"
	"minsheng/internal/sms"
	"minsheng/internal/store"
	"minsheng/static"
)

// deps is everything serve and the other subcommands build from config.
type deps struct {
	cfg    config.Config
	logger *slog.Logger
	store  *store.Store
	org    *org.Directory
	auth   *auth.Service
	photos media.Storage
	// local is the photo store when it is the data dir (served by us);
	// nil with S3, whose URLs are presigned.
	local    *media.Local
	cases    *cases.Service
	casesCfg cases.Config
	budget   *budgetlink.Service
	planning *planning.Service
	idem     *idem.Store
	// sms is the outbox every text goes through; serve runs its worker.
	sms  *sms.Outbox
	zone *time.Location
	// svc is what the fields above come from: the one wiring.
	svc *app.Services
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// open connects the store, creates indexes, seeds the org structure and
// builds the services. The caller closes d.store.
func open(ctx context.Context, cfg config.Config, logger *slog.Logger) (*deps, error) {
	st, err := store.Open(ctx, store.Config{URI: cfg.MongoURI, Database: cfg.MongoDB, DataDir: cfg.DataDir, Logger: logger})
	if err != nil {
		return nil, err
	}
	d := &deps{cfg: cfg, logger: logger, store: st}
	if err := d.init(ctx); err != nil {
		_ = st.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return d, nil
}

func (d *deps) init(ctx context.Context) error {
	if err := d.store.EnsureIndexes(ctx, app.Indexes()); err != nil {
		return err
	}
	dir, err := loadOrg(ctx, d.store)
	if err != nil {
		return err
	}
	d.org = dir
	secret, err := auth.LoadSecret(d.cfg.DataDir, d.cfg.JWTSecret)
	if err != nil {
		return err
	}
	if d.cfg.MongoURI != "" && d.cfg.JWTSecret == "" {
		d.logger.Warn("MINSHENG_JWT_SECRET is not set: each instance keeps its own key in its data dir, so tokens only work on the instance that issued them; set it when running several instances")
	}
	acfg := auth.DefaultConfig(secret, d.logger)
	acfg.AccessTTL, acfg.RefreshTTL = d.cfg.AccessTTL, d.cfg.RefreshTTL
	if d.cfg.Demo {
		acfg.FixedCodes = demo.FixedCodes() // the demo resident's SMS code, demo mode only
	}
	if err := d.openPhotos(ctx, secret); err != nil {
		return err
	}
	d.zone = calendar.Zone()
	casesCfg := cases.Config{NumberPrefix: d.cfg.CasePrefix, TokenSecret: derive(secret, "case-tracking-token")}
	sender, err := sms.NewSender(d.cfg.SMS, d.logger)
	if err != nil {
		return err
	}
	d.sms = sms.NewOutbox(d.store, sender, d.logger, sms.OutboxConfig{})
	svc, err := app.New(d.store, app.Options{Org: dir, Logger: d.logger, Auth: acfg, Photos: d.photos, Zone: d.zone,
		Cases: casesCfg, CaseSMS: true, PublicURL: d.cfg.PublicURL, SMS: d.sms, Demo: d.cfg.Demo})
	if err != nil {
		return err
	}
	d.svc, d.auth, d.cases, d.budget, d.planning, d.idem = svc, svc.Auth, svc.Cases, svc.Budget, svc.Planning, svc.Idem
	// The demo builds its own services on its clock with the same settings.
	casesCfg.Users, casesCfg.Zone, casesCfg.Logger = d.auth, d.zone, d.logger
	d.casesCfg = casesCfg
	// Load this fiscal year's catalog now so a broken data file shows at
	// start; a year without one is served (older years still work) but
	// finance must add its catalog before booking lines in it.
	year := calendar.FiscalYear(time.Now(), d.zone)
	if _, err := d.budget.Catalog(year); err != nil {
		d.logger.Warn("no expenditure catalog for the current fiscal year; add budgetlink/catalog/catalogdata/fy<year>.json",
			"fiscal_year", year, "available", catalog.CatalogFiscalYears())
	}
	return nil
}

// openPhotos picks the photo store: S3 when configured, else the data dir.
func (d *deps) openPhotos(ctx context.Context, secret []byte) error {
	if d.cfg.S3Endpoint != "" {
		s3, err := media.NewS3(ctx, media.S3Config{
			Endpoint: d.cfg.S3Endpoint, AccessKey: d.cfg.S3AccessKey, SecretKey: d.cfg.S3SecretKey,
			Bucket: d.cfg.S3Bucket, Region: d.cfg.S3Region, UseSSL: d.cfg.S3UseSSL,
		})
		if err != nil {
			return err
		}
		d.photos = s3
		return nil
	}
	// Photo links are absolute under MINSHENG_PUBLIC_URL, so an SMS, a
	// shared board page or another app can use them as they are.
	local, err := media.NewLocal(filepath.Join(d.cfg.DataDir, "media"), derive(secret, "media-url"),
		strings.TrimRight(d.cfg.PublicURL, "/")+handlers.MediaPath)
	if err != nil {
		return err
	}
	d.photos, d.local = local, local
	return nil
}

// derive gives each use of the one secret its own key, so a leaked photo
// link signature says nothing about tokens.
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// orgDoc is the stored org structure: seeded at first start, then read back
// so the database, not the binary, is what the running system trusts.
type orgDoc struct {
	ID       string       `bson:"_id"`
	District org.District `bson:"district"`
	SeededAt time.Time    `bson:"seeded_at"`
}

func loadOrg(ctx context.Context, st *store.Store) (*org.Directory, error) {
	c := st.Collection("org")
	seed := org.Xicheng().District()
	err := c.InsertOne(ctx, orgDoc{ID: seed.Code, District: seed, SeededAt: time.Now().UTC()})
	if err != nil && !errors.Is(err, minsheng.ErrDuplicate) {
		return nil, fmt.Errorf("unable to seed org: %w", err)
	}
	var doc orgDoc
	if err := c.FindOne(ctx, bson.M{"_id": seed.Code}, &doc); err != nil {
		return nil, fmt.Errorf("unable to load org: %w", err)
	}
	return org.NewDirectory(doc.District)
}

// storeCommand is the flag set of a subcommand that opens the data
// directory: its own flags plus --data.
type storeCommand struct {
	*flag.FlagSet
	data *string
}

func newStoreCommand(name string, stderr io.Writer) storeCommand {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return storeCommand{fs, fs.String("data", "", "data directory (default MINSHENG_DATA or ./data)")}
}

// open parses args and opens the store; the caller closes d.store.
func (c storeCommand) open(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) (*deps, error) {
	if err := c.Parse(args); err != nil {
		return nil, err
	}
	return openForCommand(ctx, *c.data, getenv, stderr)
}

// openForCommand opens the stores for a one-shot subcommand (users add,
// check): configuration from the environment, data dir from its flag, and a
// quiet logger so the command's own output stays readable.
func openForCommand(ctx context.Context, dataDir string, getenv func(string) string, stderr io.Writer) (*deps, error) {
	var args []string
	if dataDir != "" {
		args = []string{"-data", dataDir}
	}
	cfg, err := config.Load(args, getenv, stderr)
	if err != nil {
		return nil, err
	}
	return open(ctx, cfg, newLogger("warn", stderr))
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	args, demoMode := takeFlag(args, "demo")
	cfg, err := config.Load(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg.Demo = demoMode
	logger := newLogger(cfg.LogLevel, stdout)
	logger.Info("minsheng starting", "config", cfg, "demo", cfg.Demo)
	if !cfg.SMS.Real() && !cfg.Demo {
		logger.Warn(sms.NoSenderWarning, "MINSHENG_SMS", "log")
	}

	d, err := open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := d.close(cctx); err != nil {
			logger.Error("store close", "err", err)
		}
		logger.Info("store closed")
	}()

	if err := d.prepare(ctx, stderr); err != nil {
		return err
	}

	reg := handlers.NewRegistry()
	app := d.svc.Handler(handlers.Config{
		Logger: logger, Registry: reg, MetricsToken: cfg.MetricsToken,
		ProxyHeader: cfg.ProxyHeader, TrustedProxies: cfg.TrustedProxies, Static: static.FS,
		Apps: []handlers.App{{Prefix: "/m/", Dir: "m"}, {Prefix: "/console/", Dir: "console"}, {Prefix: "/", Dir: "site"}},
		Demo: cfg.Demo,
		Map:  handlers.MapTiles{URL: cfg.MapTiles, Attribution: cfg.MapAttribution, Datum: cfg.MapDatum, Subdomains: cfg.MapSubdomains},
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("unable to listen on %s: %w", cfg.Addr, err)
	}
	logger.Info("listening", "addr", ln.Addr().String(), "engine", engineName(d.store))
	stopMetrics, err := serveMetrics(cfg, reg, logger)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer stopMetrics()

	defer d.background(ctx)()

	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	// fasthttp waits for idle keep-alive connections too, up to their read
	// timeout; bounding the wait keeps the whole stop inside a container's
	// grace period (10 s by default), so the store is always closed cleanly.
	if err := app.ShutdownWithTimeout(shutdownTimeout); err != nil {
		logger.Error("shutdown", "err", err)
	}
	<-served
	return nil
}

// prepare makes the store ready for requests: what the last run left
// unfinished is finished, the demo district seeded (serve --demo), the
// admin account created.
func (d *deps) prepare(ctx context.Context, stderr io.Writer) error {
	// Queue summaries a crash left behind their case are rewritten first
	// (only those, from their pending marks; `minsheng check` compares all),
	// and built once for a data directory from before them.
	if n, err := d.cases.EnsureSummaries(ctx); err != nil {
		return fmt.Errorf("case summaries: %w", err)
	} else if n > 0 {
		d.logger.Warn("case summaries repaired after an interrupted write", "cases", n)
	}
	// The ledger is checked and repaired before any request can touch it,
	// so a crash mid-operation in the last run is finished first.
	rep, err := d.budget.Check(ctx)
	if err != nil {
		return fmt.Errorf("ledger check: %w", err)
	}
	logCheck(d.logger, rep)

	if d.cfg.Demo {
		if err := serveDemo(ctx, d, stderr); err != nil {
			return err
		}
	}

	created, generated, err := d.auth.EnsureAdmin(ctx, d.cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("unable to create admin account: %w", err)
	}
	if created && generated != "" {
		fmt.Fprintf(stderr, "\n  管理员账号已创建 / admin account created\n  username: admin\n  password: %s\n  (shown once; set MINSHENG_ADMIN_PASSWORD to choose it)\n\n", generated)
	}

	// One process owns an embedded data dir: a request left pending in an
	// Idempotency-Key record died with the last process, so its retry may
	// run now instead of waiting out the lease.
	if d.store.Embedded() {
		if n, err := d.idem.ReleasePending(ctx, time.Now()); err != nil {
			return err
		} else if n > 0 {
			d.logger.Info("idempotency: released keys of requests cut off by the last stop", "keys", n)
		}
	}
	return nil
}

// background starts the sweeps and the reports' warm-up; the function it
// returns stops them and waits, so the store closes after them.
func (d *deps) background(ctx context.Context) (stop func()) {
	go sweepLoop(ctx, d, d.logger)
	// Deadline notices come from a sweep, not only when a list is opened;
	// it stops with serve, which waits for it before closing the store.
	sweepCtx, stopSweep := context.WithCancel(ctx)
	deadlinesDone := make(chan struct{})
	go func() { defer close(deadlinesDone); d.cases.RunDeadlineSweep(sweepCtx, d.cfg.DeadlineSweep) }()
	// The reports' caches are filled in the background, so the first
	// district-wide report after a start answers from them (at 50,000
	// cases a cold fill is seconds of engine time).
	warmDone := make(chan struct{})
	go func() { defer close(warmDone); warmReports(sweepCtx, d, d.logger) }()
	// The SMS worker sends what was queued (also by earlier runs and by
	// one-shot commands); a send under way finishes before it stops.
	smsDone := make(chan struct{})
	go func() { defer close(smsDone); d.sms.Run(sweepCtx) }()
	return func() { stopSweep(); <-deadlinesDone; <-warmDone; <-smsDone }
}

// close writes the summaries of the last filings, which wait to be
// written together (were that to fail, the next start writes them from
// the cases), and closes the store.
func (d *deps) close(ctx context.Context) error {
	return errors.Join(d.cases.FlushSummaries(ctx), d.store.Close(ctx))
}

// shutdownTimeout bounds how long a stop waits for requests in flight.
const shutdownTimeout = 7 * time.Second

func engineName(st *store.Store) string {
	switch {
	case st.Embedded():
		return "embedded FerretDB"
	case st.IsFerretDB():
		return "FerretDB"
	}
	return "MongoDB"
}

// sweepLoop clears expired rate-limit windows and re-checks the ledger
// every few minutes and, once
// at start and then daily, blanks residents' personal data in cases closed
// longer ago than the retention period (PIPL).
func sweepLoop(ctx context.Context, d *deps, logger *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	var lastPurge time.Time
	for {
		if time.Since(lastPurge) >= 24*time.Hour {
			lastPurge = time.Now()
			before := lastPurge.AddDate(0, 0, -d.cfg.RetentionDays)
			n, err := d.cases.PurgePersonalData(ctx, before)
			switch {
			case err != nil && ctx.Err() == nil:
				logger.Warn("retention purge", "err", err)
			case n > 0:
				logger.Info("retention purge: personal data removed", "cases", n, "closed_before", before)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := d.auth.Limiter().Sweep(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("rate limit sweep", "err", err)
			}
			if err := d.auth.SweepCodes(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("sign-in code sweep", "err", err)
			}
			if _, err := d.idem.Purge(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("idempotency purge", "err", err)
			}
			// Finishes adjustments and imports a crash left pending; the
			// one at start skips those younger than a minute.
			if rep, err := d.budget.Check(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("ledger check", "err", err)
			} else if err == nil && !rep.OK() {
				logCheck(logger, rep)
			}
		}
	}
}

func printConfigHelp(w io.Writer) {
	fmt.Fprintln(w, "\nconfiguration (environment variable, default, meaning):")
	config.Help(w)
}

// warmReports fills the reports' facts cache and the current year's lines
// (embedded engine only) and logs what it read and how long it took.
func warmReports(ctx context.Context, d *deps, logger *slog.Logger) {
	start := time.Now()
	n, err := d.cases.WarmFacts(ctx)
	if err == nil {
		var lines int
		lines, err = d.budget.WarmReportLines(ctx, calendar.FiscalYear(time.Now(), d.zone))
		if err == nil && (n > 0 || lines > 0) {
			logger.Info("report caches warmed", "case_summaries", n, "lines", lines, "took", time.Since(start).Round(time.Millisecond).String())
		}
	}
	if err != nil && ctx.Err() == nil {
		logger.Warn("report caches not warmed; the first reports fill them", "err", err)
	}
}

// serveMetrics starts the listener of MINSHENG_METRICS_ADDR, which serves
// only /metrics, and says in the log where the metrics can be read: there,
// on the main address with MINSHENG_METRICS_TOKEN, or nowhere. The
// function it returns stops the listener.
func serveMetrics(cfg config.Config, reg *prometheus.Registry, logger *slog.Logger) (func(), error) {
	switch {
	case cfg.MetricsToken != "":
		logger.Info("metrics: GET /metrics on the main address needs Authorization: Bearer <MINSHENG_METRICS_TOKEN>")
	case cfg.MetricsAddr == "":
		logger.Info("metrics: not served (GET /metrics answers 404); set MINSHENG_METRICS_ADDR or MINSHENG_METRICS_TOKEN to scrape them")
	}
	if cfg.MetricsAddr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("unable to listen on %s for metrics: %w", cfg.MetricsAddr, err)
	}
	srv := &http.Server{Handler: handlers.MetricsHandler(reg), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics listener", "err", err)
		}
	}()
	logger.Info("metrics: GET /metrics without a token on the metrics address", "metrics_addr", ln.Addr().String(), "main_address", mainMetrics(cfg))
	return func() { _ = srv.Close() }, nil
}

// mainMetrics says what GET /metrics answers on the main address.
func mainMetrics(cfg config.Config) string {
	if cfg.MetricsToken != "" {
		return "needs the metrics token"
	}
	return "404"
}
