package ledger

// Check (`minsheng check`, also run at start) recomputes every line's
// totals from the entries the line carries, finishes adjustments a crash
// left half-applied, writes audit entries a crash lost, and repairs the
// copies of links kept on cases. Every repair is a conditional update, so
// Check may run beside live traffic.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/auth"
)

// Kinds of repair Check reports.
const (
	FixLineTotals         = "line_totals"         // totals recomputed from the entries
	FixAdjustmentFinished = "adjustment_finished" // pending adjustment applied to its remaining lines
	FixAdjustmentFailed   = "adjustment_failed"   // pending adjustment refused, nothing applied
	FixAuditWritten       = "audit_written"       // lost audit entry reconstructed
	FixCaseCopy           = "case_copy"           // case's copy of its link rewritten from the line
	FixImportRolledBack   = "import_rolled_back"  // lines of an interrupted import removed
	FixClaimDropped       = "claim_dropped"       // claim without a live reservation deleted
	FixClaimWritten       = "claim_written"       // claim written for a live reservation lacking one
	FixClaimSettled       = "claim_settled"       // ledger claim a crash left open marked applied or dropped
	FixDuplicateDropped   = "duplicate_dropped"   // entry applied twice to one line; the copy undone
	FixLineFrozen         = "line_frozen"         // line whose figures cannot add up within the bounds frozen
)

// CheckFix is one repair.
type CheckFix struct {
	Kind         string `json:"kind"`
	LineID       string `json:"line_id,omitempty"`
	CaseID       string `json:"case_id,omitempty"`
	AdjustmentID string `json:"adjustment_id,omitempty"`
	Detail       string `json:"detail"`
}

// CheckReport says what Check looked at, what it repaired and what it found
// but could not repair on its own.
type CheckReport struct {
	Lines        int `json:"lines"`
	Reservations int `json:"reservations"`
	Adjustments  int `json:"adjustments_pending"`
	Cases        int `json:"cases"`
	Claims       int `json:"claims"`
	// Frozen lists the lines no money may move on until finance corrects
	// them (stored figures beyond minsheng.MaxAmountFen); they never stop
	// Check or the server.
	Frozen   []CheckFix    `json:"frozen"`
	Fixes    []CheckFix    `json:"fixes"`
	Problems []string      `json:"problems"`
	Duration time.Duration `json:"duration_ns"`
}

// OK reports whether nothing needed repair and nothing is left wrong.
func (r *CheckReport) OK() bool { return len(r.Fixes) == 0 && len(r.Problems) == 0 }

func (r *CheckReport) fix(f CheckFix) { r.Fixes = append(r.Fixes, f) }

// checkPrincipal is who Check acts as in audit entries.
var checkPrincipal = auth.Principal{UserID: "system:check", Name: "数据核查", Role: auth.RoleAdmin}

// liveLink is a live reservation found on a line during Check.
type liveLink struct {
	line *BudgetLine
	r    Reservation
}

