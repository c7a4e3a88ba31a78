package notify

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"minsheng"
	"minsheng/internal/auth"
	"minsheng/internal/sms"
)

// What the messages say and when one is due. Casework names the step
// (Step) and hands over what a message says of the case (About).

// Kinds of staff notifications.
const (
	KindAssigned   = "assigned"
	KindDueSoon    = "due_soon"
	KindOverdue    = "overdue"
	KindVerdict    = "verdict"
	KindBudget     = "budget"
	KindWaitlisted = "waitlisted"
)

// Step is a step of a case that may call for a message.
type Step int

// Steps that call for messages.
const (
	StepNone      Step = iota
	StepAssigned       // 派单: the assignee is told
	StepVerdict        // 居民评价: the assignee is told
	StepReopen         // 不满意，重新办理: the assignee is told
	StepBudget         // 资金安排: the assignee is told
	StepAccepted       // the resident is texted
	StepCompleted      // the resident is texted, to give the verdict
	StepRejected       // the resident is texted
	StepMerged         // the resident is texted
)

// About is what a message says of a case.
type About struct {
	ID, Number, Title string
	AssignedTo        string
	Version           int64
	// Events is the length of the case's timeline, so a notice's id is
	// new for every step.
	Events       int
	VerdictLabel string
	// Anonymous, FilerID and Reason decide a resident's text and its link.
	Anonymous bool
	FilerID   string
	Reason    string
}

// ForStaff is the notification a step of c calls for to its assignee, at
// at, with the step's note; nil when it calls for none. Its id says what
// caused it (kind, case, version, timeline length), so it is stored once.
func ForStaff(c About, step Step, note string, at time.Time) *Notification {
	if c.AssignedTo == "" {
		return nil
	}
	var n *Notification
	switch step {
	case StepAssigned:
		n = &Notification{Kind: KindAssigned, Title: "新派单", Text: "派给您：" + c.Title}
	case StepVerdict, StepReopen:
		n = &Notification{Kind: KindVerdict, Title: "居民评价", Text: c.VerdictLabel + "：" + c.Title}
		if step == StepReopen {
			n.Title = "居民不满意，需重新办理"
		}
	case StepBudget:
		n = &Notification{Kind: KindBudget, Title: "资金安排", Text: note}
	default:
		return nil
	}
	n.ID = fmt.Sprintf("%s|%s|%d|%d", n.Kind, c.ID, c.Version, c.Events)
	n.UserID, n.CaseID, n.CaseNumber, n.At = c.AssignedTo, c.ID, c.Number, at
	return n
}

// ForDeadline is the "24 小时内到期" or "已超期" notice to user of a case's
// running deadline due at dueAt (text spells it out), nil when it calls for
// none. Its id — kind, case and the deadline itself — is the claim: one
// notice per case, kind and deadline however many sweeps and lists see it
// at once; a new deadline is warned about again.
func ForDeadline(c About, user, text string, overdue, dueSoon bool, dueAt, now time.Time) *Notification {
	if (!overdue && !dueSoon) || user == "" {
		return nil
	}
	n := &Notification{Kind: KindDueSoon, Title: "24 小时内到期", Text: text + "：" + c.Title}
	if overdue {
		n.Kind, n.Title = KindOverdue, "已超期"
	}
	n.ID = fmt.Sprintf("%s|%s|%d", n.Kind, c.ID, dueAt.Unix())
	n.UserID, n.CaseID, n.CaseNumber, n.At = user, c.ID, c.Number, now
	return n
}

// Waitlist is a committed allocation run's word that a need stays
// waitlisted on its line: what it needs and what the line has left.
type Waitlist struct {
	RunID  string
	CaseID string
	// Line names the budget line (item and project) the need waits on.
	Line string
	// Rank is the need's place in the line's priority order.
	Rank         int
	EstimateFen  int64
	RemainingFen int64
}

// staffLookup finds a community's cadres; auth.Service has it. Recipients
// checks for it, so tools and tests wiring no users simply notify nobody
// for unassigned cases.
type staffLookup interface {
	FindStaff(ctx context.Context, p auth.Principal, subDistrict, community string) ([]auth.User, error)
}

