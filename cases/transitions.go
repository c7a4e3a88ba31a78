package cases

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/casedb"
	"minsheng/cases/cosign"
	"minsheng/cases/residents"
	"minsheng/internal/auth"
)

// step loads the case and runs the checks every transition shares, in the
// order a user can act on: scope and role (EFORBIDDEN), the version they
// read (ECONFLICT, stale), the state (ECONFLICT, naming what is allowed).
// A money effect the previous transition left pending (a crash, a store
// error) is finished first, so no step builds on undecided money.
func (s *Service) step(ctx context.Context, p auth.Principal, id string, version int64, a Action) (*Case, error) {
	if !p.Role.Valid() {
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := authorize(p, c, a); err != nil {
		return nil, err
	}
	return s.ready(ctx, c, version, a)
}

// stepNoted is step for an action whose only input is one text field
// (note or reason): the case is loaded and authorized first, then the
// text is checked; it returns the text trimmed.
func (s *Service) stepNoted(ctx context.Context, p auth.Principal, id string, version int64, a Action, field, text string, required bool) (*Case, string, error) {
	c, err := s.step(ctx, p, id, version, a)
	if err != nil {
		return nil, "", err
	}
	f := map[string]string{}
	text = note(f, field, text, required)
	if err := invalid(f); err != nil {
		return nil, "", err
	}
	return c, text, nil
}

// ready runs the checks after the caller's: a pending money effect is
// finished, then the version (ECONFLICT, stale) and the state (ECONFLICT,
// naming what is allowed).
func (s *Service) ready(ctx context.Context, c *Case, version int64, a Action) (*Case, error) {
	var err error
	if c.MoneyEffect != nil && c.MoneyEffect.State == EffectPending {
		if c, err = s.settle(ctx, c); err != nil {
			if refused(err) {
				return nil, errStale()
			}
			return nil, err
		}
	}
	if c.Version != version {
		return nil, errStale()
	}
	if err := checkState(c, a); err != nil {
		return nil, err
	}
	return c, nil
}

// finish applies a transition and returns the case as p sees it.
func (s *Service) finish(ctx context.Context, p auth.Principal, c *Case, version int64, a Action, set bson.D, noteText string) (*Case, error) {
	to := a.target()
	set = append(set, bson.E{Key: "status", Value: to})
	out, err := s.apply(ctx, c.ID, version, set, s.event(p, a, c.Status, to, noteText))
	if err != nil {
		return nil, err
	}
	return s.view(ctx, p, out)
}

// Accept takes a submitted case on (受理) and starts its completion
// deadline. Subdistrict staff of its sub-district or admin.
func (s *Service) Accept(ctx context.Context, p auth.Principal, id string, version int64, noteText string) (*Case, error) {
	c, noteText, err := s.stepNoted(ctx, p, id, version, ActAccept, "note", noteText, false)
	if err != nil {
		return nil, err
	}
	now := s.now()
	due := now.AddDate(0, 0, c.SLADays)
	return s.finish(ctx, p, c, version, ActAccept, bson.D{
		{Key: "accepted_at", Value: now},
		{Key: "responded_at", Value: now},
		{Key: "completion_due_at", Value: due},
		{Key: "due_at", Value: due},
	}, noteText)
}

// Reject refuses a submitted case with a reason (不予受理).
func (s *Service) Reject(ctx context.Context, p auth.Principal, id string, version int64, reason string) (*Case, error) {
	c, reason, err := s.stepNoted(ctx, p, id, version, ActReject, "reason", reason, true)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return s.finish(ctx, p, c, version, ActReject, bson.D{
		{Key: "reason", Value: reason},
		{Key: "responded_at", Value: now},
		{Key: "closed_at", Value: now},
		{Key: "due_at", Value: farFuture},
	}, reason)
}

// Assign dispatches an accepted case to a cadre of its community (派单);
// an assigned case may be reassigned. With Config.Users set, the assignee
// must be an active cadre of the case's community (EINVALID otherwise).
func (s *Service) Assign(ctx context.Context, p auth.Principal, id string, version int64, cadreID, noteText string) (*Case, error) {
	c, err := s.step(ctx, p, id, version, ActAssign)
	if err != nil {
		return nil, err
	}
	f := map[string]string{}
	cadreID = strings.TrimSpace(cadreID)
	noteText = note(f, "note", noteText, false)
	name := ""
	switch {
	case cadreID == "":
		f["cadre_id"] = "请选择社区干部"
	case len(cadreID) > 64:
		f["cadre_id"] = "无效"
	case s.cfg.Users != nil:
		u, err := s.cfg.Users.FindUserByID(ctx, cadreID)
		switch {
		case errors.Is(err, minsheng.ErrNotFound) || minsheng.ErrorCode(err) == minsheng.ENOTFOUND:
			f["cadre_id"] = "用户不存在"
		case err != nil:
			return nil, fmt.Errorf("cases: unable to look up assignee: %w", err)
		case u.Role != auth.RoleCadre || u.Community != c.Location.Community || u.Disabled:
			f["cadre_id"] = "只能派给本社区的社区干部"
		default:
			name = u.Name
		}
	}
	if err := invalid(f); err != nil {
		return nil, err
	}
	return s.finish(ctx, p, c, version, ActAssign, bson.D{
		{Key: "assigned_to", Value: cadreID},
		{Key: "assigned_name", Value: name},
	}, noteText)
}

// Assess records the cadre's on-site assessment (现场评估): cost estimate in
// fen, households affected, risk 1–3. May be repeated before work starts.
func (s *Service) Assess(ctx context.Context, p auth.Principal, id string, version int64, a Assessment) (*Case, error) {
	c, err := s.step(ctx, p, id, version, ActAssess)
	if err != nil {
		return nil, err
	}
	f := map[string]string{}
	if msg := minsheng.FenProblem(a.EstimateFen); msg != "" {
		f["estimate_fen"] = msg
	}
	if a.Households < 1 || a.Households > maxHouseholds {
		f["households"] = fmt.Sprintf("须在 1 到 %d 之间", maxHouseholds)
	}
	if a.Risk < 1 || a.Risk > 3 {
		f["risk"] = "风险等级须为 1（低）、2（中）或 3（高）"
	}
	if a.Elderly < 0 || a.Elderly > maxHouseholds*10 {
		f["elderly"] = "老年人人数不能为负或超出范围"
	}
	if a.Disabled < 0 || a.Disabled > maxHouseholds*10 {
		f["disabled"] = "残疾人人数不能为负或超出范围"
	}
	a.Note = note(f, "note", a.Note, false)
	if err := invalid(f); err != nil {
		return nil, err
	}
	return s.finish(ctx, p, c, version, ActAssess, bson.D{
		{Key: "assessment", Value: a},
		{Key: "households", Value: a.Households},
	}, fmt.Sprintf("估算 %s，涉及 %d 户，风险等级 %d。%s", minsheng.Yuan(a.EstimateFen), a.Households, a.Risk, a.Note))
}

// Start begins the work (开始办理).
func (s *Service) Start(ctx context.Context, p auth.Principal, id string, version int64, noteText string) (*Case, error) {
	c, noteText, err := s.stepNoted(ctx, p, id, version, ActStart, "note", noteText, false)
	if err != nil {
		return nil, err
	}
	return s.finish(ctx, p, c, version, ActStart, nil, noteText)
}

// Complete reports the work done (办结) with its actual cost. At least one
// after-photo is required. An overrun the case's line cannot cover is
// refused before anything is decided; then the versioned write decides the
// completion with its pending money effect, and only the request that won
// it moves money (effects.go).
func (s *Service) Complete(ctx context.Context, p auth.Principal, id string, version int64, actualFen int64, noteText string) (*Case, error) {
	c, err := s.step(ctx, p, id, version, ActComplete)
	if err != nil {
		return nil, err
	}
	f := map[string]string{}
	if msg := minsheng.FenProblem(actualFen); msg != "" {
		f["actual_cost_fen"] = msg
	}
	if !c.HasPhoto(TagAfter) {
		f["photos"] = "请先上传至少一张办结后照片"
	}
	noteText = note(f, "note", noteText, false)
	if err := invalid(f); err != nil {
		return nil, err
	}
	if err := s.money.CanComplete(ctx, c, actualFen); err != nil {
		return nil, err
	}
	now := s.now()
	e := s.newEffect(p, c, EffectSpend, actualFen)
	return s.decide(ctx, p, c, version, e, change{set: bson.D{
		{Key: "status", Value: ActComplete.target()},
		{Key: "actual_cost_fen", Value: actualFen},
		{Key: "completed_at", Value: now},
		{Key: "due_at", Value: farFuture},
		{Key: "money_effect", Value: e},
	}}, s.event(p, ActComplete, c.Status, ActComplete.target(), strings.TrimSpace("实际费用 "+minsheng.Yuan(actualFen)+"。"+noteText)))
}

// decide writes a transition carrying a money effect, then settles the
// effect; a loser of the version race gets ECONFLICT having changed
// nothing.
func (s *Service) decide(ctx context.Context, p auth.Principal, c *Case, version int64, e *MoneyEffect, ch change, ev Event) (*Case, error) {
	out, err := s.applyChange(ctx, c.ID, version, ch, ev)
	if err != nil {
		return nil, err
	}
	if out, err = s.settle(ctx, out); err != nil {
		return nil, err
	}
	return s.view(ctx, p, out)
}

// Cancel ends an open case with a reason (取消). The versioned write
// decides the cancellation with its pending release, then the release is
// applied (effects.go).
func (s *Service) Cancel(ctx context.Context, p auth.Principal, id string, version int64, reason string) (*Case, error) {
	c, reason, err := s.stepNoted(ctx, p, id, version, ActCancel, "reason", reason, true)
	if err != nil {
		return nil, err
	}
	now := s.now()
	e := s.newEffect(p, c, EffectRelease, 0)
	return s.decide(ctx, p, c, version, e, change{set: bson.D{
		{Key: "status", Value: ActCancel.target()},
		{Key: "reason", Value: reason},
		{Key: "closed_at", Value: now},
		{Key: "due_at", Value: farFuture},
		{Key: "money_effect", Value: e},
	}}, s.event(p, ActCancel, c.Status, ActCancel.target(), reason))
}

// Merge closes a duplicate into the case kept (合并重复诉求): the duplicate
// becomes merged with MergedInto set; its filer, co-signers and photos
// move to the kept case. The duplicate's versioned transition happens
// first, so a merge takes effect once; copying to the kept case is
// idempotent (guarded by MergedFrom), so a retry after a failure between
// the two completes it.
func (s *Service) Merge(ctx context.Context, p auth.Principal, id string, version int64, intoID, noteText string) (*Case, error) {
	c, err := s.step(ctx, p, id, version, ActMerge)
	if err != nil {
		return nil, err
	}
	f := map[string]string{}
	intoID = strings.TrimSpace(intoID)
	noteText = note(f, "note", noteText, false)
	var kept *Case
	switch {
	case intoID == "":
		f["into"] = "请选择保留的案件"
	case intoID == c.ID:
		f["into"] = "不能合并到自身"
	default:
		kept, err = s.load(ctx, intoID)
		switch {
		case minsheng.ErrorCode(err) == minsheng.ENOTFOUND:
			f["into"] = "案件不存在"
		case err != nil:
			return nil, err
		case !kept.Status.Open() && kept.Status != StatusCompleted:
			f["into"] = fmt.Sprintf("保留的案件状态为「%s」，不能并入", kept.Status.Label())
		}
	}
	if err := invalid(f); err != nil {
		return nil, err
	}
	if err := p.RequireAccess(kept.Location.SubDistrict, kept.Location.Community); err != nil {
		return nil, err
	}
	if kept.Location.SubDistrict != c.Location.SubDistrict {
		// The duplicate's filer would read the kept case: never across
		// sub-districts, not even for admin.
		return nil, minsheng.Invalid("请检查填写的内容", map[string]string{"into": "只能合并同一街道的案件"})
	}
	now := s.now()
	text := "并入 " + kept.Number
	if noteText != "" {
		text += "：" + noteText
	}
	// Copy first, close second: copyInto is idempotent (keyed by
	// merged_from), so a crash between the two leaves the duplicate open
	// and a retried merge completes it; the other order could lose the
	// duplicate's co-signers and photos.
	if err := s.copyInto(ctx, p, c, kept); err != nil {
		return nil, err
	}
	if s.faultAfterMergeCopy != nil {
		if err := s.faultAfterMergeCopy(); err != nil {
			return nil, err
		}
	}
	return s.finish(ctx, p, c, version, ActMerge, bson.D{
		{Key: "merged_into", Value: kept.ID},
		{Key: "responded_at", Value: now},
		{Key: "closed_at", Value: now},
		{Key: "due_at", Value: farFuture},
	}, text)
}

// copyInto moves the duplicate's voices and photos to the kept case, once:
// whether it was done is read from merged_from in Go (never a $ne over the
// array, which the embedded engine gets wrong), and the update is
// conditional on the version and photo count read, so a concurrent merge
// or upload makes it read again. Photos beyond MaxPhotos stay with the
// duplicate, and the kept case's timeline says how many.
func (s *Service) copyInto(ctx context.Context, p auth.Principal, dup, kept *Case) error {
	for attempt := 0; attempt < maxMergeRetries; attempt++ {
		if slices.Contains(kept.MergedFrom, dup.ID) {
			return nil
		}
		voices := []string{}
		for _, u := range append(append([]string(nil), dup.Cosigners...), dup.FilerID) {
			if u != "" && u != kept.FilerID {
				voices = append(voices, u)
			}
		}
		photos := dup.Photos[:min(len(dup.Photos), max(MaxPhotos-kept.PhotoCount, 0))]
		text := "并入重复诉求 " + dup.Number
		if left := len(dup.Photos) - len(photos); left > 0 {
			text += fmt.Sprintf("（照片已达%d张上限，%d张未并入）", MaxPhotos, left)
		}
		update := bson.D{
			{Key: "$addToSet", Value: bson.D{
				{Key: "cosigners", Value: bson.D{{Key: "$each", Value: voices}}},
				{Key: "merged_from", Value: dup.ID},
			}},
			{Key: "$push", Value: bson.D{
				{Key: "photos", Value: bson.D{{Key: "$each", Value: photos}}},
				{Key: "timeline", Value: s.event(p, ActMergedIn, "", "", text)},
			}},
			{Key: "$inc", Value: bson.D{{Key: "photo_count", Value: len(photos)}, {Key: "version", Value: int64(1)}}},
		}
		matched, err := s.cases.Update(ctx, casedb.Change{ID: kept.ID, If: bson.D{
			{Key: "version", Value: kept.Version}, {Key: "photo_count", Value: kept.PhotoCount},
		}, Update: update})
		if err != nil {
			return fmt.Errorf("cases: unable to merge %s into %s: %w", dup.ID, kept.ID, err)
		}
		if matched {
			return nil
		}
		if kept, err = s.load(ctx, kept.ID); err != nil {
			return err
		}
	}
	return minsheng.Errorf(minsheng.ECONFLICT, "保留的案件正被同时修改，请稍后重试")
}

// maxMergeRetries bounds copyInto's loop; each retry means the kept case
// changed between its read and its update.
const maxMergeRetries = 10

// Cosign adds p's voice to an open case (附议, +1), once per resident.
// The filer cannot co-sign their own case. Only a case the resident may
// find may be co-signed: a public one, or one they may view already;
// another resident's 不公开 case is ENOTFOUND, as if it did not exist (a
// co-signature would give its public view for good). Co-signing does not
// change the version: it never conflicts with the staff's work on the case.
func (s *Service) Cosign(ctx context.Context, p auth.Principal, id string) (*Case, error) {
	if err := p.RequireRole(auth.RoleResident); err != nil {
		return nil, err
	}
	if p.UserID == "" {
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case !mayFind(p, c):
		return nil, caseNotFound()
	case c.FilerID == p.UserID || c.FiledBy == p.UserID:
		return nil, minsheng.Errorf(minsheng.ECONFLICT, "不能附议自己提交的案件")
	case !c.Status.Open():
		return nil, minsheng.Errorf(minsheng.ECONFLICT, "当前状态为「%s」，不能附议", c.Status.Label())
	}
	for _, u := range c.Cosigners {
		if u == p.UserID {
			return nil, cosign.ErrAlready()
		}
	}
	// Once per resident is a claim under a unique _id (package cosign).
	if err := s.claimCosign(ctx, id, p.UserID); err != nil {
		return nil, err
	}
	matched, err := s.cases.Update(ctx, casedb.Change{ID: id, Update: bson.D{
		{Key: "$addToSet", Value: bson.D{{Key: "cosigners", Value: p.UserID}}},
		{Key: "$push", Value: bson.D{{Key: "timeline", Value: s.event(p, ActCosign, "", "", "")}}},
	}})
	if err != nil {
		return nil, fmt.Errorf("cases: unable to co-sign %s: %w", id, err)
	}
	if !matched {
		return nil, caseNotFound()
	}
	out, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, p, out)
}