// Check verifies and repairs the ledger; see the file comment. It returns
// an error only when the store fails; inconsistencies are repaired and
// reported.
func (s *Service) Check(ctx context.Context) (CheckReport, error) {
	start := time.Now()
	var rep CheckReport
	if err := s.checkImports(ctx, &rep); err != nil {
		return rep, err
	}
	if err := s.checkCaseEffects(ctx, &rep); err != nil {
		return rep, err
	}
	if err := s.checkAdjustments(ctx, &rep); err != nil {
		return rep, err
	}
	if err := s.checkLedgerClaims(ctx, &rep); err != nil {
		return rep, err
	}
	// The cases' copies of their links are read from the summaries while
	// the lines and claims are checked, which write neither cases nor
	// summaries: checkCaseCopies takes them as hints and decides every
	// repair on a fresh read of the case, so reading them earlier changes
	// nothing it repairs (at 50,000 cases the read took 1 s, the lines and
	// claims 0.6 s, each mostly the engine's decoding, on one core each).
	var (
		copies    map[string]*caseCopy
		copiesErr error
		reading   sync.WaitGroup
	)
	readCtx, stopReading := context.WithCancel(ctx)
	defer func() { stopReading(); reading.Wait() }()
	if s.cases != nil {
		reading.Go(func() { copies, copiesErr = s.linkedCopies(readCtx) })
	}
	links := map[string][]liveLink{}
	err := s.lines.Each(ctx, bson.M{}, func(cur *mongo.Cursor) error {
		var l BudgetLine
		if err := cur.Decode(&l); err != nil {
			return fmt.Errorf("budgetlink: check: unable to decode line: %w", err)
		}
		rep.Lines++
		if err := s.checkLine(ctx, &l, &rep); err != nil {
			return err
		}
		for _, r := range l.Reservations {
			if r.Live() {
				rep.Reservations++
				links[r.CaseID] = append(links[r.CaseID], liveLink{line: &l, r: r})
			}
		}
		return nil
	}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return rep, err
	}
	for caseID, ls := range links {
		if len(ls) > 1 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("案件 %s 同时在 %d 个预算项目上预留或支出，请人工核对并解除多余的关联", caseID, len(ls)))
		}
	}
	if err := s.checkClaims(ctx, links, &rep); err != nil {
		return rep, err
	}
	if err := s.markClaimsComplete(ctx); err != nil { // claim.go
		return rep, err
	}
	if s.cases != nil {
		reading.Wait()
		if copiesErr != nil {
			return rep, copiesErr
		}
		if err := s.checkCaseCopies(ctx, copies, links, &rep); err != nil {
			return rep, err
		}
	}
	rep.Duration = time.Since(start)
	if !rep.OK() {
		s.logger.Warn("budget check repaired the ledger", "fixes", len(rep.Fixes), "problems", len(rep.Problems))
	}
	return rep, nil
}

// checkClaims makes the per-case claims (claim.go) agree with the live
// reservations: a live reservation whose case has no claim, or a claim
// naming a line that holds nothing, gets the claim of its line; a claim
// with no live reservation anywhere (a crash between claim and reserve, or
// between release and drop) is dropped. Claims younger than the stale
// window are left alone, since a link may be in flight under them, and
// every repair looks at the lines again first and is conditional on the
// claim's token, so a link that takes the claim over meanwhile wins.
func (s *Service) checkClaims(ctx context.Context, links map[string][]liveLink, rep *CheckReport) error {
	claims := map[string]caseClaim{}
	err := s.claims.Each(ctx, bson.M{}, func(cur *mongo.Cursor) error {
		var cl caseClaim
		if err := cur.Decode(&cl); err != nil {
			return fmt.Errorf("budgetlink: check: unable to decode claim: %w", err)
		}
		claims[cl.CaseID] = cl
		return nil
	})
	if err != nil {
		return err
	}
	rep.Claims = len(claims)
	cutoff := s.now().Add(-s.staleAfter)
	for _, caseID := range sortedKeys(links) {
		cl, ok := claims[caseID]
		if ok && (holdsLine(links[caseID], cl.LineID) || cl.UpdatedAt.After(cutoff)) {
			continue
		}
		l, _, err := s.lineOfCase(ctx, caseID)
		if err != nil {
			return err
		}
		if l == nil {
			continue // released since the scan
		}
		now := s.now()
		want := caseClaim{CaseID: caseID, LineID: l.ID, Token: newID("CL"), CreatedAt: now, UpdatedAt: now}
		if ok {
			matched, err := s.claims.UpdateOne(ctx, bson.M{"_id": caseID, "token": cl.Token},
				bson.M{"$set": bson.M{"line_id": want.LineID, "token": want.Token, "updated_at": now}})
			if err != nil {
				return fmt.Errorf("budgetlink: check: unable to repair the claim of case %s: %w", caseID, err)
			}
			if matched == 0 {
				continue
			}
			rep.fix(CheckFix{Kind: FixClaimWritten, LineID: l.ID, CaseID: caseID,
				Detail: fmt.Sprintf("案件的预算占用记录指向没有预留的预算项目 %s，已按预留改为 %s", cl.LineID, l.ID)})
			continue
		}
		if err := s.claims.InsertOne(ctx, want); errors.Is(err, minsheng.ErrDuplicate) {
			continue // a link claimed it meanwhile; the next check looks again
		} else if err != nil {
			return fmt.Errorf("budgetlink: check: unable to write the claim of case %s: %w", caseID, err)
		}
		rep.fix(CheckFix{Kind: FixClaimWritten, LineID: l.ID, CaseID: caseID, Detail: "预算项目上有该案件的预留但缺少预算占用记录，已补写"})
	}
	for _, caseID := range sortedKeys(claims) {
		cl := claims[caseID]
		if _, live := links[caseID]; live || cl.UpdatedAt.After(cutoff) {
			continue
		}
		l, _, err := s.lineOfCase(ctx, caseID)
		if err != nil {
			return err
		}
		if l != nil {
			continue // reserved since the scan
		}
		dropped, err := s.dropClaim(ctx, cl)
		if err != nil {
			return err
		}
		if dropped {
			rep.fix(CheckFix{Kind: FixClaimDropped, LineID: cl.LineID, CaseID: caseID,
				Detail: fmt.Sprintf("案件的预算占用记录（%s 起）没有对应的预留，系关联或解除关联中断所留，已删除", cl.UpdatedAt.In(s.zone).Format("2006-01-02 15:04"))})
		}
	}
	return nil
}

