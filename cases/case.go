// Package cases is the casework domain: a resident's request (诉求) from
// filing through acceptance, dispatch, on-site assessment, work, completion
// and the resident's verdict, mirroring Beijing's 12345 flow (受理 → 派单 →
// 办理 → 反馈 → 回访 → 考评). It owns the case type, the lifecycle rules and
// the Mongo persistence of cases. Rooms it serves from live in packages of
// their own under cases/, each behind the small interface it declares and
// cases implements: the index engine (casedb), photos (casephotos), input
// rules and bodies (caseinput), the lists' read path (caselist), similar
// cases (similar), money effects (moneyeffect), messages (notify), the
// bulk import (caseimport), co-signature claims (cosign), residents'
// personal data (residents), the phones' sync (phonesync), direct uploads
// (uploads), tracking tokens (tracktoken) and the 12345 rates (rates).
// Their types appear here as aliases (cases.Photo, cases.Filter …).
//
// Every verb takes the caller's auth.Principal; who may do what from which
// state is decided in one table (lifecycle.go), and who may see a phone
// number in one function (Case.Redact).
package cases

import (
	"time"

	"minsheng/cases/caseinput"
	"minsheng/cases/casephotos"
	"minsheng/internal/auth"
)

// Area codes of the standard catalog's six areas; a case belongs to one.
const (
	AreaGeneral    = "ZH" // 综合保障
	AreaParty      = "DQ" // 党群工作
	AreaLivelihood = "MS" // 民生保障
	AreaCommunity  = "SQ" // 社区建设
	AreaUrban      = "CG" // 城市管理
	AreaSafety     = "PA" // 平安建设
)

// areaNames names the areas for the UI and for messages.
var areaNames = map[string]string{
	AreaGeneral:    "综合保障",
	AreaParty:      "党群工作",
	AreaLivelihood: "民生保障",
	AreaCommunity:  "社区建设",
	AreaUrban:      "城市管理",
	AreaSafety:     "平安建设",
}

// AreaName returns the Chinese name of an area code, "" when unknown.
func AreaName(code string) string { return areaNames[code] }

// Status is where a case stands in its lifecycle.
type Status string

// Statuses. Open ones (submitted … in_progress) may still be cancelled;
// rejected, merged, closed and cancelled are final.
const (
	StatusSubmitted  Status = "submitted"   // 待受理
	StatusAccepted   Status = "accepted"    // 已受理
	StatusRejected   Status = "rejected"    // 不予受理
	StatusMerged     Status = "merged"      // 已合并
	StatusAssigned   Status = "assigned"    // 已派单
	StatusAssessed   Status = "assessed"    // 已评估
	StatusInProgress Status = "in_progress" // 办理中
	StatusCompleted  Status = "completed"   // 已办结，待评价
	StatusClosed     Status = "closed"      // 已关闭
	StatusCancelled  Status = "cancelled"   // 已取消
)

// Label is the status's name in the UI.
func (s Status) Label() string {
	switch s {
	case StatusSubmitted:
		return "待受理"
	case StatusAccepted:
		return "已受理"
	case StatusRejected:
		return "不予受理"
	case StatusMerged:
		return "已合并"
	case StatusAssigned:
		return "已派单"
	case StatusAssessed:
		return "已评估"
	case StatusInProgress:
		return "办理中"
	case StatusCompleted:
		return "已办结"
	case StatusClosed:
		return "已关闭"
	case StatusCancelled:
		return "已取消"
	}
	return string(s)
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s.Label() != string(s) }

// openStatuses are the states in which work is still pending.
var openStatuses = []Status{StatusSubmitted, StatusAccepted, StatusAssigned, StatusAssessed, StatusInProgress}

// Open reports whether work on a case in this state is still pending.
func (s Status) Open() bool {
	for _, o := range openStatuses {
		if s == o {
			return true
		}
	}
	return false
}

// Final reports whether nothing more can happen to a case in this state.
func (s Status) Final() bool {
	return s == StatusRejected || s == StatusMerged || s == StatusClosed || s == StatusCancelled
}

// PhotoTag says at which stage a photo was taken (package casephotos).
type PhotoTag = casephotos.Tag

// Photo tags.
const (
	TagBefore   = casephotos.Before   // 办理前
	TagProgress = casephotos.Progress // 办理中
	TagAfter    = casephotos.After    // 办结后
)

// Verdict is the resident's judgement of the result (回访评价).
type Verdict string

// Verdicts. Satisfied and basically satisfied close the case;
// dissatisfied reopens it.
const (
	VerdictSatisfied          Verdict = "satisfied"           // 满意
	VerdictBasicallySatisfied Verdict = "basically_satisfied" // 基本满意
	VerdictDissatisfied       Verdict = "dissatisfied"        // 不满意
)

