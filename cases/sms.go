package cases

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/cases/notify"
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
	text, sent := s.texts.Send(ctx, m, func(site string) string { return s.notificationText(ctx, c, ev, site) })
	if !sent {
		return
	}
	// Recorded without a version change: it never conflicts with work.
	// The summary carries neither the timeline nor anything derived from it
	// (summaryOf, factsOf), so the case alone is written.
	note := Event{At: s.now(), Actor: "system", Action: ActNotify, Note: "已短信通知：" + text}
	if _, err := s.cases.UpdateUnsummarized(ctx, c.ID, bson.D{{Key: "$push", Value: bson.D{{Key: "timeline", Value: note}}}}); err != nil {
		s.cfg.Logger.Warn("cases: unable to record notification", "case", c.ID, "err", err)
	}
}

// notificationText is the SMS for an event, "" when it calls for none.
func (s *Service) notificationText(ctx context.Context, c *Case, ev Event, site string) string {
	// Without a public URL there is no link to give: the resident is told
	// where to look instead of getting a path that opens nothing.
	// A case staff filed for this phone and no account yet is linked
	// when the resident signs in with it (Mine), which is also the way
	// they give the verdict: the QR link staff hold only reads (verdict.go).
	link := "请登录民生诉求网站“我的诉求”"
	if c.Anonymous {
		link = "请打开提交时保存的查询链接"
	}
	if site != "" {
		switch {
		case c.Anonymous:
			link = site + "/track?number=" + c.Number
		case c.FilerID == "":
			link = site + "/mine"
		default:
			link = site + "/mine/" + c.ID
		}
	}
	switch ev.Action {
	case ActAccept:
		return fmt.Sprintf("【民生】您的诉求%s已受理，我们将尽快办理。查看进度：%s", c.Number, link)
	case ActComplete:
		return fmt.Sprintf("【民生】您的诉求%s已办结，请对办理结果进行评价：%s", c.Number, link)
	case ActReject:
		return fmt.Sprintf("【民生】您的诉求%s不予受理，原因：%s。详情：%s", c.Number, c.Reason, link)
	case ActMerge:
		into := c.MergedInto
		if kept, err := s.load(ctx, c.MergedInto); err == nil {
			into = kept.Number
		}
		return fmt.Sprintf("【民生】您的诉求%s与相同诉求合并，并入%s一并办理。详情：%s", c.Number, into, link)
	}
	return ""
}
