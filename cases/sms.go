package cases

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/cases/notify"
	"minsheng/internal/sms"
)

// SMSSender delivers a text message; auth.SMSSender satisfies it, so the
// sign-in codes and the case notifications share one pluggable sender.
type SMSSender = notify.SMSSender

// ActNotify records in the timeline that the resident was sent an SMS.
const ActNotify Action = "notify"

// SetSMS makes the service text residents who filed with a phone when
// their case is accepted, rejected, merged, or completed and awaiting
// their verdict. siteURL is the public base of the resident site
// (MINSHENG_PUBLIC_URL) for the link; nil sender turns it off.
func (s *Service) SetSMS(sender SMSSender, siteURL string) { s.texts.Set(sender, siteURL) }

// notify sends the SMS an event calls for, at most once per case, step and
// the version the step produced. It runs after the event was stored; a
// failure is logged, never returned: the step itself succeeded.
func (s *Service) notify(ctx context.Context, c *Case, ev Event) {
	m := notify.Text{ID: fmt.Sprintf("%s:%s:%d", c.ID, ev.Action, c.Version), CaseID: c.ID, Action: string(ev.Action), At: s.now(), Phone: c.ContactPhone}
	text, sent := s.texts.Send(ctx, m, func(site string) (sms.Message, bool) { return s.textFor(ctx, c, ev, site) })
	if !sent {
		return
	}
	// Recorded without a version change: it never conflicts with work.
	// The summary carries neither the timeline nor anything derived from it
	// (summaryOf, factsOf), so the case alone is written.
	note := Event{At: s.now(), Actor: SystemActor, Action: ActNotify, Note: "已短信通知：" + text}
	if _, err := s.cases.UpdateUnsummarized(ctx, c.ID, bson.D{{Key: "$push", Value: bson.D{{Key: "timeline", Value: note}}}}); err != nil {
		s.cfg.Logger.Warn("cases: unable to record notification", "case", c.ID, "err", err)
	}
}

// textFor is the SMS for an event, false when it calls for none
// (notify.ForResident).
func (s *Service) textFor(ctx context.Context, c *Case, ev Event, site string) (sms.Message, bool) {
	return notify.ForResident(about(c), noticeStep(ev.Action), site, func() string {
		if kept, err := s.load(ctx, c.MergedInto); err == nil {
			return kept.Number
		}
		return c.MergedInto
	})
}
