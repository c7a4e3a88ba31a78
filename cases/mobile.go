package cases

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/casedb"
	"minsheng/cases/caselist"
	"minsheng/cases/tracktoken"
	"minsheng/internal/auth"
)

// This file holds what the cadre app (mobile-api) needs from the domain:
// funding spelled out, timeline labels and the cadre's queue filters. The
// actions, labels and deadlines every case view carries are in labels.go.

// Funding says whether money stands behind a case, and why.
type Funding struct {
	State  string `json:"state"` // unlinked | reserved | spent | released
	Label  string `json:"label"`
	Reason string `json:"reason"`
	// Funded is true while a budget line holds money for the case.
	Funded bool `json:"funded"`
	// Waitlisted: classified and waiting for a line with money.
	Waitlisted bool  `json:"waitlisted"`
	AmountFen  int64 `json:"amount_fen"`
}

// FundingOf reads c's display copy of its budget link.
func FundingOf(c *Case) Funding {
	b := c.Budget
	switch {
	case b != nil && b.State == "reserved":
		return Funding{State: "reserved", Label: "已落实资金", Funded: true, AmountFen: b.ReservedFen,
			Reason: fmt.Sprintf("预算项目 %s 已预留 %s", b.ItemCode, minsheng.Yuan(b.ReservedFen))}
	case b != nil && b.State == "spent":
		return Funding{State: "spent", Label: "已支出", Funded: true, AmountFen: b.SpentFen,
			Reason: fmt.Sprintf("预算项目 %s 已支出 %s", b.ItemCode, minsheng.Yuan(b.SpentFen))}
	case b != nil:
		return Funding{State: b.State, Label: "资金已释放", Waitlisted: c.Status.Open(),
			Reason: "原预留资金已释放，等待重新安排"}
	case c.CatalogItem != "" && c.Status.Open():
		return Funding{State: "unlinked", Label: "待安排资金", Waitlisted: true,
			Reason: "已归类为 " + c.CatalogItem + "，尚未关联有余额的预算项目"}
	case c.Assessment != nil && c.Assessment.ProposedItem != "" && c.Status.Open():
		name := c.Assessment.ProposedItemName
		if name == "" {
			name = c.Assessment.ProposedItem
		}
		return Funding{State: "unlinked", Label: "未关联预算", Reason: "已建议「" + name + "」，待街道确认"}
	}
	return Funding{State: "unlinked", Label: "未关联预算", Reason: "尚未归类到支出事项"}
}

// EventLabel names a timeline entry for the app: who took it
// (ActorLabel) and the step — 「赵干部（社区干部） · 开始办理」, 「系统 · 短信通知」.
// The step is the view's ActionLabel when the view has one.
func EventLabel(e Event) string {
	who := e.ActorLabel
	if who == "" {
		who = ActorLabel(e.Actor, e.ActorName, e.Role)
	}
	if e.Action == ActVerdict && e.Role == auth.RoleCadre {
		return who + " · 回访评价（记录居民意见）"
	}
	what := e.ActionLabel
	if what == "" {
		what = e.Action.Label()
	}
	return who + " · " + what
}

// QueueFilter selects a cadre's cases for the app (package caselist).
type QueueFilter = caselist.QueueFilter[Status]

// maxQueue bounds a queue answer; a community rarely holds more open work.
const maxQueue = 500