// Recipients are whom a waitlist notice goes to: the cadre assigned, or,
// while none is, every active cadre of the community (none when users
// cannot list them).
func Recipients(ctx context.Context, users any, assignedTo, subDistrict, community string) ([]string, error) {
	if assignedTo != "" {
		return []string{assignedTo}, nil
	}
	sl, ok := users.(staffLookup)
	if !ok {
		return nil, nil
	}
	system := auth.Principal{UserID: "system", Role: auth.RoleSubdistrict, SubDistrict: subDistrict}
	staff, err := sl.FindStaff(ctx, system, subDistrict, community)
	if err != nil {
		return nil, fmt.Errorf("cases: unable to find cadres of %s: %w", community, err)
	}
	var out []string
	for _, u := range staff {
		if u.Role == auth.RoleCadre && !u.Disabled {
			out = append(out, u.ID)
		}
	}
	return out, nil
}

// ForWaitlist is the "资金不足，已列入候补" notice of w to each of users, at
// now: once per run, case and user (the id).
func ForWaitlist(c About, w Waitlist, users []string, now time.Time) []*Notification {
	short := max(w.EstimateFen-w.RemainingFen, 0)
	text := fmt.Sprintf("%s：预计需 %s，预算项目「%s」本次分配后余 %s，尚缺 %s（优先级第 %d 位）",
		c.Title, minsheng.Yuan(w.EstimateFen), w.Line, minsheng.Yuan(w.RemainingFen), minsheng.Yuan(short), w.Rank)
	out := make([]*Notification, 0, len(users))
	for _, u := range users {
		out = append(out, &Notification{
			ID:   fmt.Sprintf("%s|%s|%s|%s", KindWaitlisted, w.RunID, c.ID, u),
			Kind: KindWaitlisted, Title: "资金不足，已列入候补", Text: text,
			UserID: u, CaseID: c.ID, CaseNumber: c.Number, At: now,
		})
	}
	return out
}

// ForResident is the text message a step of c calls for: its kind and
// template parameters (internal/sms's table, which also renders the
// text); false when the step calls for none. site is the resident site's
// public base ("" when not configured); mergedInto gives the number of the
// case c was merged into, read only for a merge.
func ForResident(c About, step Step, site string, mergedInto func() string) (sms.Message, bool) {
	// Without a public URL there is no link to give: the resident is told
	// where to look instead of getting a path that opens nothing.
	// A case staff filed for this phone and no account yet is linked
	// when the resident signs in with it (Mine), which is also the way
	// they give the verdict: the QR link staff hold only reads.
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
	p := map[string]string{"number": c.Number, "link": link}
	var kind sms.Kind
	switch step {
	case StepAccepted:
		kind = sms.KindAccepted
	case StepCompleted:
		kind = sms.KindCompleted
	case StepRejected:
		kind, p["reason"] = sms.KindRejected, c.Reason
	case StepMerged:
		kind, p["into"] = sms.KindMerged, mergedInto()
	default:
		return sms.Message{}, false
	}
	m, err := sms.New("", kind, "", p)
	return m, err == nil
}

// Sweep is one periodic job of Every: Run does it and returns how many
// things it made or expired; Name and Done word its log lines.
type Sweep struct {
	Name string // "deadline sweep"
	Done string // "deadline sweep: notices created"
	Unit string // "notices"
	Run  func(context.Context) (int, error)
}

// Every runs the sweeps at once and then every interval until ctx ends
// (the server's shutdown), and returns then. A failed sweep is logged and
// tried again at the next tick.
func Every(ctx context.Context, interval time.Duration, log *slog.Logger, sweeps ...Sweep) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, sw := range sweeps {
			if n, err := sw.Run(ctx); err != nil && ctx.Err() == nil {
				log.Warn(sw.Name, "err", err)
			} else if n > 0 {
				log.Info(sw.Done, sw.Unit, n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
