package ledger

// The ledger's money movements on one line: reserve, re-estimate, release
// and spend. Reserving is one conditional single-document update, so 64
// requests racing for the last fen of a line can never overspend it (and
// the case's claim, claim.go, keeps it from two lines at once); the
// other movements rewrite the line's reservation entries under the line's
// version (FerretDB v1 applies neither positional updates nor $pull with a
// condition, measured: $pull matched and silently removed nothing), so
// each is one conditional single-document update too, retried on a
// version race. Every movement writes an audit entry keyed by the
// movement's id, so writing it twice is harmless and Check can write one
// that a crash lost.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/page"
)

// Audit kinds: one per money movement.
const (
	AuditReserve    = "reserve"    // 预留
	AuditReestimate = "reestimate" // 重新估算
	AuditRelease    = "release"    // 释放
	AuditSpend      = "spend"      // 支出
	AuditAdjust     = "adjust"     // 预算调整
	AuditRepair     = "repair"     // 核查修复
)

// AuditEntry records one money movement on one line: who, when, which line
// and case, the signed amount and the line's totals before and after.
type AuditEntry struct {
	ID           string    `bson:"_id" json:"id"`
	Kind         string    `bson:"kind" json:"kind"`
	LineID       string    `bson:"line_id" json:"line_id"`
	FiscalYear   int       `bson:"fiscal_year" json:"fiscal_year"`
	SubDistrict  string    `bson:"sub_district" json:"sub_district"`
	CaseID       string    `bson:"case_id,omitempty" json:"case_id,omitempty"`
	AdjustmentID string    `bson:"adjustment_id,omitempty" json:"adjustment_id,omitempty"`
	AmountFen    int64     `bson:"amount_fen" json:"amount_fen"`
	Before       Totals    `bson:"before" json:"before"`
	After        Totals    `bson:"after" json:"after"`
	By           string    `bson:"by" json:"by"`
	ByName       string    `bson:"by_name" json:"by_name"`
	ByRole       auth.Role `bson:"by_role,omitempty" json:"by_role,omitempty"`
	// ActorLabel names who moved the money (cases.ActorLabel); never stored.
	ActorLabel string    `bson:"-" json:"actor_label,omitempty"`
	At         time.Time `bson:"at" json:"at"`
	Note       string    `bson:"note,omitempty" json:"note,omitempty"`
	// Reconstructed marks an entry Check wrote after a crash lost the
	// original: its totals are the line's at repair time, not the movement's.
	Reconstructed bool `bson:"reconstructed,omitempty" json:"reconstructed,omitempty"`
}

// CaseRef is what the ledger needs to know about a case.
type CaseRef struct {
	ID          string
	SubDistrict string
	// ItemCode is the case's confirmed catalog item; "" when unclassified.
	ItemCode string
}

func newID(prefix string) string {
	return prefix + "-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
}

// requireLinker admits the roles that may move money on a line of a
// sub-district: its own staff, finance and admin.
func requireLinker(p auth.Principal, subDistrict string) error {
	if err := p.RequireRole(auth.RoleSubdistrict, auth.RoleFinance, auth.RoleAdmin); err != nil {
		return err
	}
	return p.RequireAccess(subDistrict, "")
}

func liveEntry(l *BudgetLine, caseID string) (int, bool) {
	if caseID == "" {
		return -1, false
	}
	for i, r := range l.Reservations {
		if r.CaseID == caseID && r.Live() {
			return i, true
		}
	}
	return -1, false
}

// Reserve claims amountFen of a line for a case: after taking the case's
// claim (claim.go), which keeps a case on one line at a time, and the
// movement's ledger claim (ledgerclaim.go), which keeps identical requests
// from reserving twice, one conditional update {_id, available_fen ≥
// amount, marker absent} raises committed and lowers available. Reserving the same
// case for the same amount again returns the existing reservation
// (idempotent), and so does a retry after a crash between claim and line.
// Errors: EFORBIDDEN; EINVALID (amount ≤ 0, unclassified case); ENOTFOUND;
// ECONFLICT (other sub-district or item, already reserved for another
// amount or on another line, or not enough available — the message says
// how much is available).
func (s *Service) Reserve(ctx context.Context, p auth.Principal, lineID string, c CaseRef, amountFen int64) (Reservation, error) {
	l, err := s.FindLineByID(ctx, lineID)
	if err != nil {
		return Reservation{}, err
	}
	if err := requireLinker(p, l.SubDistrict); err != nil {
		return Reservation{}, err
	}
	r, _, err := s.reserve(ctx, p, l, c, amountFen)
	return r, err
}