func holdsLine(ls []liveLink, lineID string) bool {
	for _, x := range ls {
		if x.line.ID == lineID {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// checkAdjustments finishes adjustments left pending for longer than
// staleAfter: a crash between the two lines of a transfer.
func (s *Service) checkAdjustments(ctx context.Context, rep *CheckReport) error {
	var pending []Adjustment
	if err := s.adjustments.FindAll(ctx, bson.M{"state": AdjustmentPending, "created_at": bson.M{"$lte": s.now().Add(-s.staleAfter)}}, &pending,
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}})); err != nil {
		return fmt.Errorf("budgetlink: check: unable to list pending adjustments: %w", err)
	}
	rep.Adjustments = len(pending)
	for i := range pending {
		adj := &pending[i]
		err := s.applyAdjustment(ctx, checkPrincipal, adj)
		switch {
		case err == nil:
			rep.fix(CheckFix{Kind: FixAdjustmentFinished, AdjustmentID: adj.ID, Detail: fmt.Sprintf("%s %s 已补记到全部预算项目", adjustLabels[adj.Kind], minsheng.Yuan(adj.AmountFen))})
		case adj.State == AdjustmentFailed:
			rep.fix(CheckFix{Kind: FixAdjustmentFailed, AdjustmentID: adj.ID, Detail: adj.FailReason})
		case minsheng.ErrorCode(err) == minsheng.EINTERNAL:
			return err
		default:
			rep.Problems = append(rep.Problems, fmt.Sprintf("预算调整 %s 无法完成：%s", adj.ID, minsheng.ErrorMessage(err)))
		}
	}
	return nil
}

// checkImports rolls back imports a crash left pending, keeping the
// all-or-nothing promise of ImportLines.
func (s *Service) checkImports(ctx context.Context, rep *CheckReport) error {
	var pending []importBatch
	if err := s.store.Collection(importBatchesCollection).FindAll(ctx,
		bson.M{"state": "pending", "created_at": bson.M{"$lte": s.now().Add(-s.staleAfter)}}, &pending); err != nil {
		return fmt.Errorf("budgetlink: check: unable to list pending imports: %w", err)
	}
	for _, b := range pending {
		if err := s.rollbackImport(ctx, b.ID); err != nil {
			return err
		}
		rep.fix(CheckFix{Kind: FixImportRolledBack, Detail: fmt.Sprintf("导入批次 %s 中断，已撤回其预算项目", b.ID)})
	}
	return nil
}

