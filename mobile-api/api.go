// Package mobileapi is the HTTP API of the cadre app (社区干部移动端) at
// /mobile/v1: sign-in with a device name, the cadre's badges, delta sync,
// an outbox-safe case creation (PUT by client UUID), actions under an
// Idempotency-Key, retry-safe photo uploads and notifications.
//
// Handlers are thin: they decode, call one cases/budgetlink/auth verb and
// encode. No rule lives here; replays are kept by internal/idem.
package mobileapi

import (
	_ "embed"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"

	"minsheng"
	"minsheng/budgetlink"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/httpkit"
	"minsheng/internal/idem"
	"minsheng/internal/org"
)

// Prefix is where the API is mounted.
const Prefix = "/mobile/v1"

// API is the cadre app's route group (an httpkit.RouteGroup); cmd mounts it
// at the root, beside /api/v1.
type API struct {
	Auth   *auth.Service
	Cases  *cases.Service
	Budget *budgetlink.Service
	Org    *org.Directory
	Replay *idem.Store
}

//go:embed openapi.json
var openAPI []byte

// Routes registers the routes. Fixed paths come before parameters.
//
// Filings and uploads count against the same limits as /api/v1's (one
// limiter per action, whichever API is used). They are counted once the
// caller is known to be signed in: the app needs an account.
func (a API) Routes(app fiber.Router, k *httpkit.Kit) {
	fileLimit := k.ThrottleBy((*auth.Service).AllowFiling, pathUUID("id"))
	uploadLimit := k.ThrottleBy((*auth.Service).AllowUpload, pathUUID("photo"))
	noKey := func(*fiber.Ctx) string { return "" }
	m := app.Group(Prefix)
	m.Get("/openapi.json", a.openapi)
	m.Post("/auth/login", a.login)
	m.Post("/auth/refresh", a.refresh)
	m.Post("/auth/logout", a.logout)
	m.Get("/me", a.me)
	m.Get("/sync", a.sync)
	m.Get("/catalog", a.catalog)
	m.Get("/cases", k.ThrottleSearch("address"), a.list)
	m.Get("/similar", k.ThrottleSearch(), a.similar)
	m.Get("/cases/:id", a.get)
	m.Put("/cases/:id", signedIn, fileLimit, a.create)
	m.Get("/cases/:id/suggestions", a.suggestions)
	m.Post("/cases/:id/actions/:action", a.act)
	m.Post("/cases/:id/photos/uploads", signedIn, k.ThrottleBy((*auth.Service).AllowUpload, noKey), a.startUpload)
	m.Post("/cases/:id/photos/uploads/:upload/complete", a.completeUpload)
	m.Put("/cases/:id/photos/:photo", signedIn, uploadLimit, a.putPhoto)
	m.Delete("/cases/:id/photos/:photo", a.deletePhoto)
	m.Get("/notifications", a.notifications)
	m.Post("/notifications/read", a.markRead)
	// Anything else under the prefix is this API's 404, not an app page.
	m.Use(func(c *fiber.Ctx) error {
		return minsheng.Errorf(minsheng.ENOTFOUND, "接口不存在：%s %s", c.Method(), c.Path())
	})
}

// signedIn refuses anonymous callers before anything is counted for them.
func signedIn(c *fiber.Ctx) error {
	if _, err := httpkit.Principal(c); err != nil {
		return err
	}
	return c.Next()
}

// pathUUID returns the replay key of a route whose client UUID is path
// parameter name, as the handler keys its replays (lower case); none when
// it is not a UUID (the handler refuses it).
func pathUUID(name string) func(*fiber.Ctx) string {
	return func(c *fiber.Ctx) string {
		v := c.Params(name)
		if !uuidRe.MatchString(v) {
			return ""
		}
		return strings.ToLower(v)
	}
}

func (a API) openapi(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(openAPI)
}

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func checkUUID(name, v string) error {
	if !uuidRe.MatchString(v) {
		return minsheng.Invalid("标识格式不正确", map[string]string{name: "须为 UUID"})
	}
	return nil
}
