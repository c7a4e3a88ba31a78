package cases

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"minsheng"
	"minsheng/cases/caseimport"
	"minsheng/internal/auth"
)

// ImportCase is one historical case for Import (package caseimport).
type ImportCase = caseimport.Case[Status, Verdict]

// importPath is the order of the main path's states.
var importPath = []Status{StatusSubmitted, StatusAccepted, StatusAssigned, StatusAssessed, StatusInProgress, StatusCompleted, StatusClosed}

// Import inserts historical cases in batches, numbered in filing order, with
// a timeline of one event per step at StepGap intervals, all by p. It is for
// seeding scale tests and benchmarks (minsheng seed --cases): no photos, no
// money, no idempotency, and it bypasses the versioned transitions, so only
// admin may call it. Every case is validated first; one bad case imports
// nothing (EINVALID naming its index).
func (s *Service) Import(ctx context.Context, p auth.Principal, in []ImportCase) (int, error) {
	if err := p.RequireRole(auth.RoleAdmin); err != nil {
		return 0, err
	}
	return caseimport.Batch[Status, Verdict, Case, caseFacts]{
		DB:        s.cases,
		Build:     func(in *ImportCase) (*Case, error) { return s.importDoc(p, in) },
		FiledAt:   func(c *Case) time.Time { return c.FiledAt },
		SetNumber: func(c *Case, number string) { c.Number = number },
		Prefix:    s.cfg.NumberPrefix, Zone: s.cfg.Zone,
	}.Run(ctx, in)
}

// importDoc builds the stored case for one import, its derived fields set
// as the transitions would have set them.
func (s *Service) importDoc(p auth.Principal, in *ImportCase) (*Case, error) {
	reach, err := s.checkImport(in)
	if err != nil {
		return nil, err
	}
	at := in.FiledAt.UTC().Truncate(time.Millisecond)
	c := &Case{
		ID: uuid.NewString(), Area: in.Area, Title: in.Title, Description: in.Description,
		Location: Location{SubDistrict: in.SubDistrict, Community: in.Community, Address: in.Address, Lat: in.Lat, Lng: in.Lng},
		FiledBy:  p.UserID, FiledByRole: p.Role, FilerID: in.ResidentID,
		ContactName: in.ContactName, ContactPhone: in.ContactPhone, Households: in.Households,
		Cosigners: []string{}, Photos: []Photo{}, Status: in.Status,
		FiledAt: at, ResponseDueAt: at.Add(s.cfg.ResponseWindow), DueAt: at.Add(s.cfg.ResponseWindow),
		SLADays: s.cfg.DefaultSLADays, Version: 1,
	}
	c.Timeline = []Event{{At: at, Actor: p.UserID, ActorName: p.Name, Role: p.Role, Action: ActSubmit, To: StatusSubmitted, Note: "批量导入"}}
	w := &importWalk{c: c, p: p, Clock: caseimport.NewClock(at, in.StepGap)}
	if in.Status == StatusRejected {
		t := w.Step()
		c.RespondedAt, c.ClosedAt, c.DueAt, c.Reason = &t, &t, farFuture, "不属于受理范围"
		w.ev(ActReject, StatusSubmitted, StatusRejected, c.Reason)
		return c, nil
	}
	for i := 1; i <= reach; i++ {
		w.enter(importPath[i], in, w.Step())
	}
	if in.Status == StatusCancelled {
		t := w.Step()
		c.Reason, c.ClosedAt, c.DueAt = "居民已自行解决", &t, farFuture
		w.ev(ActCancel, StatusAccepted, StatusCancelled, c.Reason)
	}
	c.Status = in.Status
	return c, nil
}

// checkImport validates one import and returns how far along importPath
// its status lies.
func (s *Service) checkImport(in *ImportCase) (reach int, err error) {
	if err := s.validate(&in.NewCase); err != nil {
		return 0, err
	}
	f := map[string]string{}
	if in.FiledAt.IsZero() {
		f["filed_at"] = "必填"
	}
	reach = slices.Index(importPath, in.Status)
	switch in.Status {
	case StatusRejected:
		reach = 0
	case StatusCancelled:
		reach = 1
	}
	if reach < 0 {
		f["status"] = "不支持导入此状态：" + string(in.Status)
	}
	if reach >= 3 && (in.Assessment == nil || in.Assessment.Households < 1) {
		f["assessment"] = "已评估的案件须有评估"
	}
	if msg := minsheng.FenProblem(in.ActualCostFen); msg != "" {
		f["actual_cost_fen"] = msg
	}
	if err := invalid(f); err != nil {
		return 0, err
	}
	return reach, nil
}

// importWalk takes an imported case through its transitions, one gap
// apart (its Clock), each recorded on its timeline.
type importWalk struct {
	c *Case
	p auth.Principal
	*caseimport.Clock
}

// ev records a transition at the current time.
func (w *importWalk) ev(a Action, from, to Status, note string) {
	p := w.p
	w.c.Timeline = append(w.c.Timeline, Event{At: w.Now(), Actor: p.UserID, ActorName: p.Name, Role: p.Role, Action: a, From: from, To: to, Note: note})
	w.c.Version++
}

// enter takes the case into status st at t, setting what that transition sets.
func (w *importWalk) enter(st Status, in *ImportCase, t time.Time) {
	c := w.c
	switch st {
	case StatusAccepted:
		if in.CatalogItem != "" {
			c.CatalogItem = in.CatalogItem
			if in.SLADays > 0 {
				c.SLADays = in.SLADays
			}
		}
		due := t.AddDate(0, 0, c.SLADays)
		c.AcceptedAt, c.RespondedAt, c.CompletionDueAt, c.DueAt = &t, &t, &due, due
		w.ev(ActAccept, StatusSubmitted, StatusAccepted, "")
	case StatusAssigned:
		c.AssignedTo, c.AssignedName = in.AssignedTo, in.AssignedName
		w.ev(ActAssign, StatusAccepted, StatusAssigned, "")
	case StatusAssessed:
		a := *in.Assessment
		c.Assessment, c.Households = &a, a.Households
		w.ev(ActAssess, StatusAssigned, StatusAssessed, fmt.Sprintf("估算 %s，涉及 %d 户，风险等级 %d。", minsheng.Yuan(a.EstimateFen), a.Households, a.Risk))
	case StatusInProgress:
		w.ev(ActStart, StatusAssessed, StatusInProgress, "")
	case StatusCompleted:
		c.ActualCostFen, c.CompletedAt, c.DueAt = in.ActualCostFen, &t, farFuture
		w.ev(ActComplete, StatusInProgress, StatusCompleted, "实际费用 "+minsheng.Yuan(in.ActualCostFen)+"。")
	case StatusClosed:
		v := in.Verdict
		if v == "" || v == VerdictDissatisfied {
			v = VerdictSatisfied
		}
		c.Verdict, c.ClosedAt = v, &t
		w.ev(ActVerdict, StatusCompleted, StatusClosed, v.Label())
	}
}