// Label is the verdict's name in the UI.
func (v Verdict) Label() string {
	switch v {
	case VerdictSatisfied:
		return "满意"
	case VerdictBasicallySatisfied:
		return "基本满意"
	case VerdictDissatisfied:
		return "不满意"
	}
	return string(v)
}

// Valid reports whether v is a known verdict.
func (v Verdict) Valid() bool { return v.Label() != string(v) }

// VerdictRecord is one verdict as given, with who gave it (RecordVerdict).
type VerdictRecord struct {
	Verdict  Verdict   `bson:"verdict" json:"verdict"`
	Resolved *bool     `bson:"resolved,omitempty" json:"resolved,omitempty"`
	Comment  string    `bson:"comment,omitempty" json:"comment,omitempty"`
	At       time.Time `bson:"at" json:"at"`
	// By is the account that gave or recorded it and Role its role: the
	// resident, or the cadre recording the resident's answer; both empty
	// for an anonymous filer's tracking link. Source says which way.
	// Verdicts recorded before attribution have none of the three.
	By     string        `bson:"by,omitempty" json:"by,omitempty"`
	Role   auth.Role     `bson:"role,omitempty" json:"role,omitempty"`
	Source VerdictSource `bson:"source,omitempty" json:"source,omitempty"`
}

// Case is one request from residents.
type Case struct {
	ID          string   `bson:"_id" json:"id"`
	Number      string   `bson:"number" json:"number"` // XC2026-000123
	Area        string   `bson:"area" json:"area"`     // catalog area code
	AreaLabel   string   `bson:"-" json:"area_label"`  // 城市管理, for display
	Title       string   `bson:"title" json:"title"`
	Description string   `bson:"description" json:"description"`
	Location    Location `bson:"location" json:"location"`

	// FilerID is the resident the case belongs to: the one who filed it or
	// on whose behalf a cadre did. Empty for anonymous filings.
	FilerID string `bson:"filer_id,omitempty" json:"filer_id,omitempty"`
	// FiledBy is who entered it: the resident, a cadre, or "" when anonymous.
	FiledBy     string    `bson:"filed_by,omitempty" json:"filed_by,omitempty"`
	FiledByRole auth.Role `bson:"filed_by_role,omitempty" json:"filed_by_role,omitempty"`
	Anonymous   bool      `bson:"anonymous" json:"anonymous"`
	// Public is the filer's 公开 choice: only public cases appear on the
	// public board and as previews to other residents.
	Public bool `bson:"public" json:"public"`
	// TokenHash is the SHA-256 of an anonymous filer's tracking token; the
	// token itself is never stored in clear. TokenSealed is the token
	// encrypted under the filer's Idempotency-Key and the filing's content
	// (neither stored), so a retry of the same filing gets it back.
	TokenHash   string `bson:"token_hash,omitempty" json:"-"`
	TokenSealed string `bson:"token_sealed,omitempty" json:"-"`
	// IdempotencyKey is the filer's key in the filer's namespace: "user:key"
	// for account holders; for anonymous filers a hash of the key and the
	// filing's content, so a key reused by someone else never finds it.
	IdempotencyKey string `bson:"idempotency_key,omitempty" json:"-"`

	ContactName  string `bson:"contact_name,omitempty" json:"contact_name,omitempty"`
	ContactPhone string `bson:"contact_phone,omitempty" json:"contact_phone,omitempty"`
	Households   int    `bson:"households" json:"households"`
	// Cosigners are residents who added their voice (+1), once each.
	Cosigners   []string `bson:"cosigners" json:"cosigners,omitempty"`
	CosignCount int      `bson:"-" json:"cosign_count"`
	Photos      []Photo  `bson:"photos" json:"photos"`
	// PhotoCount mirrors len(Photos) so the limit is one conditional update.
	PhotoCount int `bson:"photo_count" json:"-"`
	// MergedFrom lists cases merged into this one, so a retried merge does
	// not copy twice.
	MergedFrom []string `bson:"merged_from,omitempty" json:"merged_from,omitempty"`

	Status      Status  `bson:"status" json:"status"`
	StatusLabel string  `bson:"-" json:"status_label"`
	Timeline    []Event `bson:"timeline" json:"timeline"`

	FiledAt         time.Time  `bson:"filed_at" json:"filed_at"`
	ResponseDueAt   time.Time  `bson:"response_due_at" json:"response_due_at"`
	RespondedAt     *time.Time `bson:"responded_at,omitempty" json:"responded_at,omitempty"`
	AcceptedAt      *time.Time `bson:"accepted_at,omitempty" json:"accepted_at,omitempty"`
	SLADays         int        `bson:"sla_days" json:"sla_days"`
	CompletionDueAt *time.Time `bson:"completion_due_at,omitempty" json:"completion_due_at,omitempty"`
	CompletedAt     *time.Time `bson:"completed_at,omitempty" json:"completed_at,omitempty"`
	// ClosedAt is when the case reached a final state (closed, rejected,
	// merged, cancelled); retention counts from it.
	ClosedAt *time.Time `bson:"closed_at,omitempty" json:"closed_at,omitempty"`
	// DueAt is the deadline that applies now — the response deadline while
	// submitted, the completion deadline while being worked on, far in the
	// future otherwise — so "overdue" and "sort by deadline" are one
	// indexed field.
	DueAt   time.Time `bson:"due_at" json:"-"`
	Overdue bool      `bson:"-" json:"overdue"`
	// Deadline, DeadlineText, Actions and VerdictLabel are filled when the
	// case is shown, for the one it is shown to (labels.go); never stored.
	Deadline     *Deadline      `bson:"-" json:"deadline"`
	DeadlineText string         `bson:"-" json:"deadline_text"`
	Actions      []ActionOption `bson:"-" json:"actions"`

	AssignedTo     string      `bson:"assigned_to,omitempty" json:"assigned_to,omitempty"`
	AssignedName   string      `bson:"assigned_name,omitempty" json:"assigned_name,omitempty"`
	Assessment     *Assessment `bson:"assessment,omitempty" json:"assessment,omitempty"`
	ActualCostFen  int64       `bson:"actual_cost_fen" json:"actual_cost_fen"`
	Verdict        Verdict     `bson:"verdict,omitempty" json:"verdict,omitempty"`
	VerdictLabel   string      `bson:"-" json:"verdict_label,omitempty"`
	VerdictComment string      `bson:"verdict_comment,omitempty" json:"verdict_comment,omitempty"`
	// Verdicts is every verdict the resident gave, oldest first (回访记录); Verdict is the latest.
	Verdicts []VerdictRecord `bson:"verdicts,omitempty" json:"verdicts,omitempty"`
	Reopened int             `bson:"reopened" json:"reopened"`
	// LinkMayRate is set only on a tracking link's answer: whether the
	// link's holder may give the verdict through it (verdict.go).
	LinkMayRate bool `bson:"-" json:"link_may_rate,omitempty"`
	// Reason is why the case was rejected or cancelled.
	Reason     string `bson:"reason,omitempty" json:"reason,omitempty"`
	MergedInto string `bson:"merged_into,omitempty" json:"merged_into,omitempty"`

	// Office is the community office to call about the case (office.go),
	// filled when the case is shown; never stored.
	Office *Office `bson:"-" json:"office,omitempty"`

	// CatalogItem is the standard catalog item the case is classified to;
	// Budget is the display copy of its link to a budget line, written by
	// budgetlink (which owns the authoritative reservation).
	CatalogItem string      `bson:"catalog_item,omitempty" json:"catalog_item,omitempty"`
	Budget      *BudgetLink `bson:"budget,omitempty" json:"budget,omitempty"`

	// MoneyEffect is the money the last completion or cancellation moves,
	// recorded in that transition's own versioned write and applied after
	// it (effects.go); staff-only bookkeeping, never shown.
	MoneyEffect *MoneyEffect `bson:"money_effect,omitempty" json:"-"`

	// PurgedAt is when personal data was blanked under the retention rule.
	PurgedAt *time.Time `bson:"purged_at,omitempty" json:"purged_at,omitempty"`
	// Version increases with every workflow change; a transition states the
	// version it read, and a stale one is refused.
	Version int64 `bson:"version" json:"version"`

	// publicView marks a copy redacted to the public view (public.go).
	publicView bool
}