func (s *Service) reserve(ctx context.Context, p auth.Principal, l *BudgetLine, c CaseRef, amountFen int64) (r Reservation, fresh bool, err error) {
	if err := checkReserve(l, c, amountFen); err != nil {
		return Reservation{}, false, err
	}
	if i, ok := liveEntry(l, c.ID); ok {
		r, err := sameReservation(l, l.Reservations[i], amountFen)
		return r, false, err
	}
	if l.AvailableFen < amountFen {
		// Refused on what was just read, before any claim is written (the
		// conditional update below decides the close calls).
		return Reservation{}, false, minsheng.Errorf(minsheng.ECONFLICT, "预算项目「%s」可用额度不足：可用 %s，本次需预留 %s",
			l.ProjectName, minsheng.Yuan(l.AvailableFen), minsheng.Yuan(amountFen))
	}
	cl, err := s.claimCaseFor(ctx, l, c)
	if err != nil {
		return Reservation{}, false, err
	}

	// The movement's own claim decides which of several identical requests
	// reserves (ledgerclaim.go); the others answer with its reservation.
	lc := ledgerClaim{ID: reserveClaimID(l.ID, c.ID, releasedEntries(l, c.ID)), Kind: claimReserve, LineID: l.ID, CaseID: c.ID, AmountFen: amountFen}
	mine, err := s.claimed(ctx, lc, false, func() error {
		var err error
		r, err = s.reserveOnce(ctx, p, l, c, amountFen, lc.ID)
		return err
	})
	if err != nil {
		if refusal(err) && !errors.Is(err, errClaimBusy) {
			// Nothing reserved: let the case go to another line at once
			// rather than after Check's stale window.
			if derr := s.dropClaimUnlessLive(ctx, cl, l.ID, c.ID); derr != nil {
				return Reservation{}, false, derr
			}
		}
		return Reservation{}, false, err
	}
	if !mine || r.Movement == "" {
		r, err := s.reservationNow(ctx, l.ID, c.ID, amountFen)
		return r, false, err
	}
	if err := s.confirmClaim(ctx, p, c.ID, l.ID); err != nil {
		return Reservation{}, false, err
	}
	return r, true, nil
}

// checkReserve checks a reservation of amountFen for c on l against
// what was read: the amount, the line not frozen, the case's
// sub-district and item.
func checkReserve(l *BudgetLine, c CaseRef, amountFen int64) error {
	if amountFen <= 0 {
		return minsheng.Invalid("预估金额须大于零", map[string]string{"estimate_fen": "须大于零"})
	}
	if err := minsheng.CheckFen("estimate_fen", amountFen); err != nil {
		return err
	}
	if l.Frozen != "" {
		return errFrozen(l)
	}
	if c.ID == "" {
		return minsheng.Invalid("缺少案件", map[string]string{"case_id": "必填"})
	}
	if c.SubDistrict != l.SubDistrict {
		return minsheng.Errorf(minsheng.ECONFLICT, "案件属于其他街道，不能关联本街道的预算项目「%s」", l.ProjectName)
	}
	if c.ItemCode == "" {
		return minsheng.Invalid("请先确认案件的支出分类，再关联预算项目", map[string]string{"catalog_item": "未确认"})
	}
	if c.ItemCode != l.ItemCode {
		return minsheng.Errorf(minsheng.ECONFLICT, "案件的支出分类（%s）与预算项目「%s」的分类（%s %s）不一致", c.ItemCode, l.ProjectName, l.ItemCode, l.ItemName)
	}
	return nil
}