// Queue returns the cases of p's scope (a cadre's community, a
// sub-district's for its staff) matching f, overdue first, then by
// deadline. Errors: EFORBIDDEN for other roles, EINVALID for a bad filter.
func (s *Service) Queue(ctx context.Context, p auth.Principal, f QueueFilter) ([]*Case, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	now := s.now()
	var out []*Case
	err := s.eachInScope(ctx, p, func(c *Case) error {
		if f.Match(p.UserID, queueFields(c, now)) {
			v, err := s.view(ctx, p, c)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b *Case) int { return a.DueAt.Compare(b.DueAt) })
	if len(out) > maxQueue {
		out = out[:maxQueue]
	}
	return out, nil
}

// queueFields is what the queue reads of c at now.
func queueFields(c *Case, now time.Time) caselist.QueueFields[Status] {
	d := DeadlineOf(c, now)
	return caselist.QueueFields[Status]{AssignedTo: c.AssignedTo, Status: c.Status, Overdue: d != nil && d.Overdue,
		DueSoon: d != nil && d.DueSoon, Address: c.Location.Address, Number: c.Number}
}

// Counts are the numbers behind the app's badges.
type Counts struct {
	// OpenByStatus counts the caller's open cases (assigned to them, or
	// in their community and not yet assigned) by state.
	OpenByStatus map[Status]int `json:"open_by_status"`
	Open         int            `json:"open"`
	Overdue      int            `json:"overdue"`
	DueSoon      int            `json:"due_soon"`
	// AwaitingVerdict: completed, waiting for the resident's verdict.
	AwaitingVerdict int `json:"awaiting_verdict"`
}

// MyCounts counts p's work for the badges.
func (s *Service) MyCounts(ctx context.Context, p auth.Principal) (Counts, error) {
	now := s.now()
	n := Counts{OpenByStatus: map[Status]int{}}
	err := s.eachInScope(ctx, p, func(c *Case) error {
		mine := c.AssignedTo == p.UserID || (c.AssignedTo == "" && c.Status.Open())
		if !mine {
			return nil
		}
		if c.Status == StatusCompleted {
			n.AwaitingVerdict++
		}
		if !c.Status.Open() {
			return nil
		}
		n.Open++
		n.OpenByStatus[c.Status]++
		if d := DeadlineOf(c, now); d != nil {
			if d.Overdue {
				n.Overdue++
			} else if d.DueSoon {
				n.DueSoon++
			}
		}
		return nil
	})
	return n, err
}

// errMobileRole refuses the app's scoped queues to roles without a community
// or sub-district of their own.
func errMobileRole() error {
	return minsheng.Errorf(minsheng.EFORBIDDEN, "社区干部移动端仅供社区干部和街道工作人员使用")
}

// TrackingTokenFor gives the staff member who filed a case on a resident's
// behalf the token with which the resident follows it without an account
// (the QR code the app shows; TrackByToken reads it). It is derived from
// the case id under the service's secret, so asking again — a lost answer,
// a second phone — gives the same token. Errors: ENOTFOUND, EFORBIDDEN
// (not the one who filed it), ECONFLICT (an anonymous filer's case).
func (s *Service) TrackingTokenFor(ctx context.Context, p auth.Principal, id string) (string, error) {
	c, err := s.load(ctx, id)
	if err != nil {
		return "", err
	}
	if !p.IsStaff() || p.UserID == "" || c.FiledBy != p.UserID {
		return "", minsheng.Errorf(minsheng.EFORBIDDEN, "只有代居民登记的工作人员可以生成查询码")
	}
	token := tracktoken.ForCase(s.cfg.TokenSecret, c.ID)
	want := tracktoken.Hash(token)
	if c.TokenHash == "" {
		if _, err := s.cases.Update(ctx, casedb.Change{ID: c.ID,
			If:     bson.D{{Key: "token_hash", Value: bson.D{{Key: "$exists", Value: false}}}},
			Update: bson.D{{Key: "$set", Value: bson.D{{Key: "token_hash", Value: want}}}}}); err != nil {
			return "", fmt.Errorf("cases: unable to set tracking token of %s: %w", c.ID, err)
		}
		if c, err = s.load(ctx, id); err != nil {
			return "", err
		}
	}
	if c.TokenHash != want {
		return "", minsheng.Errorf(minsheng.ECONFLICT, "该案件已有其他查询码")
	}
	return token, nil
}

// commonRequests are the requests residents make most, per area: what the
// cadre app offers as chips on 代居民登记 (the title they fill). They are
// residents' words for their problems, not budget items: the sub-district
// files a case under a catalog item later. The one home of this list;
// /mobile/v1/catalog serves it with the areas.
var commonRequests = map[string][]string{
	AreaUrban: {"旱厕改造", "停车自治", "楼道照明", "下水道堵塞", "路灯不亮", "大件垃圾清运", "楼道堆物清理",
		"违章搭建", "占道经营", "路面破损", "垃圾桶满溢", "树木修剪"},
	AreaLivelihood: {"养老驿站", "老人助餐", "适老化改造", "残疾人帮扶", "困难家庭救助", "托育服务", "就业帮扶", "社区医疗"},
	AreaCommunity: {"老旧小区改造", "加装电梯", "屋顶漏水", "物业管理", "活动场地", "健身器材维修", "绿化补植",
		"公共晾衣", "非机动车棚"},
	AreaSafety:  {"消防通道堵塞", "电动车楼道充电", "监控探头", "门禁损坏", "井盖缺失", "噪音扰民", "邻里纠纷", "燃气安全"},
	AreaParty:   {"志愿服务", "居民议事", "党员报到", "社区活动"},
	AreaGeneral: {"政策咨询", "证明开具", "办事指引", "社区服务站"},
}

// CommonRequests lists the requests residents make most in area, in the
// order offered; nil for an unknown area.
func CommonRequests(area string) []string {
	return slices.Clone(commonRequests[area])
}