// recomputed is what a line's totals must be, given its entries, with
// every sum overflow-checked; reason says why they cannot be (an amount
// beyond minsheng.MaxAmountFen), "" when they can.
func recomputed(l *BudgetLine) (t Totals, count int64, reason string) {
	bad := func(format string, args ...any) (Totals, int64, string) {
		return Totals{}, 0, fmt.Sprintf(format, args...)
	}
	if !minsheng.ValidAmount(l.ApprovedFen) {
		return bad("批复金额 %d 分超出 0 至 %s的范围", l.ApprovedFen, minsheng.MaxAmountText)
	}
	t.ApprovedFen = l.ApprovedFen
	var ok bool
	for _, d := range l.Adjustments {
		if d.DeltaFen < -minsheng.MaxAmountFen || d.DeltaFen > minsheng.MaxAmountFen {
			return bad("调整 %s 的金额 %d 分超出范围", d.AdjustmentID, d.DeltaFen)
		}
		if t.AdjustedFen, ok = minsheng.AddFen(t.AdjustedFen, d.DeltaFen); !ok {
			return bad("调整合计溢出")
		}
		count++
	}
	for _, r := range l.Reservations {
		if !minsheng.ValidAmount(r.AmountFen) || !minsheng.ValidAmount(r.SpentFen) {
			return bad("案件 %s%s 的预留或支出金额超出范围", r.CaseID, r.ReleasedCaseID)
		}
		ok = true
		switch r.State {
		case StateReserved:
			t.CommittedFen, ok = minsheng.AddFen(t.CommittedFen, r.AmountFen)
		case StateSpent:
			t.SpentFen, ok = minsheng.AddFen(t.SpentFen, r.SpentFen)
		}
		if !ok {
			return bad("预留或支出合计溢出")
		}
	}
	for _, pm := range l.Payments {
		if !minsheng.ValidAmount(pm.AmountFen) {
			return bad("直接支出 %s 的金额超出范围", pm.ID)
		}
		if t.SpentFen, ok = minsheng.AddFen(t.SpentFen, pm.AmountFen); !ok {
			return bad("预留或支出合计溢出")
		}
	}
	budget, ok := minsheng.AddFen(t.ApprovedFen, t.AdjustedFen)
	if !ok || budget > minsheng.MaxAmountFen {
		return bad("批复加调整后的预算超过 %s", minsheng.MaxAmountText)
	}
	if t.CommittedFen > minsheng.MaxAmountFen || t.SpentFen > minsheng.MaxAmountFen {
		return bad("已预留或已支出合计超过 %s", minsheng.MaxAmountText)
	}
	t.AvailableFen = budget - t.CommittedFen - t.SpentFen
	return t, count, ""
}

// dedupe undoes entries applied to a line more than once: a second delta
// of one adjustment, a second live entry of one case (the parallel
// duplicates the engine's $ne let through before ledger claims). The
// first of each stays: it is the one every later movement worked on.
func (s *Service) dedupe(l *BudgetLine) (rs []Reservation, ds []LineDelta, dropped []Reservation, droppedDeltas []LineDelta) {
	seenAdj := map[string]bool{}
	for _, d := range l.Adjustments {
		if seenAdj[d.AdjustmentID] {
			droppedDeltas = append(droppedDeltas, d)
			continue
		}
		seenAdj[d.AdjustmentID] = true
		ds = append(ds, d)
	}
	seenCase := map[string]bool{}
	now := s.now()
	for _, r := range l.Reservations {
		if r.Live() && r.CaseID != "" {
			if seenCase[r.CaseID] {
				r.ReleasedCaseID, r.CaseID = r.CaseID, ""
				r.State, r.Movement, r.UpdatedAt = StateReleased, newID("MV"), now
				dropped = append(dropped, r)
			} else {
				seenCase[r.CaseID] = true
			}
		}
		rs = append(rs, r)
	}
	if ds == nil {
		ds = []LineDelta{}
	}
	if rs == nil {
		rs = []Reservation{}
	}
	return rs, ds, dropped, droppedDeltas
}