// claimCaseFor takes c's claim for l, refusing (and dropping the claim)
// if c is reserved on another line.
//
// The case's claim makes "not on another line" hold against concurrent
// links (claim.go). Until Check has given every live reservation its
// claim (claimsAreComplete), a count also catches reservations made
// before claims (a positive match on the array, then a scalar _id
// test) — a scan of every line, which the engine cannot push down.
func (s *Service) claimCaseFor(ctx context.Context, l *BudgetLine, c CaseRef) (caseClaim, error) {
	cl, _, err := s.takeClaim(ctx, c.ID, l.ID)
	if err != nil {
		return cl, err
	}
	if s.faultAfterClaim != nil {
		if err := s.faultAfterClaim(); err != nil {
			return cl, err
		}
	}
	complete, err := s.claimsAreComplete(ctx)
	if err != nil {
		return cl, err
	}
	if !complete {
		other, err := s.lines.Count(ctx, bson.M{"reservations.case_id": c.ID, "_id": bson.M{"$ne": l.ID}})
		if err != nil {
			return cl, fmt.Errorf("budgetlink: unable to look for other links of case %s: %w", c.ID, err)
		}
		if other > 0 {
			if _, err := s.dropClaim(ctx, cl); err != nil {
				return cl, err
			}
			return cl, errLinkedElsewhere()
		}
	}
	return cl, nil
}

// dropClaimUnlessLive drops the case's claim cl unless the line, read
// again, holds a live reservation of the case.
func (s *Service) dropClaimUnlessLive(ctx context.Context, cl caseClaim, lineID, caseID string) error {
	if cur, _ := s.FindLineByID(ctx, lineID); cur != nil {
		if _, live := liveEntry(cur, caseID); !live {
			if _, err := s.dropClaim(ctx, cl); err != nil {
				return err
			}
		}
	}
	return nil
}

// reservationNow reads the line again and returns the case's live
// reservation on it, which must be for amountFen.
func (s *Service) reservationNow(ctx context.Context, lineID, caseID string, amountFen int64) (Reservation, error) {
	cur, err := s.FindLineByID(ctx, lineID)
	if err != nil {
		return Reservation{}, err
	}
	i, ok := liveEntry(cur, caseID)
	if !ok {
		return Reservation{}, minsheng.Errorf(minsheng.ECONFLICT, "该案件的预算关联刚被修改，请刷新后重试")
	}
	return sameReservation(cur, cur.Reservations[i], amountFen)
}

// releasedEntries counts a case's released entries on a line: the
// generation of its next reservation there.
func releasedEntries(l *BudgetLine, caseID string) int {
	n := 0
	for _, r := range l.Reservations {
		if r.ReleasedCaseID == caseID {
			n++
		}
	}
	return n
}

// reserveOnce is the reservation itself: one conditional update that needs
// amountFen available and the claim's marker absent from the line. A
// zero Reservation with a nil error means the marker was there already.
func (s *Service) reserveOnce(ctx context.Context, p auth.Principal, l *BudgetLine, c CaseRef, amountFen int64, claimID string) (Reservation, error) {
	now := s.now()
	r := Reservation{
		CaseID: c.ID, AmountFen: amountFen, State: StateReserved,
		LinkedAt: now, LinkedBy: p.UserID, Movement: newID("MV"), UpdatedAt: now, Claim: claimID,
	}
	var before BudgetLine
	err := s.lines.FindOneAndUpdate(ctx,
		bson.M{"_id": l.ID, "available_fen": bson.M{"$gte": amountFen}, appliedPath(claimID): bson.M{"$exists": false}, "frozen": bson.M{"$exists": false}},
		bson.M{
			"$inc":  bson.M{"committed_fen": amountFen, "available_fen": -amountFen, "version": int64(1)},
			"$push": bson.M{"reservations": r},
			"$set":  bson.M{"updated_at": now, appliedPath(claimID): r.Movement},
		},
		&before,
		options.FindOneAndUpdate().SetReturnDocument(options.Before))
	if errors.Is(err, minsheng.ErrNotFound) {
		// Either this movement is on the line already (a takeover after a
		// slow holder), the line is frozen, or the funds ran out.
		cur, rerr := s.FindLineByID(ctx, l.ID)
		if rerr != nil {
			return Reservation{}, rerr
		}
		if _, ok := cur.Applied[markKey(claimID)]; ok {
			return Reservation{}, nil
		}
		if cur.Frozen != "" {
			return Reservation{}, errFrozen(cur)
		}
		if i, ok := liveEntry(cur, c.ID); ok {
			return sameReservation(cur, cur.Reservations[i], amountFen)
		}
		return Reservation{}, minsheng.Errorf(minsheng.ECONFLICT, "预算项目「%s」可用额度不足：可用 %s，本次需预留 %s",
			cur.ProjectName, minsheng.Yuan(cur.AvailableFen), minsheng.Yuan(amountFen))
	} else if err != nil {
		return Reservation{}, fmt.Errorf("budgetlink: unable to reserve on line %s: %w", l.ID, err)
	}
	after := before.Totals()
	after.CommittedFen += amountFen
	after.AvailableFen -= amountFen
	if err := s.writeAudit(ctx, AuditEntry{
		ID: r.Movement, Kind: AuditReserve, LineID: l.ID, FiscalYear: l.FiscalYear, SubDistrict: l.SubDistrict,
		CaseID: c.ID, AmountFen: amountFen, Before: before.Totals(), After: after, By: p.UserID, ByName: p.Name, ByRole: p.Role, At: now,
	}); err != nil {
		return Reservation{}, err
	}
	return r, nil
}

