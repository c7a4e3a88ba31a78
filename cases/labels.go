package cases

import (
	"strconv"
	"strings"
	"time"

	"minsheng/internal/auth"
)

// This file is the one home of what a case view says in words (STYLE rule
// 11): the status and verdict labels, the steps this caller may take now
// with their button labels, and the running deadline with its text. Every
// view of both APIs carries them (Service.view fills them), so the three
// front ends keep no tables of their own and the two APIs cannot differ.

// ActionOption is one step the caller may take on a case now.
type ActionOption struct {
	Action Action `json:"action"`
	// Label is the step's button, in the words of the one who takes it
	// (受理, 派单, 退单, 现场评估, 回访评价 …).
	Label string `json:"label"`
	// NeedsAfterPhoto is set on complete while no after-photo is attached:
	// the app asks for one before sending.
	NeedsAfterPhoto bool `json:"needs_after_photo,omitempty"`
	// To and ToLabel are the state the step leads to (the transition
	// table's target), and Then the steps the same caller may take from
	// there — the cadre app's lookahead (ActionsAhead), so a phone with no
	// signal can queue 开始办理 → 办结 → 回访 in order without a table of its
	// own. Empty on /api/v1.
	To      Status         `json:"to,omitempty"`
	ToLabel string         `json:"to_label,omitempty"`
	Then    []ActionOption `json:"then,omitempty"`
}

// ActionsFor lists, in workflow order, the transitions p may take on c in
// its current state: the steps the transition table allows from c's state
// (AllowedFrom) that authorize lets p take — the same checks the verbs make.
// A public view (a co-signer's) offers none.
func ActionsFor(p auth.Principal, c *Case) []ActionOption {
	out := []ActionOption{}
	if c.publicView {
		return out
	}
	for _, a := range AllowedFrom(c.Status) {
		if authorize(p, c, a) != nil {
			continue
		}
		o := ActionOption{Action: a, Label: buttonLabel(a, p.Role)}
		if a == ActComplete && !c.HasPhoto(TagAfter) {
			o.NeedsAfterPhoto = true
		}
		out = append(out, o)
	}
	return out
}

// maxAhead bounds the lookahead: the longest run of steps one caller
// takes in a row (a cadre: 现场评估 → 开始办理 → 办结 → 回访).
const maxAhead = 4

// ActionsAhead is ActionsFor with each step's target state and the steps
// p may take from there, computed by the same table and checks on a copy
// of c moved to that state (a step with no target, the verdict's — which
// RecordVerdict decides — ends the chain).
func ActionsAhead(p auth.Principal, c *Case) []ActionOption {
	return actionsAhead(p, c, maxAhead)
}

func actionsAhead(p auth.Principal, c *Case, depth int) []ActionOption {
	out := ActionsFor(p, c)
	for i, o := range out {
		to := o.Action.target()
		if to == "" {
			continue
		}
		out[i].To, out[i].ToLabel = to, to.Label()
		// A step that keeps the state (现场评估 again, 改派) leads nowhere new.
		if depth > 1 && o.Action != ActVerdict && to != c.Status {
			next := *c
			next.Status = to
			out[i].Then = actionsAhead(p, &next, depth-1)
		}
	}
	return out
}

// buttonLabel is a step as its button names it, in the workbench words of
// 12345 (退单, 合并重复, 现场评估, 回访评价); a resident rates (评价).
// Timelines and messages use Action.Label.
func buttonLabel(a Action, r auth.Role) string {
	switch a {
	case ActReject:
		return "退单"
	case ActMerge:
		return "合并重复"
	case ActAssess:
		return "现场评估"
	case ActVerdict:
		if r == auth.RoleResident {
			return "评价"
		}
		return "回访评价"
	}
	return a.Label()
}

// Deadline is the deadline that applies now, spelled out.
type Deadline struct {
	Kind  string    `json:"kind"` // response | completion
	Label string    `json:"label"`
	DueAt time.Time `json:"due_at"`
	// RemainingSeconds is negative when overdue.
	RemainingSeconds int64  `json:"remaining_seconds"`
	Overdue          bool   `json:"overdue"`
	DueSoon          bool   `json:"due_soon"` // within 24 hours
	Text             string `json:"text"`     // 剩余 2 天 3 时 / 已超期 1 天
}

