// Package handlers is the HTTP API for the resident site and the console
// (/api/v1) plus the operational endpoints. Handlers are thin: decode, call
// one service method, encode. The request rules (decoding, queries,
// versions, principal, limits, error rendering) are internal/httpkit's,
// shared with the cadre app's /mobile/v1.
package handlers

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"minsheng"
	"minsheng/internal/auth"
	"minsheng/internal/httpkit"
	"minsheng/internal/idem"
	"minsheng/internal/org"
)

// Limits on what a client may send.
const (
	// BodyLimit admits one photo (10 MB) plus multipart overhead.
	BodyLimit = 12 << 20
	// ReadBufferSize bounds the request line plus headers (fasthttp's
	// default of 4 KB refused a 5 KB cookie); more is 431.
	ReadBufferSize = 32 << 10
	// MaxURILength bounds the request target (path and query): enough for
	// /cases/similar with its longest text (2,050 characters, URL-encoded);
	// more is 414.
	MaxURILength = 24 << 10
)

// Pinger answers whether the store is reachable (for /readyz).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config is what the server needs from cmd.
type Config struct {
	Auth   *auth.Service
	Org    *org.Directory
	Store  Pinger
	Groups []httpkit.RouteGroup
	// Idempotency stores Idempotency-Key records; nil binds keys to their
	// caller and route for the domain services but stores no answers.
	Idempotency *idem.Store
	Logger      *slog.Logger
	// Registry receives the HTTP metrics; nil makes a fresh one
	// (NewRegistry).
	Registry *prometheus.Registry
	// MetricsToken is the bearer token GET /metrics asks for on this
	// app; empty: this app serves no /metrics (404), as the statistics
	// are not for anyone who asks. cmd may serve them on a listen address
	// of their own instead (MetricsHandler).
	MetricsToken string
	// ProxyHeader and TrustedProxies make the client's address come from
	// a trusted reverse proxy's header (rate limits, logs); empty: the
	// connection's address.
	ProxyHeader    string
	TrustedProxies []string
	// Static holds the front ends (static.FS); nil serves the API only.
	Static fs.FS
	// Apps are the front ends in Static, served at their prefixes.
	Apps []App
	// RootGroups register under their own prefix (mobileapi: /mobile/v1).
	RootGroups []httpkit.RouteGroup
	// Demo marks every response with X-Minsheng-Demo: 1 (serve --demo), so
	// nobody mistakes the demo district for production.
	Demo bool
	// Map is the maps' tile source (GET /api/v1/map); zero: outlines only.
	Map MapTiles
}

// Server holds the dependencies the handlers share.
type Server struct {
	*httpkit.Kit
	store   Pinger
	logger  *slog.Logger
	metrics *httpMetrics
	idem    *idem.Store
	abandon *abandonMetrics
}

// New builds the Fiber app with its middleware and every route.
func New(cfg Config) *fiber.App {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	reg := cfg.Registry
	if reg == nil {
		reg = NewRegistry()
	}
	s := &Server{Kit: &httpkit.Kit{Auth: cfg.Auth, Org: cfg.Org}, store: cfg.Store, logger: cfg.Logger, metrics: newHTTPMetrics(reg), idem: cfg.Idempotency}
	s.abandon = newAbandonMetrics(reg)

	app := s.fiberApp(cfg)
	s.middleware(app, cfg, reg)
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/readyz", s.readyz)

	api := app.Group("/api/v1")
	s.accountRoutes(api)
	mapRoute(api, cfg.Map, cfg.Org)
	for _, g := range cfg.Groups {
		g.Routes(api, s.Kit)
	}
	// Groups outside /api/v1 (the cadre app's /mobile/v1) mount themselves.
	for _, g := range cfg.RootGroups {
		g.Routes(app, s.Kit)
	}
	if cfg.Static != nil {
		mountStatic(app, cfg.Static)
		if len(cfg.Apps) > 0 {
			mountApps(app, cfg.Static, cfg.Apps, cfg.Demo)
		}
	}
	app.Use(func(c *fiber.Ctx) error {
		return minsheng.Errorf(minsheng.ENOTFOUND, "接口不存在：%s %s", c.Method(), c.Path())
	})
	return app
}

// fiberApp is the server's Fiber app: limits, timeouts, the error
// handler and the proxy settings.
func (s *Server) fiberApp(cfg Config) *fiber.App {
	return fiber.New(fiber.Config{
		AppName:               "minsheng",
		BodyLimit:             BodyLimit,
		ReadBufferSize:        ReadBufferSize,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		ErrorHandler:          s.errorHandler,
		DisableStartupMessage: true,
		// Values read from a request are copied, so nothing a handler keeps
		// is overwritten when fasthttp reuses its buffers (docs/ARCHITECTURE.md, conventions).
		Immutable:               true,
		ProxyHeader:             cfg.ProxyHeader,
		EnableTrustedProxyCheck: cfg.ProxyHeader != "",
		TrustedProxies:          cfg.TrustedProxies,
		EnableIPValidation:      true,
	})
}

