package cases

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/internal/auth"
)

// This file is the one home of the resident's verdict (回访评价): who may
// give it, what it must say, what it does to the case and how it records
// who gave it. Every route — the resident site, the tracking link, the
// cadre app and the console API — calls RecordVerdict.

// Rating is a resident's verdict as a route hands it in: 满意 / 基本满意 /
// 不满意, whether the problem was solved (问题是否解决, what 解决率
// counts), and a comment.
type Rating struct {
	Verdict  Verdict
	Resolved *bool
	Comment  string
}

// CaseRef names the case a verdict is for in one of two ways: ID, for a
// signed-in caller; or Number and Token, the tracking link an anonymous
// filer was given at filing, for a caller without an account (the zero
// Principal). When Token is set, ID is ignored.
type CaseRef struct {
	ID     string
	Number string
	Token  string
}

// VerdictSource is how the resident's answer reached the case.
type VerdictSource string

// Verdict sources. A sub-district's rates (满意率, 解决率) come from these
// answers, so each says who gave it; a cadre recording the answer is
// never taken for the resident.
const (
	// VerdictByResident: the resident who filed it, signed in.
	VerdictByResident VerdictSource = "resident"
	// VerdictByLink: an anonymous filer through the tracking link they
	// were given at filing.
	VerdictByLink VerdictSource = "tracking_link"
	// VerdictOnSite: a cadre of the community recording the resident's
	// answer on the return visit (代居民录入).
	VerdictOnSite VerdictSource = "on_site"
)

// Label is the source's name in the timeline.
func (s VerdictSource) Label() string {
	switch s {
	case VerdictByResident:
		return "居民本人评价"
	case VerdictByLink:
		return "匿名居民通过查询链接评价"
	case VerdictOnSite:
		return "社区干部代居民录入"
	}
	return string(s)
}

// RecordVerdict records the resident's verdict on a completed case,
// whichever route brings it: the resident who filed it (signed in), an
// anonymous filer through their own tracking link, or a cadre of the case's
// community recording the resident's answer on site. Satisfied and basically
// satisfied close the case; dissatisfied reopens it (back to in_progress,
// its completion deadline unchanged, no completion time until the next
// completion). Every verdict is kept in Verdicts with who gave it.
//
// The rule: 不满意 needs a reason (comment). A 不满意 sends the work back
// to be done again, so the cadre must be told what is wrong; 12345's 回访
// records the reason for the same purpose; and a reopening the resident's
// words do not explain cannot be checked later against the record. The
// same rule holds for a cadre recording the answer: they ask the resident
// why and write it down.
//
// A tracking link that staff obtained for a case they filed on a
// resident's behalf (TrackingTokenFor, the QR code) only reads progress:
// the staff member holds it too, and the verdict sets the rates staff are
// judged by. That resident gives the verdict signed in with the phone the
// case was filed with (Mine links the case), or tells the cadre on site.
//
// Errors: EUNAUTHORIZED without an account (and no tracking link);
// ENOTFOUND for a wrong number or token; EFORBIDDEN for a caller who may
// not give this case's verdict, or a link that only reads; ECONFLICT for a
// stale version or a case not awaiting a verdict; EINVALID with fields.
func (s *Service) RecordVerdict(ctx context.Context, p auth.Principal, ref CaseRef, version int64, r Rating) (*Case, error) {
	c, by, err := s.verdictCase(ctx, p, ref, version)
	if err != nil {
		return nil, err
	}
	f := map[string]string{}
	if !r.Verdict.Valid() {
		f["verdict"] = "请选择满意、基本满意或不满意"
	}
	r.Comment = note(f, "comment", r.Comment, r.Verdict == VerdictDissatisfied)
	if r.Verdict == VerdictDissatisfied && f["comment"] == "必填" {
		f["comment"] = "请说明不满意的原因"
	}
	if err := invalid(f); err != nil {
		return nil, err
	}
	now := s.now()
	rec := VerdictRecord{Verdict: r.Verdict, Resolved: r.Resolved, Comment: r.Comment, At: now,
		By: by.UserID, Role: by.Role, Source: verdictSource(ref, by)}
	ch := change{
		set:  bson.D{{Key: "verdict", Value: r.Verdict}, {Key: "verdict_comment", Value: r.Comment}},
		push: bson.D{{Key: "verdicts", Value: rec}},
	}
	ev := s.event(by, ActVerdict, c.Status, StatusClosed, verdictNote(rec))
	if r.Verdict == VerdictDissatisfied {
		due := farFuture
		if c.CompletionDueAt != nil {
			due = *c.CompletionDueAt
		}
		ch.set = append(ch.set, bson.E{Key: "reopened", Value: c.Reopened + 1}, bson.E{Key: "due_at", Value: due},
			bson.E{Key: "status", Value: StatusInProgress})
		// The work is open again: it has no completion time until the
		// next completion.
		ch.unset = []string{"completed_at"}
		ev.Action, ev.To = ActReopen, StatusInProgress
	} else {
		ch.set = append(ch.set, bson.E{Key: "closed_at", Value: now}, bson.E{Key: "status", Value: StatusClosed})
	}
	out, err := s.applyChange(ctx, c.ID, version, ch, ev)
	if err != nil {
		return nil, err
	}
	if ref.Token != "" {
		return s.trackView(ctx, out)
	}
	return s.view(ctx, p, out)
}