func sameReservation(l *BudgetLine, r Reservation, amountFen int64) (Reservation, error) {
	if r.State == StateReserved && r.AmountFen == amountFen {
		return r, nil
	}
	if r.State == StateSpent {
		return Reservation{}, minsheng.Errorf(minsheng.ECONFLICT, "该案件在预算项目「%s」上已支出 %s", l.ProjectName, minsheng.Yuan(r.SpentFen))
	}
	return Reservation{}, minsheng.Errorf(minsheng.ECONFLICT, "该案件已在预算项目「%s」预留 %s；如需修改金额，请重新估算", l.ProjectName, minsheng.Yuan(r.AmountFen))
}

// writeAudit stores an audit entry; an entry already written under the same
// movement id is success, which makes every movement's audit idempotent.
func (s *Service) writeAudit(ctx context.Context, e AuditEntry) error {
	if s.faultBeforeAuditFn != nil {
		if err := s.faultBeforeAuditFn(); err != nil {
			return err
		}
	}
	if err := s.audit.InsertOne(ctx, e); err != nil && !errors.Is(err, minsheng.ErrDuplicate) {
		return fmt.Errorf("budgetlink: unable to write audit entry %s: %w", e.ID, err)
	}
	return nil
}

// lineChange is what a movement does to a line: the rewritten reservation
// entries and the changes to the totals.
type lineChange struct {
	reservations []Reservation
	// payments, when not nil, replace the line's payments (payment.go).
	payments  []Payment
	committed int64
	spent     int64
	available int64
	// audit describes the movement; ID, totals and line fields are filled in.
	audit AuditEntry
}

// maxVersionRetries bounds the optimistic loop; each retry means another
// movement on the same line won the race, so this is only reached under a
// storm of contention on one line.
const maxVersionRetries = 100

// mutateLine applies fn's change to the line as one update conditional on
// the version fn saw (and on available staying ≥ 0), retrying when another
// movement got there first. fn returns nil for "nothing to do".
func (s *Service) mutateLine(ctx context.Context, lineID string, fn func(l *BudgetLine) (*lineChange, error)) (*BudgetLine, *lineChange, error) {
	for attempt := 0; attempt < maxVersionRetries; attempt++ {
		l, err := s.FindLineByID(ctx, lineID)
		if err != nil {
			return nil, nil, err
		}
		if l.Frozen != "" {
			return nil, nil, errFrozen(l)
		}
		ch, err := fn(l)
		if err != nil || ch == nil {
			return l, nil, err
		}
		now := s.now()
		filter := bson.M{"_id": l.ID, "version": l.Version}
		if ch.available < 0 {
			filter["available_fen"] = bson.M{"$gte": -ch.available}
		}
		set := bson.M{"reservations": ch.reservations, "updated_at": now}
		if ch.payments != nil {
			set["payments"] = ch.payments
		}
		matched, err := s.lines.UpdateOne(ctx, filter, bson.M{
			"$set": set,
			"$inc": bson.M{"committed_fen": ch.committed, "spent_fen": ch.spent, "available_fen": ch.available, "version": int64(1)},
		})
		if err != nil {
			return nil, nil, fmt.Errorf("budgetlink: unable to update line %s: %w", l.ID, err)
		}
		if matched == 0 {
			continue
		}
		after := l.Totals()
		after.CommittedFen += ch.committed
		after.SpentFen += ch.spent
		after.AvailableFen += ch.available
		a := &ch.audit
		a.LineID, a.FiscalYear, a.SubDistrict = l.ID, l.FiscalYear, l.SubDistrict
		a.Before, a.After, a.At = l.Totals(), after, now
		if err := s.writeAudit(ctx, *a); err != nil {
			return nil, nil, err
		}
		l.Reservations = ch.reservations
		if ch.payments != nil {
			l.Payments = ch.payments
		}
		l.CommittedFen, l.SpentFen, l.AvailableFen = after.CommittedFen, after.SpentFen, after.AvailableFen
		l.Version++
		return l, ch, nil
	}
	return nil, nil, minsheng.Errorf(minsheng.ECONFLICT, "预算项目正被频繁修改，请稍后重试")
}