// middleware runs on every request, in order: the demo mark, observation
// (logs and metrics of the final status), the request's context and id,
// URI and security headers, compression, then /metrics ahead of
// authentication and the Idempotency-Key replay after it.
func (s *Server) middleware(app *fiber.App, cfg Config, reg *prometheus.Registry) {
	if cfg.Demo {
		app.Use(func(c *fiber.Ctx) error { c.Set("X-Minsheng-Demo", "1"); return c.Next() })
	}
	// observe comes first: every panic and error of the chain is logged and
	// counted with its final status.
	app.Use(s.observe)
	app.Use(s.requestContext)
	app.Use(requestid.New(requestid.Config{ContextKey: "requestid"}))
	app.Use(limitURI)
	app.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; script-src 'self'",
		ReferrerPolicy:        "same-origin",
		// credentialless, not helmet's require-corp: map tiles (and S3
		// photos) come from other origins that send no
		// Cross-Origin-Resource-Policy; they load without credentials.
		CrossOriginEmbedderPolicy: "credentialless",
	}))
	app.Use(compress.New())
	// Before authenticate: the metrics token is not a user's token.
	if cfg.MetricsToken != "" {
		app.Get("/metrics", metricsToken(cfg.MetricsToken), adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	}
	app.Use(s.Authenticate)
	app.Use(s.idempotency)

}

// accountRoutes are sign-in, the caller, accounts and the org tree.
func (s *Server) accountRoutes(api fiber.Router) {
	api.Get("/openapi.json", openapi)
	api.Post("/auth/login", s.login)
	api.Post("/auth/refresh", s.refresh)
	api.Post("/auth/logout", s.logout)
	api.Post("/auth/otp", s.requestOTP)
	api.Post("/auth/otp/verify", s.verifyOTP)
	api.Get("/me", s.me)
	api.Post("/users", s.createUser)
	api.Get("/users", s.listUsers)
	api.Patch("/users/:id", s.updateUser)
	api.Post("/users/:id/password", s.setPassword)
	api.Get("/org", s.orgTree)
	api.Get("/org/communities/:code/staff", s.communityStaff)
	api.Get("/org/sub-districts/:code/staff", s.subDistrictStaff)
}

// errorHandler renders every error (httpkit.RenderError); a request
// refused before observe saw it is still logged and counted.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	if _, observed := c.Locals(observedKey).(time.Time); !observed {
		defer s.record(c, "unparsed", time.Time{})
	}
	return httpkit.RenderError(c, err, s.logger)
}

// observedKey holds when observe saw the request start; routeLabelKey a
// route label for requests answered before any route ran (replays).
const (
	observedKey   = "observed_at"
	routeLabelKey = "route_label"
)

// observe writes the structured access log and the request metrics. It
// recovers panics and renders errors itself, so both see every request
// with its final status.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	c.Locals(observedKey, start)
	if err := s.nextRecovering(c); err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			return herr
		}
	}
	route := c.Route().Path
	if label, ok := c.Locals(routeLabelKey).(string); ok {
		route = label
	} else if c.Response().StatusCode() == fiber.StatusNotFound && route == "/" {
		route = "unmatched"
	}
	s.record(c, route, start)
	return nil
}

// nextRecovering runs the rest of the chain, turning a panic into a logged
// internal error instead of a dropped connection.
func (s *Server) nextRecovering(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			rid, _ := c.Locals("requestid").(string)
			s.logger.Error("panic in handler", "panic", fmt.Sprint(r), "request_id", rid, "path", c.Path(), "stack", string(debug.Stack()))
			err = &minsheng.Error{Code: minsheng.EINTERNAL, Message: "服务器内部错误", Err: fmt.Errorf("panic: %v", r)}
		}
	}()
	return c.Next()
}

// record writes the access log line and the metrics of a finished request;
// a zero start means the request was refused before it was read.
func (s *Server) record(c *fiber.Ctx, route string, start time.Time) {
	status := c.Response().StatusCode()
	var elapsed time.Duration
	if !start.IsZero() {
		elapsed = time.Since(start)
	}
	s.metrics.observe(c.Method(), route, status, elapsed)
	rid, _ := c.Locals("requestid").(string)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("request_id", rid), slog.String("method", c.Method()), slog.String("path", c.Path()),
		slog.String("route", route), slog.Int("status", status), slog.Duration("duration", elapsed),
		slog.String("ip", c.IP()), slog.Int("bytes", len(c.Response().Body())),
	}
	if p, ok := httpkit.OptionalPrincipal(c); ok {
		attrs = append(attrs, slog.String("user_id", p.UserID), slog.String("role", string(p.Role)))
	}
	s.logger.LogAttrs(c.UserContext(), level, "http", attrs...)
}

// limitURI refuses a request target longer than MaxURILength with 414
// (longer still, fasthttp refuses the whole head with 431).
func limitURI(c *fiber.Ctx) error {
	if len(c.Request().RequestURI()) > MaxURILength {
		return minsheng.Errorf(minsheng.EURITOOLONG, "请求地址过长（不能超过 24 KB）")
	}
	return c.Next()
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "minsheng_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "minsheng_http_request_duration_seconds", Help: "HTTP request latency by route, method and status.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	st := strconv.Itoa(status)
	m.requests.WithLabelValues(route, method, st).Inc()
	m.latency.WithLabelValues(route, method, st).Observe(d.Seconds())
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.logger.Warn("readyz: store unreachable", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "store": "unreachable"})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// withBody serves a request whose JSON body is the whole input of one
// service call, answering 200 with its result.
func withBody[In, Out any](call func(context.Context, auth.Principal, In) (Out, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := httpkit.Principal(c)
		if err != nil {
			return err
		}
		var in In
		if err := httpkit.BindJSON(c, &in); err != nil {
			return err
		}
		out, err := call(c.UserContext(), p, in)
		if err != nil {
			return err
		}
		return c.JSON(out)
	}
}

// JSON writes v with status 200, or the given status.
func JSON(c *fiber.Ctx, v any, status ...int) error {
	if len(status) > 0 {
		c.Status(status[0])
	}
	return c.JSON(v)
}