// verdictCase loads the case a verdict is for and checks that the caller
// may give it now; by is whom the verdict is attributed to (the zero
// Principal for an anonymous filer's link).
func (s *Service) verdictCase(ctx context.Context, p auth.Principal, ref CaseRef, version int64) (*Case, auth.Principal, error) {
	if ref.Token == "" && ref.Number == "" {
		c, err := s.step(ctx, p, ref.ID, version, ActVerdict) // authorize: the filer, or a cadre of the community
		return c, p, err
	}
	c, err := s.tracked(ctx, ref.Number, ref.Token)
	if err != nil {
		return nil, auth.Principal{}, err
	}
	if !c.linkMayRate() {
		return nil, auth.Principal{}, minsheng.Errorf(minsheng.EFORBIDDEN,
			"此查询链接只能查看进度。请居民以登记的手机号登录后在“我的诉求”中评价，或由社区干部回访时记录")
	}
	c, err = s.ready(ctx, c, version, ActVerdict)
	return c, auth.Principal{}, err
}

// linkMayRate reports whether c's tracking link carries the verdict: only
// when the link was handed to the filer themselves, an anonymous resident
// on the site. A link staff obtained for a case they filed (the QR code)
// is also in their hands, so it only reads.
func (c *Case) linkMayRate() bool { return c.Anonymous && c.FiledByRole == "" }

// verdictSource names how a verdict reached the case.
func verdictSource(ref CaseRef, by auth.Principal) VerdictSource {
	switch {
	case ref.Token != "":
		return VerdictByLink
	case by.Role == auth.RoleCadre:
		return VerdictOnSite
	}
	return VerdictByResident
}

// verdictNote is the verdict's timeline text: 「不满意，问题未解决：还是有味
// （社区干部代居民录入）」.
func verdictNote(r VerdictRecord) string {
	text := r.Verdict.Label()
	if r.Resolved != nil {
		text += map[bool]string{true: "，问题已解决", false: "，问题未解决"}[*r.Resolved]
	}
	if r.Comment != "" {
		text += "：" + r.Comment
	}
	if r.Source == VerdictOnSite {
		text += "（" + r.Source.Label() + "）"
	}
	return text
}

// trackView is c as a tracking link's holder sees it, saying whether the
// link may give the verdict.
func (s *Service) trackView(ctx context.Context, c *Case) (*Case, error) {
	v, err := s.view(ctx, auth.Principal{}, c)
	if err != nil {
		return nil, err
	}
	v.LinkMayRate = c.linkMayRate()
	return v, nil
}