func (s *Service) checkLine(ctx context.Context, l *BudgetLine, rep *CheckReport) error {
	for attempt := 0; ; attempt++ {
		if attempt == maxVersionRetries {
			rep.Problems = append(rep.Problems, fmt.Sprintf("预算项目 %s 修改频繁，合计未能修复，请稍后重新核查", l.ID))
			return nil
		}
		if l.Frozen != "" {
			rep.Frozen = append(rep.Frozen, CheckFix{Kind: FixLineFrozen, LineID: l.ID, Detail: l.Frozen})
			return nil
		}
		res, err := s.checkLineOnce(ctx, l, rep)
		if err != nil {
			return err
		}
		switch res {
		case lineFrozenNow:
			return nil
		case lineChecked:
			return s.checkAudit(ctx, l, rep)
		}
		cur, err := s.FindLineByID(ctx, l.ID)
		if err != nil {
			return err
		}
		*l = *cur
	}
}

// lineCheck is how one attempt of checkLine ended.
type lineCheck int

const (
	lineChecked   lineCheck = iota // its totals were right or are repaired: its audit next
	lineFrozenNow                  // frozen by this check: nothing more to do
	lineRaced                      // written since it was read: read it again and retry
)

// checkLineOnce drops l's duplicate reservations and adjustments and
// repairs its totals, or freezes it if its figures are beyond the money
// bound, in one write guarded by l's version.
func (s *Service) checkLineOnce(ctx context.Context, l *BudgetLine, rep *CheckReport) (lineCheck, error) {
	rs, ds, dropped, droppedDeltas := s.dedupe(l)
	probe := *l
	probe.Reservations, probe.Adjustments = rs, ds
	want, count, reason := recomputed(&probe)
	if reason != "" {
		return s.freezeLine(ctx, l, reason, rep)
	}
	if len(dropped) == 0 && len(droppedDeltas) == 0 && want == l.Totals() && count == l.AdjustmentCount {
		return lineChecked, nil
	}
	set := bson.M{"adjusted_fen": want.AdjustedFen, "committed_fen": want.CommittedFen, "spent_fen": want.SpentFen,
		"available_fen": want.AvailableFen, "adjustment_count": count, "updated_at": s.now()}
	if len(dropped) > 0 || len(droppedDeltas) > 0 {
		set["reservations"], set["adjustments"] = rs, ds
	}
	matched, err := s.lines.UpdateOne(ctx, bson.M{"_id": l.ID, "version": l.Version}, bson.M{
		"$set": set,
		"$inc": bson.M{"version": int64(1)},
	})
	if err != nil {
		return 0, fmt.Errorf("budgetlink: check: unable to repair line %s: %w", l.ID, err)
	}
	if matched == 0 {
		return lineRaced, nil
	}
	if err := s.reportLineRepair(ctx, l, want, count, dropped, droppedDeltas, rep); err != nil {
		return 0, err
	}
	l.Reservations, l.Adjustments = rs, ds
	l.AdjustedFen, l.CommittedFen, l.SpentFen, l.AvailableFen = want.AdjustedFen, want.CommittedFen, want.SpentFen, want.AvailableFen
	l.AdjustmentCount = count
	l.Version++
	return lineChecked, nil
}