// claimCosign takes the claim of userID's +1 on a case (package cosign):
// ECONFLICT when it was taken already, unless a crash left it without the
// co-signature for longer than cosign.Stale.
func (s *Service) claimCosign(ctx context.Context, caseID, userID string) error {
	return s.cosigns.Take(ctx, caseID, userID, s.now(), func() (bool, error) {
		c, err := s.load(ctx, caseID)
		if err != nil {
			return false, err
		}
		return slices.Contains(c.Cosigners, userID), nil
	})
}

// SetCatalogItem classifies an open case to a standard catalog item and,
// when slaDays > 0, sets its completion deadline to that many days from
// acceptance. budgetlink checks the item against the catalog before calling.
func (s *Service) SetCatalogItem(ctx context.Context, p auth.Principal, id string, version int64, itemCode string, slaDays int) (*Case, error) {
	c, err := s.step(ctx, p, id, version, ActCatalog)
	if err != nil {
		return nil, err
	}
	f := map[string]string{}
	itemCode = strings.TrimSpace(itemCode)
	switch {
	case itemCode == "":
		f["item_code"] = "请选择支出事项"
	case len(itemCode) > 32:
		f["item_code"] = "编码无效"
	}
	if slaDays < 0 || slaDays > 365 {
		f["sla_days"] = "办结时限须在 0 到 365 天之间"
	}
	if err := invalid(f); err != nil {
		return nil, err
	}
	set := bson.D{{Key: "catalog_item", Value: itemCode}}
	text := "归类为 " + itemCode
	if slaDays > 0 {
		set = append(set, bson.E{Key: "sla_days", Value: slaDays})
		text += fmt.Sprintf("，办结时限 %d 天", slaDays)
		if c.AcceptedAt != nil {
			due := c.AcceptedAt.AddDate(0, 0, slaDays)
			set = append(set, bson.E{Key: "completion_due_at", Value: due})
			if c.Status != StatusSubmitted {
				set = append(set, bson.E{Key: "due_at", Value: due})
			}
		}
	}
	out, err := s.apply(ctx, c.ID, version, set, s.event(p, ActCatalog, "", "", text))
	if err != nil {
		return nil, err
	}
	return s.view(ctx, p, out)
}