// DeadlineOf returns the running deadline of c at now, nil when none runs.
func DeadlineOf(c *Case, now time.Time) *Deadline {
	if !c.Status.Open() || c.DueAt.IsZero() || !c.DueAt.Before(farFuture) {
		return nil
	}
	d := &Deadline{Kind: "completion", Label: "办结时限", DueAt: c.DueAt}
	if c.Status == StatusSubmitted {
		d.Kind, d.Label = "response", "响应时限"
	}
	left := c.DueAt.Sub(now)
	d.RemainingSeconds = int64(left / time.Second)
	d.Overdue = left < 0
	d.DueSoon = !d.Overdue && left <= 24*time.Hour
	d.Text = remainingText(left)
	return d
}

// DeadlineWords are the templates of a deadline's text, {d} {h} {m}
// standing for days, hours and minutes. The cadre app re-times a deadline
// offline with them (its bootstrap carries them; static/lib/deadline.js
// picks one as remainingText does), so the words have this one home.
type DeadlineWords struct {
	Days      string `json:"days"`       // a day or more left
	Hours     string `json:"hours"`      // under a day
	Minutes   string `json:"minutes"`    // under an hour
	OverDays  string `json:"over_days"`  // overdue by a day or more
	OverHours string `json:"over_hours"` // overdue by less than a day
}

var deadlineWords = DeadlineWords{
	Days: "剩余 {d} 天 {h} 时", Hours: "剩余 {h} 时", Minutes: "剩余 {m} 分",
	OverDays: "已超期 {d} 天", OverHours: "已超期 {h} 时",
}

// DeadlineTexts returns the deadline text templates.
func DeadlineTexts() DeadlineWords { return deadlineWords }

// fill puts d, h and m into template w.
func fill(w string, d, h, m int) string {
	return strings.NewReplacer("{d}", strconv.Itoa(d), "{h}", strconv.Itoa(h), "{m}", strconv.Itoa(m)).Replace(w)
}

// remainingText follows 12345 usage: "剩余 X 天 X 时" (under a day "剩余
// X 时", under an hour "剩余 X 分"), "已超期 X 天" (under a day "已超期 X
// 时"). It counts durations, so the zone does not enter.
func remainingText(left time.Duration) string {
	w := deadlineWords
	if left < 0 {
		over := -left
		days := int(over / (24 * time.Hour))
		if days == 0 {
			return fill(w.OverHours, 0, int(over/time.Hour)+1, 0)
		}
		return fill(w.OverDays, days, 0, 0)
	}
	days := int(left / (24 * time.Hour))
	hours := int((left % (24 * time.Hour)) / time.Hour)
	if days == 0 {
		if hours == 0 {
			return fill(w.Minutes, 0, 0, int(left/time.Minute))
		}
		return fill(w.Hours, 0, hours, 0)
	}
	return fill(w.Days, days, hours, 0)
}

// Labels are the words a case view carries for p at now.
type Labels struct {
	StatusLabel  string
	VerdictLabel string
	// Actions is empty, never nil, when p may take no step.
	Actions  []ActionOption
	Deadline *Deadline
	// DeadlineText is Deadline's text, "" when no deadline runs.
	DeadlineText string
	Overdue      bool
}

// LabelsFor returns the labels of c as p sees it at now. c is the case as
// stored (not a redacted view), so the actions are decided on the real
// filer and scope; a caller who gets only the public view gets no actions.
func LabelsFor(p auth.Principal, c *Case, now time.Time) Labels {
	l := Labels{StatusLabel: c.Status.Label(), Actions: []ActionOption{}, Deadline: DeadlineOf(c, now)}
	if c.Verdict != "" {
		l.VerdictLabel = c.Verdict.Label()
	}
	if !c.seesPublicView(p) {
		l.Actions = ActionsFor(p, c)
	}
	if l.Deadline != nil {
		l.DeadlineText, l.Overdue = l.Deadline.Text, l.Deadline.Overdue
	}
	return l
}

// setLabels lays the labels of c for p at now over its view v.
func (v *Case) setLabels(p auth.Principal, c *Case, now time.Time) {
	l := LabelsFor(p, c, now)
	v.StatusLabel, v.Actions, v.Deadline, v.DeadlineText, v.Overdue = l.StatusLabel, l.Actions, l.Deadline, l.DeadlineText, l.Overdue
	if !v.publicView {
		v.VerdictLabel = l.VerdictLabel
		v.setTimelineLabels(p)
	}
}