// freezeLine freezes l for reason, unless it was written since it was read.
func (s *Service) freezeLine(ctx context.Context, l *BudgetLine, reason string, rep *CheckReport) (lineCheck, error) {
	matched, err := s.lines.UpdateOne(ctx, bson.M{"_id": l.ID, "version": l.Version},
		bson.M{"$set": bson.M{"frozen": reason, "updated_at": s.now()}, "$inc": bson.M{"version": int64(1)}})
	if err != nil {
		return 0, fmt.Errorf("budgetlink: check: unable to freeze line %s: %w", l.ID, err)
	}
	if matched == 0 {
		return lineRaced, nil
	}
	f := CheckFix{Kind: FixLineFrozen, LineID: l.ID, Detail: "预算项目金额数据异常，已冻结，不再预留或调整：" + reason}
	rep.fix(f)
	rep.Frozen = append(rep.Frozen, f)
	s.logger.Warn("budget check froze a line", "line", l.ID, "reason", reason)
	return lineFrozenNow, nil
}

// reportLineRepair reports and audits the repair of l (as read, before
// it) to the totals want: each duplicate dropped, then the totals.
func (s *Service) reportLineRepair(ctx context.Context, l *BudgetLine, want Totals, count int64, dropped []Reservation, droppedDeltas []LineDelta, rep *CheckReport) error {
	before := l.Totals()
	now := s.now()
	audit := func(e AuditEntry, detail string) error {
		e.Kind, e.LineID, e.FiscalYear, e.SubDistrict = AuditRepair, l.ID, l.FiscalYear, l.SubDistrict
		e.Before, e.After, e.By, e.ByName, e.At, e.Note = before, want, checkPrincipal.UserID, checkPrincipal.Name, now, detail
		return s.writeAudit(ctx, e)
	}
	for _, r := range dropped {
		detail := fmt.Sprintf("案件 %s 在本预算项目上重复预留（%s，%s），已撤销重复的一笔", r.ReleasedCaseID, stateLabel(r.State), minsheng.Yuan(r.AmountFen+r.SpentFen))
		rep.fix(CheckFix{Kind: FixDuplicateDropped, LineID: l.ID, CaseID: r.ReleasedCaseID, Detail: detail})
		if err := audit(AuditEntry{ID: r.Movement, CaseID: r.ReleasedCaseID}, detail); err != nil {
			return err
		}
	}
	for _, d := range droppedDeltas {
		detail := fmt.Sprintf("预算调整 %s 在本预算项目上重复记入（%s），已撤销重复的一笔", d.AdjustmentID, minsheng.Yuan(d.DeltaFen))
		rep.fix(CheckFix{Kind: FixDuplicateDropped, LineID: l.ID, AdjustmentID: d.AdjustmentID, Detail: detail})
		if err := audit(AuditEntry{ID: newID("MV"), AdjustmentID: d.AdjustmentID, AmountFen: -d.DeltaFen}, detail); err != nil {
			return err
		}
	}
	detail := fmt.Sprintf("合计已按明细重算：已预留 %s→%s，已支出 %s→%s，调整 %s→%s，可用 %s→%s",
		minsheng.Yuan(before.CommittedFen), minsheng.Yuan(want.CommittedFen), minsheng.Yuan(before.SpentFen), minsheng.Yuan(want.SpentFen),
		minsheng.Yuan(before.AdjustedFen), minsheng.Yuan(want.AdjustedFen), minsheng.Yuan(before.AvailableFen), minsheng.Yuan(want.AvailableFen))
	if want.AvailableFen < 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("预算项目 %s 按明细重算后可用额度为负（%s），需调增预算或解除关联", l.ID, minsheng.Yuan(want.AvailableFen)))
	}
	if want != before || count != l.AdjustmentCount {
		rep.fix(CheckFix{Kind: FixLineTotals, LineID: l.ID, Detail: detail})
		if err := audit(AuditEntry{ID: newID("MV")}, detail); err != nil {
			return err
		}
	}
	return nil
}