// Location is where the problem is.
type Location struct {
	SubDistrict string   `bson:"sub_district" json:"sub_district"`
	Community   string   `bson:"community" json:"community"`
	Address     string   `bson:"address" json:"address"`
	Lat         *float64 `bson:"lat,omitempty" json:"lat,omitempty"`
	Lng         *float64 `bson:"lng,omitempty" json:"lng,omitempty"`
	// Datum is the datum of Lat/Lng: DatumWGS84 or DatumGCJ02. Positions
	// stored before it existed have none and are WGS-84 (DatumOf).
	Datum string `bson:"datum,omitempty" json:"datum,omitempty"`
	// AccuracyM is the phone's GPS accuracy in metres when it gave one
	// (the cadre app's 现场定位); location information for staff, never
	// part of the resident's description.
	AccuracyM *int `bson:"accuracy_m,omitempty" json:"accuracy_m,omitempty"`
}

// Photo is one stored photo of a case (package casephotos).
type Photo = casephotos.Photo

// Event is one immutable entry of a case's timeline.
type Event struct {
	At    time.Time `bson:"at" json:"at"`
	Actor string    `bson:"actor,omitempty" json:"actor,omitempty"`
	// ActorName is kept for staff only; residents appear by role.
	ActorName string    `bson:"actor_name,omitempty" json:"actor_name,omitempty"`
	Role      auth.Role `bson:"role,omitempty" json:"role,omitempty"`
	Action    Action    `bson:"action" json:"action"`
	From      Status    `bson:"from,omitempty" json:"from,omitempty"`
	To        Status    `bson:"to,omitempty" json:"to,omitempty"`
	Note      string    `bson:"note,omitempty" json:"note,omitempty"`
	// ActionLabel names the step for the one the case is shown to
	// (TimelineLabel); never stored.
	ActionLabel string `bson:"-" json:"action_label,omitempty"`
	// ActorLabel names who took the step (ActorLabel); never stored.
	ActorLabel string `bson:"-" json:"actor_label,omitempty"`
}

