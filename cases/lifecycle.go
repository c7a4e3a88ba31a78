package cases

import (
	"slices"
	"strings"

	"minsheng"
	"minsheng/internal/auth"
)

// Action is a step in a case's life, as recorded in its timeline.
type Action string

// Actions. The workflow ones are in the transition table; the rest are
// recorded only (submit, cosign, photo, catalog, budget, merged_in, reopen,
// undo).
const (
	ActSubmit   Action = "submit"
	ActAccept   Action = "accept"
	ActReject   Action = "reject"
	ActMerge    Action = "merge"
	ActAssign   Action = "assign"
	ActAssess   Action = "assess"
	ActStart    Action = "start"
	ActComplete Action = "complete"
	ActVerdict  Action = "verdict"
	ActCancel   Action = "cancel"
	ActCatalog  Action = "catalog"

	ActCosign   Action = "cosign"
	ActPhoto    Action = "photo"
	ActBudget   Action = "budget"
	ActMergedIn Action = "merged_in"
	ActReopen   Action = "reopen"
	// ActUndo records a transition undone because the ledger refused its
	// money effect (effects.go).
	ActUndo Action = "undo"
)

// Label is the action's name in the UI and in messages.
func (a Action) Label() string {
	switch a {
	case ActSubmit:
		return "提交"
	case ActAccept:
		return "受理"
	case ActReject:
		return "不予受理"
	case ActMerge:
		return "合并"
	case ActAssign:
		return "派单"
	case ActAssess:
		return "评估"
	case ActStart:
		return "开始办理"
	case ActComplete:
		return "办结"
	case ActVerdict:
		return "评价"
	case ActCancel:
		return "取消"
	case ActCatalog:
		return "归类"
	case ActCosign:
		return "附议"
	case ActPhoto:
		return "上传照片"
	case ActBudget:
		return "预算"
	case ActMergedIn:
		return "并入重复诉求"
	case ActReopen:
		return "重新办理"
	case ActUndo:
		return "撤销"
	case ActNotify:
		return "短信通知"
	case ActLinkResident:
		return "关联居民账号"
	}
	return string(a)
}

// Who acts on a step, by the scope they need on the case.
type actor int

const (
	// bySubdistrict: subdistrict staff of the case's sub-district, or admin.
	bySubdistrict actor = iota
	// byCadre: a cadre of the case's community.
	byCadre
	// byFilerOrCadre: the resident who filed it, or a cadre of its
	// community recording the resident's word (回访).
	byFilerOrCadre
)

// rule is one row of the transition table: from which states a step may be
// taken, who takes it, and where it leads (the verdict's target depends on
// the verdict and is decided by RecordVerdict).
type rule struct {
	from []Status
	by   actor
	to   Status
}

// transitions is the one table of the lifecycle.
var transitions = map[Action]rule{
	ActAccept:   {from: []Status{StatusSubmitted}, by: bySubdistrict, to: StatusAccepted},
	ActReject:   {from: []Status{StatusSubmitted}, by: bySubdistrict, to: StatusRejected},
	ActMerge:    {from: []Status{StatusSubmitted, StatusAccepted}, by: bySubdistrict, to: StatusMerged},
	ActAssign:   {from: []Status{StatusAccepted, StatusAssigned}, by: bySubdistrict, to: StatusAssigned},
	ActAssess:   {from: []Status{StatusAssigned, StatusAssessed}, by: byCadre, to: StatusAssessed},
	ActStart:    {from: []Status{StatusAssessed}, by: byCadre, to: StatusInProgress},
	ActComplete: {from: []Status{StatusInProgress}, by: byCadre, to: StatusCompleted},
	ActVerdict:  {from: []Status{StatusCompleted}, by: byFilerOrCadre, to: StatusClosed},
	ActCancel:   {from: openStatuses, by: bySubdistrict, to: StatusCancelled},
	// Classifying to the catalog keeps the state.
	ActCatalog: {from: openStatuses, by: bySubdistrict},
}

// target is the state step a leads to, from the table; the verdict's and
// classifying's are not in it (RecordVerdict decides the verdict's,
// classifying keeps the state).
func (a Action) target() Status { return transitions[a].to }

// actionOrder is the order in which allowed steps are listed.
var actionOrder = []Action{ActAccept, ActReject, ActMerge, ActAssign, ActAssess, ActStart, ActComplete, ActVerdict, ActCancel}

// AllowedFrom lists the workflow steps that may be taken from s, in the
// workflow's order.
func AllowedFrom(s Status) []Action {
	var out []Action
	for _, a := range actionOrder {
		if slices.Contains(transitions[a].from, s) {
			out = append(out, a)
		}
	}
	return out
}

// authorize decides whether p may take step a on c: EFORBIDDEN for the
// wrong role or a case outside p's scope. It is where every transition's
// role and scope are checked.
func authorize(p auth.Principal, c *Case, a Action) error {
	r, ok := transitions[a]
	if !ok {
		return minsheng.Errorf(minsheng.EINTERNAL, "未知操作")
	}
	sub, comm := c.Location.SubDistrict, c.Location.Community
	switch r.by {
	case bySubdistrict:
		if err := p.RequireRole(auth.RoleSubdistrict, auth.RoleAdmin); err != nil {
			return err
		}
	case byCadre:
		if err := p.RequireRole(auth.RoleCadre); err != nil {
			return err
		}
	case byFilerOrCadre:
		if err := p.RequireRole(auth.RoleResident, auth.RoleCadre); err != nil {
			return err
		}
		if p.Role == auth.RoleResident {
			if p.UserID == "" || p.UserID != c.FilerID {
				return minsheng.Errorf(minsheng.EFORBIDDEN, "只有提交人可以评价本案件")
			}
			return nil
		}
	}
	return p.RequireAccess(sub, comm)
}

// checkState returns ECONFLICT, naming what may be done instead, when step
// a cannot be taken from c's state.
func checkState(c *Case, a Action) error {
	if slices.Contains(transitions[a].from, c.Status) {
		return nil
	}
	allowed := AllowedFrom(c.Status)
	if len(allowed) == 0 {
		return minsheng.Errorf(minsheng.ECONFLICT, "当前状态为「%s」，不能再%s，已无可执行的操作", c.Status.Label(), a.Label())
	}
	names := make([]string, len(allowed))
	for i, x := range allowed {
		names[i] = x.Label()
	}
	return minsheng.Errorf(minsheng.ECONFLICT, "当前状态为「%s」，不能%s，可执行：%s", c.Status.Label(), a.Label(), strings.Join(names, "、"))
}

// errStale is what a transition gets when the case changed since the
// caller read it.
func errStale() error {
	return minsheng.Errorf(minsheng.ECONFLICT, "数据已被他人修改，请刷新后重试")
}