func copyReservations(rs []Reservation) []Reservation { return append([]Reservation(nil), rs...) }

// Reestimate changes a live reservation's amount; a rise needs that much
// available on the line. Errors: EFORBIDDEN, EINVALID, ENOTFOUND (no
// reservation for the case), ECONFLICT (already spent, not enough available).
func (s *Service) Reestimate(ctx context.Context, p auth.Principal, lineID, caseID string, amountFen int64) (Reservation, error) {
	l, err := s.FindLineByID(ctx, lineID)
	if err != nil {
		return Reservation{}, err
	}
	if err := requireLinker(p, l.SubDistrict); err != nil {
		return Reservation{}, err
	}
	return s.reestimate(ctx, p, lineID, caseID, amountFen)
}

func (s *Service) reestimate(ctx context.Context, p auth.Principal, lineID, caseID string, amountFen int64) (Reservation, error) {
	if amountFen <= 0 {
		return Reservation{}, minsheng.Invalid("预估金额须大于零", map[string]string{"estimate_fen": "须大于零"})
	}
	if err := minsheng.CheckFen("estimate_fen", amountFen); err != nil {
		return Reservation{}, err
	}
	var out Reservation
	_, _, err := s.mutateLine(ctx, lineID, func(l *BudgetLine) (*lineChange, error) {
		i, ok := liveEntry(l, caseID)
		if !ok {
			return nil, minsheng.Errorf(minsheng.ENOTFOUND, "该案件未关联预算项目「%s」", l.ProjectName)
		}
		r := l.Reservations[i]
		if r.State == StateSpent {
			return nil, minsheng.Errorf(minsheng.ECONFLICT, "该案件已办结支出，不能重新估算")
		}
		if r.AmountFen == amountFen {
			out = r
			return nil, nil
		}
		d := amountFen - r.AmountFen
		if d > l.AvailableFen {
			return nil, minsheng.Errorf(minsheng.ECONFLICT, "预算项目「%s」可用额度不足：可用 %s，重新估算需增加 %s",
				l.ProjectName, minsheng.Yuan(l.AvailableFen), minsheng.Yuan(d))
		}
		rs := copyReservations(l.Reservations)
		r.AmountFen, r.Movement, r.UpdatedAt = amountFen, newID("MV"), s.now()
		rs[i] = r
		out = r
		return &lineChange{reservations: rs, committed: d, available: -d, audit: AuditEntry{
			ID: r.Movement, Kind: AuditReestimate, CaseID: caseID, AmountFen: d, By: p.UserID, ByName: p.Name, ByRole: p.Role,
			Note: fmt.Sprintf("预估金额调整为 %s", minsheng.Yuan(amountFen)),
		}}, nil
	})
	return out, err
}