// SetBudgetCopy writes the case's display copy of its budget link (nil
// removes it) without a version check: budgetlink owns the authoritative
// link and the checker repairs copies. A non-empty note is appended to the
// timeline as taken by "by" — its id, name and role, so every screen names
// who linked or released the money — or by the system when by has no user
// (Check's repairs). ENOTFOUND for an unknown case.
func (s *Service) SetBudgetCopy(ctx context.Context, by auth.Principal, id string, link *BudgetLink, noteText string) error {
	var update bson.D
	if link == nil {
		update = bson.D{{Key: "$unset", Value: bson.D{{Key: "budget", Value: ""}}}}
	} else {
		update = bson.D{{Key: "$set", Value: bson.D{{Key: "budget", Value: link}}}}
	}
	if noteText != "" {
		ev := Event{At: s.now(), Actor: SystemActor, Action: ActBudget, Note: noteText}
		if by.UserID != "" {
			ev = s.event(by, ActBudget, "", "", noteText)
		}
		update = append(update, bson.E{Key: "$push", Value: bson.D{{Key: "timeline", Value: ev}}})
	}
	// The case as stored after the update feeds both its summary and the
	// assignee's notification, so neither reads it again.
	out, err := s.cases.UpdateAndGet(ctx, casedb.Change{ID: id, Update: update})
	if errors.Is(err, minsheng.ErrNotFound) {
		return caseNotFound()
	}
	if err != nil {
		return fmt.Errorf("cases: unable to copy budget link to %s: %w", id, err)
	}
	if noteText != "" {
		s.notifyAfter(ctx, out, Event{At: s.now(), Action: ActBudget, Note: noteText}) // notify.go
	}
	return nil
}

// PurgePersonalData blanks the contact name and phone of cases that reached
// a final state before the given time (PIPL retention), and returns how
// many were purged (package residents). Timelines hold no residents' names,
// so they stay.
func (s *Service) PurgePersonalData(ctx context.Context, before time.Time) (int64, error) {
	return residents.Purge(ctx, s.cases, before, s.now())
}
