package handlers

import (
	"github.com/gofiber/fiber/v2"

	"minsheng/internal/auth"
	"minsheng/internal/httpkit"
	"minsheng/internal/sms"
)

// SMSAPI is the admins' view of the SMS outbox (internal/sms): which
// sender is configured, whether residents can sign in by SMS, and the
// latest messages with their state — masked phones, never a code.
type SMSAPI struct {
	// Outbox is nil where messages are not queued (the one-shot commands,
	// tests reading codes from a capture box): the mode is then log.
	Outbox *sms.Outbox
	// Demo is serve --demo, where the log sender is the point.
	Demo bool
}

// Routes registers GET /admin/sms.
func (a SMSAPI) Routes(api fiber.Router, _ *httpkit.Kit) {
	api.Get("/admin/sms", a.list)
}

func (a SMSAPI) list(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := p.RequireRole(auth.RoleAdmin); err != nil {
		return err
	}
	bad := httpkit.RouteQuery(c, "state")
	state := c.Query("state")
	switch state {
	case "", sms.StateQueued, sms.StateSending, sms.StateSent, sms.StateFailed:
	default:
		bad["state"] = "可选 queued、sending、sent、failed"
	}
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	mode := "log"
	out := sms.Summary{Counts: map[string]int{}, Items: []sms.Record{}}
	if a.Outbox != nil {
		mode = a.Outbox.Mode()
		if out, err = a.Outbox.List(c.UserContext(), state); err != nil {
			return err
		}
	}
	warning := ""
	if mode == "log" && !a.Demo {
		warning = sms.NoSenderWarning
	}
	return c.JSON(fiber.Map{"mode": mode, "demo": a.Demo, "reaches_phones": mode != "log",
		"warning": warning, "counts": out.Counts, "items": out.Items})
}