// LabelTable is every status, verdict and step with its label, for screens
// that list them without a case at hand (a status filter, queue titles).
type LabelTable struct {
	Statuses []StatusOption  `json:"statuses"`
	Verdicts []VerdictOption `json:"verdicts"`
	Actions  []ActionOption  `json:"actions"`
}

// StatusOption is a status with its label; Open says work is still pending.
type StatusOption struct {
	Status Status `json:"status"`
	Label  string `json:"label"`
	Open   bool   `json:"open"`
}

// VerdictOption is a verdict with its label.
type VerdictOption struct {
	Verdict Verdict `json:"verdict"`
	Label   string  `json:"label"`
}

// Labelled returns the label table, in workflow order.
func Labelled() LabelTable {
	t := LabelTable{}
	for _, s := range []Status{StatusSubmitted, StatusAccepted, StatusRejected, StatusMerged, StatusAssigned,
		StatusAssessed, StatusInProgress, StatusCompleted, StatusClosed, StatusCancelled} {
		t.Statuses = append(t.Statuses, StatusOption{Status: s, Label: s.Label(), Open: s.Open()})
	}
	for _, v := range []Verdict{VerdictSatisfied, VerdictBasicallySatisfied, VerdictDissatisfied} {
		t.Verdicts = append(t.Verdicts, VerdictOption{Verdict: v, Label: v.Label()})
	}
	for _, a := range actionOrder {
		t.Actions = append(t.Actions, ActionOption{Action: a, Label: a.Label()})
	}
	return t
}

// timelineWords name a timeline entry's step for staff (the workbench
// words) and for residents (what happened to their request); a step in
// neither is named by Action.Label.
var timelineWords = map[Action][2]string{
	ActSubmit:       {"登记", "提交诉求"},
	ActAccept:       {"受理", "已受理"},
	ActReject:       {"退单", "不予受理"},
	ActMerge:        {"合并", "合并办理"},
	ActAssign:       {"派单", "已派单"},
	ActAssess:       {"现场评估", "现场评估"},
	ActStart:        {"开始办理", "开始办理"},
	ActComplete:     {"办结", "已办结"},
	ActVerdict:      {"回访", "已评价"},
	ActCancel:       {"取消", "已取消"},
	ActCatalog:      {"确认分类", "归入支出事项"},
	ActBudget:       {"预算", "预算安排"},
	ActReopen:       {"重办", "不满意，重新办理"},
	ActPhoto:        {"上传照片", "上传照片"},
	ActCosign:       {"附议", "有居民附议"},
	ActNotify:       {"短信通知", "短信通知"},
	ActMergedIn:     {"并入重复诉求", "并入重复诉求"},
	ActLinkResident: {"关联居民账号", "关联到您的账号"},
}

// TimelineLabel names a timeline entry's step as p reads it: staff in the
// workbench words (退单, 回访, 重办), residents and trackers in theirs
// (已受理, 已评价, 不满意，重新办理).
func TimelineLabel(a Action, p auth.Principal) string {
	w, ok := timelineWords[a]
	switch {
	case !ok:
		return a.Label()
	case p.IsStaff():
		return w[0]
	}
	return w[1]
}

// SystemActor is the actor of entries nobody took by hand: an SMS sent,
// a budget copy repaired by Check.
const SystemActor = "system"

// ActorLabel names who did something — a timeline entry, a money
// movement — in Chinese, for every screen and both APIs: staff by name and
// role (王芳（街道工作人员）, the role alone when no name was kept),
// residents by role only (居民: a resident's name never reaches other
// residents or the board), and the system as 系统. An entry with an actor
// id but no role predates roles on budget entries, which only staff
// write: 工作人员.
func ActorLabel(actor, name string, role auth.Role) string {
	switch {
	case actor == SystemActor || strings.HasPrefix(actor, SystemActor+":"):
		return "系统" // Check's repairs are "system:check"
	case role == auth.RoleResident:
		return auth.RoleResident.Label()
	case role == "" && actor == "":
		return "居民" // an anonymous filer
	case role == "":
		if name != "" {
			return name + "（工作人员）"
		}
		return "工作人员"
	case name == "":
		return role.Label()
	}
	return name + "（" + role.Label() + "）"
}

// setTimelineLabels names each entry of v's timeline, and who took it,
// for p.
func (v *Case) setTimelineLabels(p auth.Principal) {
	for i := range v.Timeline {
		e := &v.Timeline[i]
		e.ActionLabel = TimelineLabel(e.Action, p)
		e.ActorLabel = ActorLabel(e.Actor, e.ActorName, e.Role)
	}
}