// Assessment is what a cadre found on site (现场评估; package caseinput).
type Assessment = caseinput.Assessment

// BudgetLink is the case's copy of its link to a budget line, for display.
// budgetlink writes it through SetBudgetCopy; the line document holds the
// authoritative reservation.
type BudgetLink struct {
	LineID      string    `bson:"line_id" json:"line_id"`
	ItemCode    string    `bson:"item_code" json:"item_code"`
	EstimateFen int64     `bson:"estimate_fen" json:"estimate_fen"`
	ReservedFen int64     `bson:"reserved_fen" json:"reserved_fen"`
	SpentFen    int64     `bson:"spent_fen" json:"spent_fen"`
	State       string    `bson:"state" json:"state"`
	LinkedAt    time.Time `bson:"linked_at" json:"linked_at"`
	LinkedBy    string    `bson:"linked_by" json:"linked_by"`
}

// IsOverdue reports whether the deadline that applies now has passed.
func (c *Case) IsOverdue(now time.Time) bool {
	return c.Status.Open() && !c.DueAt.IsZero() && now.After(c.DueAt)
}

// HasPhoto reports whether the case has a photo with the tag.
func (c *Case) HasPhoto(tag PhotoTag) bool {
	for _, ph := range c.Photos {
		if ph.Tag == tag {
			return true
		}
	}
	return false
}

// CanSeeContact reports whether p may see the contact's phone and name in
// clear (PIPL: the resident and the staff handling the case): the filer,
// the one who entered it, cadres of the case's community, staff of its
// sub-district and admins. District finance does not handle cases and
// sees them masked.
func (c *Case) CanSeeContact(p auth.Principal) bool {
	if p.UserID != "" && (p.UserID == c.FilerID || p.UserID == c.FiledBy) {
		return true
	}
	switch p.Role {
	case auth.RoleCadre, auth.RoleSubdistrict, auth.RoleAdmin:
		return p.CanAccess(c.Location.SubDistrict, c.Location.Community)
	}
	return false
}

// Redact returns a copy of c fit to show p: the contact masked unless p may
// see it; for a resident who did not file it (a co-signer) only the public
// view (public.go); for anonymous trackers no other residents' ids. It is
// the one place that decides.
func (c *Case) Redact(p auth.Principal) *Case {
	v := *c
	// Empty lists stay lists in JSON ([] not null), so clients can iterate.
	v.Photos = append([]Photo{}, c.Photos...)
	v.Timeline = append([]Event{}, c.Timeline...)
	v.Cosigners = append([]string(nil), c.Cosigners...)
	v.CosignCount = len(c.Cosigners)
	v.StatusLabel = c.Status.Label()
	v.AreaLabel = AreaName(c.Area)
	if !c.CanSeeContact(p) {
		v.ContactPhone = auth.MaskPhone(c.ContactPhone)
		v.ContactName = maskName(c.ContactName)
	}
	if c.seesPublicView(p) {
		v.toPublicView()
		return &v
	}
	if !p.IsStaff() && (p.UserID == "" || p.UserID != c.FilerID) {
		v.FilerID, v.FiledBy, v.Cosigners = "", "", nil
		for i := range v.Photos {
			v.Photos[i].UploadedBy = ""
		}
		for i := range v.Timeline {
			if v.Timeline[i].Role == auth.RoleResident {
				v.Timeline[i].Actor = ""
			}
		}
		v.Verdicts = append([]VerdictRecord(nil), c.Verdicts...)
		for i := range v.Verdicts {
			if v.Verdicts[i].Role == auth.RoleResident {
				v.Verdicts[i].By = ""
			}
		}
	}
	return &v
}

// maskName keeps the family name: 张三 → 张*.
func maskName(name string) string {
	r := []rune(name)
	if len(r) == 0 {
		return ""
	}
	return string(r[0]) + "*"
}