// checkAudit writes the audit entry of every movement the line records
// whose entry a crash lost.
func (s *Service) checkAudit(ctx context.Context, l *BudgetLine, rep *CheckReport) error {
	have := map[string]bool{}
	err := s.audit.Each(ctx, bson.M{"line_id": l.ID}, func(cur *mongo.Cursor) error {
		var e struct {
			ID string `bson:"_id"`
		}
		if err := cur.Decode(&e); err != nil {
			return fmt.Errorf("budgetlink: check: unable to decode audit id: %w", err)
		}
		have[e.ID] = true
		return nil
	}, options.Find().SetProjection(bson.M{"_id": 1}))
	if err != nil {
		return err
	}
	now := s.now()
	t := l.Totals()
	for _, r := range l.Reservations {
		if r.Movement == "" || have[r.Movement] {
			continue
		}
		caseID := r.CaseID
		if caseID == "" {
			caseID = r.ReleasedCaseID
		}
		kind, amount := AuditReserve, r.AmountFen
		switch r.State {
		case StateSpent:
			kind, amount = AuditSpend, r.SpentFen
		case StateReleased:
			kind, amount = AuditRelease, -r.AmountFen
		}
		if err := s.writeAudit(ctx, AuditEntry{
			ID: r.Movement, Kind: kind, LineID: l.ID, FiscalYear: l.FiscalYear, SubDistrict: l.SubDistrict, CaseID: caseID,
			AmountFen: amount, Before: t, After: t, By: r.LinkedBy, At: now, Reconstructed: true,
			Note: "原审计记录因中断缺失，由数据核查按预算项目明细补记",
		}); err != nil {
			return err
		}
		rep.fix(CheckFix{Kind: FixAuditWritten, LineID: l.ID, CaseID: caseID, Detail: "补记缺失的审计记录 " + r.Movement})
	}
	for _, pm := range l.Payments {
		if pm.Movement == "" || have[pm.Movement] {
			continue
		}
		if err := s.writeAudit(ctx, AuditEntry{
			ID: pm.Movement, Kind: AuditSpend, LineID: l.ID, FiscalYear: l.FiscalYear, SubDistrict: l.SubDistrict,
			AmountFen: pm.AmountFen, Before: t, After: t, By: pm.By, ByName: pm.ByName, At: now, Reconstructed: true,
			Note: pm.Note + "（原审计记录因中断缺失，由数据核查按预算项目明细补记）",
		}); err != nil {
			return err
		}
		rep.fix(CheckFix{Kind: FixAuditWritten, LineID: l.ID, Detail: "补记缺失的审计记录 " + pm.Movement})
	}
	for _, d := range l.Adjustments {
		id := adjustmentMovement(d.AdjustmentID, l.ID)
		if have[id] {
			continue
		}
		if err := s.writeAudit(ctx, AuditEntry{
			ID: id, Kind: AuditAdjust, LineID: l.ID, FiscalYear: l.FiscalYear, SubDistrict: l.SubDistrict, AdjustmentID: d.AdjustmentID,
			AmountFen: d.DeltaFen, Before: t, After: t, By: checkPrincipal.UserID, ByName: checkPrincipal.Name, At: now, Reconstructed: true,
			Note: "原审计记录因中断缺失，由数据核查按预算项目明细补记",
		}); err != nil {
			return err
		}
		rep.fix(CheckFix{Kind: FixAuditWritten, LineID: l.ID, AdjustmentID: d.AdjustmentID, Detail: "补记缺失的审计记录 " + id})
	}
	return nil
}

// linkedCopies reads the copies of their links the linked cases keep, in
// one pass over the cases' summaries (cases.EachCaseFacts).
func (s *Service) linkedCopies(ctx context.Context) (map[string]*caseCopy, error) {
	copies := map[string]*caseCopy{}
	err := s.cases.eachLinked(ctx, func(caseID string, c *caseCopy) error {
		copies[caseID] = c
		return nil
	})
	return copies, err
}