// Release frees a case's reservation on a line (unlink, cancellation).
// Releasing what is not reserved is a no-op returning ok=false.
// Errors: EFORBIDDEN, ENOTFOUND (line), ECONFLICT (already spent).
func (s *Service) Release(ctx context.Context, p auth.Principal, lineID, caseID, note string) (ok bool, err error) {
	l, err := s.FindLineByID(ctx, lineID)
	if err != nil {
		return false, err
	}
	if err := requireLinker(p, l.SubDistrict); err != nil {
		return false, err
	}
	return s.release(ctx, p, lineID, caseID, note, false)
}

// release frees a reserved entry. With undoSpend it also frees a spent
// one: a case cancelled after a completion whose transition never
// persisted (cases runs money effects before saving the transition).
//
// After the line it drops the case's claim, so the case may go to another
// line. The claim is read before the line: if a re-link of the same line
// takes it over in between (new token), the drop leaves it to that link.
func (s *Service) release(ctx context.Context, p auth.Principal, lineID, caseID, note string, undoSpend bool) (bool, error) {
	cl, err := s.findClaim(ctx, caseID)
	if err != nil {
		return false, err
	}
	_, ch, err := s.mutateLine(ctx, lineID, func(l *BudgetLine) (*lineChange, error) {
		i, ok := liveEntry(l, caseID)
		if !ok {
			return nil, nil
		}
		r := l.Reservations[i]
		ch := &lineChange{committed: -r.AmountFen, available: r.AmountFen}
		if r.State == StateSpent {
			if !undoSpend {
				return nil, minsheng.Errorf(minsheng.ECONFLICT, "该案件已在预算项目「%s」支出 %s，不能解除关联", l.ProjectName, minsheng.Yuan(r.SpentFen))
			}
			ch = &lineChange{spent: -r.SpentFen, available: r.SpentFen}
		}
		rs := copyReservations(l.Reservations)
		r.ReleasedCaseID, r.CaseID = r.CaseID, ""
		r.State, r.Movement, r.UpdatedAt = StateReleased, newID("MV"), s.now()
		rs[i] = r
		ch.reservations = rs
		ch.audit = AuditEntry{ID: r.Movement, Kind: AuditRelease, CaseID: caseID, AmountFen: -ch.available, By: p.UserID, ByName: p.Name, ByRole: p.Role, Note: note}
		return ch, nil
	})
	if err != nil || ch == nil {
		return false, err
	}
	if s.faultBeforeClaimDrop != nil {
		if err := s.faultBeforeClaimDrop(); err != nil {
			return false, err
		}
	}
	if cl != nil && cl.LineID == lineID {
		if _, err := s.dropClaim(ctx, *cl); err != nil {
			return false, err
		}
	}
	return true, nil
}

// AuditFilter selects audit entries. Zero fields do not filter.
type AuditFilter struct {
	LineID      string
	CaseID      string
	SubDistrict string
	// Cursor is the next_cursor of the previous page; Limit is 1..100
	// (default 20: internal/page).
	Cursor string
	Limit  int
}

// Audit lists audit entries, newest first, scoped to p.
func (s *Service) Audit(ctx context.Context, p auth.Principal, f AuditFilter) ([]AuditEntry, string, error) {
	if err := requireLedgerReader(p); err != nil {
		return nil, "", err
	}
	var err error
	if f.SubDistrict, err = p.SubDistrictScope(s.org, f.SubDistrict); err != nil {
		return nil, "", err
	}
	q := bson.M{}
	if f.LineID != "" {
		l, err := s.FindLineByID(ctx, f.LineID)
		if err != nil {
			return nil, "", err
		}
		if err := p.RequireAccess(l.SubDistrict, ""); err != nil {
			return nil, "", err
		}
		q["line_id"] = f.LineID
	}
	if f.SubDistrict != "" {
		if err := p.RequireAccess(f.SubDistrict, ""); err != nil {
			return nil, "", err
		}
		q["sub_district"] = f.SubDistrict
	}
	if f.CaseID != "" {
		q["case_id"] = f.CaseID
	}
	items, next, err := newestFirst(ctx, s.audit, auditCursors, "at", q, f.Cursor, f.Limit,
		func(e AuditEntry) page.Cursor { return page.Cursor{At: e.At, ID: e.ID} })
	for i := range items {
		e := &items[i]
		e.ActorLabel = cases.ActorLabel(e.By, e.ByName, e.ByRole)
	}
	return items, next, err
}