// checkCaseCopies makes every case's copy of its link agree with the
// lines: a live reservation the case does not show (crash after reserving)
// is copied onto it; a live copy without a live reservation (crash after
// releasing) is marked released. copies are as linkedCopies read them from
// the summaries; a case is read itself only when its copy there is missing
// or disagrees, and every repair is decided on that fresh read, so a
// summary a moment behind its case repairs nothing.
func (s *Service) checkCaseCopies(ctx context.Context, copies map[string]*caseCopy, links map[string][]liveLink, rep *CheckReport) error {
	for _, caseID := range sortedKeys(links) {
		ls := links[caseID]
		want := copyOf(ls[0].line, ls[0].r)
		if got, ok := copies[caseID]; ok && sameCopy(got, want) {
			rep.Cases++
			continue
		}
		got, err := s.cases.budgetCopy(ctx, caseID)
		if minsheng.ErrorCode(err) == minsheng.ENOTFOUND {
			rep.Problems = append(rep.Problems, fmt.Sprintf("预算项目 %s 上预留的案件 %s 不存在", ls[0].line.ID, caseID))
			continue
		} else if err != nil {
			return err
		}
		rep.Cases++
		if sameCopy(got, want) {
			continue
		}
		if err := s.cases.setCopy(ctx, caseID, want, "数据核查：按预算项目修复关联副本"); err != nil {
			return err
		}
		rep.fix(CheckFix{Kind: FixCaseCopy, LineID: want.LineID, CaseID: caseID,
			Detail: fmt.Sprintf("案件关联副本按预算项目修复：%s %s", stateLabel(want.State), minsheng.Yuan(want.ReservedFen+want.SpentFen))})
	}
	for _, caseID := range sortedKeys(copies) {
		if _, live := links[caseID]; live || !liveCopy(copies[caseID]) {
			continue
		}
		got, err := s.cases.budgetCopy(ctx, caseID)
		if minsheng.ErrorCode(err) == minsheng.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		if !liveCopy(got) {
			continue
		}
		rep.Cases++
		want := &caseCopy{LineID: got.LineID, ItemCode: got.ItemCode, EstimateFen: got.EstimateFen, State: StateReleased, LinkedAt: got.LinkedAt, LinkedBy: got.LinkedBy}
		if err := s.cases.setCopy(ctx, caseID, want, "数据核查：预算项目上无此预留，关联副本标为已释放"); err != nil {
			return err
		}
		rep.fix(CheckFix{Kind: FixCaseCopy, LineID: got.LineID, CaseID: caseID, Detail: "预算项目上没有该案件的预留，案件关联副本标为已释放"})
	}
	return nil
}

// liveCopy reports whether a case's copy says it holds money.
func liveCopy(c *caseCopy) bool {
	return c != nil && (c.State == StateReserved || c.State == StateSpent)
}

// caseCopy is the copy of a link a case keeps for display (cases.BudgetLink).
type caseCopy struct {
	LineID      string
	ItemCode    string
	EstimateFen int64
	ReservedFen int64
	SpentFen    int64
	State       string
	LinkedAt    time.Time
	LinkedBy    string
}

func copyOf(l *BudgetLine, r Reservation) *caseCopy {
	c := &caseCopy{LineID: l.ID, ItemCode: l.ItemCode, EstimateFen: r.AmountFen, State: r.State, LinkedAt: r.LinkedAt, LinkedBy: r.LinkedBy}
	switch r.State {
	case StateReserved:
		c.ReservedFen = r.AmountFen
	case StateSpent:
		c.SpentFen = r.SpentFen
	}
	return c
}

func sameCopy(a, b *caseCopy) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.LineID == b.LineID && a.State == b.State && a.EstimateFen == b.EstimateFen &&
		a.ReservedFen == b.ReservedFen && a.SpentFen == b.SpentFen && a.ItemCode == b.ItemCode
}

// caseBook is what the ledger needs from the cases service; link.go adapts
// *cases.Service to it. Errors: ENOTFOUND for an unknown case.
type caseBook interface {
	budgetCopy(ctx context.Context, caseID string) (*caseCopy, error)
	setCopy(ctx context.Context, caseID string, c *caseCopy, note string) error
	eachLinked(ctx context.Context, fn func(caseID string, c *caseCopy) error) error
}
