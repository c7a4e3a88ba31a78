package ledger

// Budget adjustments (预算调整) are ledger entries, never edits: 调增 raises
// one line, 调减 lowers one, 调剂 moves money from one line to another. An
// adjustment is first stored with state pending and its per-line deltas
// (the insert under the unique idempotency key decides which of several
// identical requests creates it); each delta is then claimed
// ("adj/<adjustment>/<line>", ledgerclaim.go) and applied to its line by
// one conditional update guarded by the claim's marker, so applying twice
// changes nothing. A crash between the two lines of a transfer leaves the
// adjustment pending with one line applied; a retry of the request, or
// Check, finishes it. No line's budget may exceed minsheng.MaxAmountFen.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/auth"
	"minsheng/internal/page"
	"minsheng/internal/store"
)

// Adjustment kinds.
const (
	AdjustIncrease = "increase" // 调增
	AdjustDecrease = "decrease" // 调减
	AdjustTransfer = "transfer" // 调剂
)

var adjustLabels = map[string]string{AdjustIncrease: "调增", AdjustDecrease: "调减", AdjustTransfer: "调剂"}

// Adjustment states.
const (
	AdjustmentPending = "pending" // recorded, not yet applied to every line
	AdjustmentApplied = "applied"
	AdjustmentFailed  = "failed" // refused (not enough available); nothing applied
)

// Adjustment is one budget adjustment and the deltas it makes to its lines.
type Adjustment struct {
	ID           string            `bson:"_id" json:"id"`
	Kind         string            `bson:"kind" json:"kind"`
	FiscalYear   int               `bson:"fiscal_year" json:"fiscal_year"`
	SubDistricts []string          `bson:"sub_districts" json:"sub_districts"`
	Entries      []AdjustmentEntry `bson:"entries" json:"entries"`
	AmountFen    int64             `bson:"amount_fen" json:"amount_fen"`
	Reason       string            `bson:"reason" json:"reason"`
	State        string            `bson:"state" json:"state"`
	FailReason   string            `bson:"fail_reason,omitempty" json:"fail_reason,omitempty"`
	// IdempotencyKey makes a retried request return the first one's result.
	IdempotencyKey string    `bson:"idempotency_key,omitempty" json:"-"`
	CreatedBy      string    `bson:"created_by" json:"created_by"`
	CreatedByName  string    `bson:"created_by_name" json:"created_by_name"`
	CreatedAt      time.Time `bson:"created_at" json:"created_at"`
	FinishedAt     time.Time `bson:"finished_at,omitempty" json:"finished_at,omitzero"`
}

// AdjustmentEntry is the change an adjustment makes to one line. Negative
// entries come first, so a refusal happens before anything was applied.
type AdjustmentEntry struct {
	LineID   string `bson:"line_id" json:"line_id"`
	DeltaFen int64  `bson:"delta_fen" json:"delta_fen"`
}

// AdjustmentRequest asks for an adjustment. LineID is the line raised or
// lowered, or the source of a transfer; ToLineID is a transfer's target.
type AdjustmentRequest struct {
	Kind      string `json:"kind"`
	LineID    string `json:"line_id"`
	ToLineID  string `json:"to_line_id,omitempty"`
	AmountFen int64  `json:"amount_fen"`
	Reason    string `json:"reason"`
	// IdempotencyKey (the HTTP Idempotency-Key header) makes retries safe.
	IdempotencyKey string `json:"-"`
}

// Adjust records and applies a budget adjustment. Only finance and admin
// adjust budgets. A decrease or the source of a transfer needs the amount
// available on the line; otherwise nothing is applied, the adjustment is
// kept as failed and ECONFLICT says how much is available. Repeating a
// request with the same idempotency key returns the first result.
// Errors: EFORBIDDEN, EINVALID, ENOTFOUND, ECONFLICT.
func (s *Service) Adjust(ctx context.Context, p auth.Principal, req AdjustmentRequest) (*Adjustment, error) {
	if err := p.RequireRole(auth.RoleFinance, auth.RoleAdmin); err != nil {
		return nil, err
	}
	if err := checkAdjustment(&req); err != nil {
		return nil, err
	}
	if req.IdempotencyKey != "" {
		// Keys are the client's; scoping them to the user keeps two users'
		// keys from ever answering each other's requests.
		req.IdempotencyKey = p.UserID + ":" + req.IdempotencyKey
		var prev Adjustment
		err := s.adjustments.FindOne(ctx, bson.M{"idempotency_key": req.IdempotencyKey}, &prev)
		if err == nil {
			return s.finishRepeat(ctx, p, &prev)
		} else if !errors.Is(err, minsheng.ErrNotFound) {
			return nil, fmt.Errorf("budgetlink: unable to look up adjustment: %w", err)
		}
	}
	adj, err := s.newAdjustment(ctx, p, req)
	if err != nil {
		return nil, err
	}
	if err := s.adjustments.InsertOne(ctx, adj); err != nil {
		if errors.Is(err, minsheng.ErrDuplicate) && req.IdempotencyKey != "" {
			var prev Adjustment
			if ferr := s.adjustments.FindOne(ctx, bson.M{"idempotency_key": req.IdempotencyKey}, &prev); ferr == nil {
				return s.finishRepeat(ctx, p, &prev)
			}
		}
		return nil, fmt.Errorf("budgetlink: unable to record adjustment: %w", err)
	}
	if err := s.applyAdjustment(ctx, p, adj); err != nil {
		return adj, err
	}
	return adj, nil
}

// checkAdjustment validates an adjustment request, trimming its reason.
func checkAdjustment(req *AdjustmentRequest) error {
	fields := map[string]string{}
	if _, ok := adjustLabels[req.Kind]; !ok {
		fields["kind"] = "应为 increase（调增）、decrease（调减）或 transfer（调剂）"
	}
	if req.AmountFen <= 0 {
		fields["amount_fen"] = "须大于零"
	} else if msg := minsheng.FenProblem(req.AmountFen); msg != "" {
		fields["amount_fen"] = msg
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" {
		fields["reason"] = "必填"
	} else if utf8.RuneCountInString(req.Reason) > 500 {
		fields["reason"] = "不能超过 500 个字"
	}
	if req.LineID == "" {
		fields["line_id"] = "必填"
	}
	if req.Kind == AdjustTransfer {
		if req.ToLineID == "" {
			fields["to_line_id"] = "调剂须指定调入的预算项目"
		} else if req.ToLineID == req.LineID {
			fields["to_line_id"] = "调入与调出不能是同一预算项目"
		}
	} else if req.ToLineID != "" {
		fields["to_line_id"] = "仅调剂需要调入项目"
	}
	if len(req.IdempotencyKey) > 128 {
		fields["idempotency_key"] = "不能超过 128 个字符"
	}
	if len(fields) > 0 {
		return minsheng.Invalid("预算调整信息有误", fields)
	}
	return nil
}

// newAdjustment builds the pending adjustment req asks for, with its
// entries on the lines as read, refusing a raise that would not fit.
func (s *Service) newAdjustment(ctx context.Context, p auth.Principal, req AdjustmentRequest) (*Adjustment, error) {
	from, err := s.FindLineByID(ctx, req.LineID)
	if err != nil {
		return nil, err
	}
	adj := &Adjustment{
		ID: newID("ADJ"), Kind: req.Kind, FiscalYear: from.FiscalYear, SubDistricts: []string{from.SubDistrict},
		AmountFen: req.AmountFen, Reason: req.Reason, State: AdjustmentPending, IdempotencyKey: req.IdempotencyKey,
		CreatedBy: p.UserID, CreatedByName: p.Name, CreatedAt: s.now(),
	}
	switch req.Kind {
	case AdjustIncrease:
		adj.Entries = []AdjustmentEntry{{LineID: from.ID, DeltaFen: req.AmountFen}}
	case AdjustDecrease:
		adj.Entries = []AdjustmentEntry{{LineID: from.ID, DeltaFen: -req.AmountFen}}
	case AdjustTransfer:
		to, err := s.FindLineByID(ctx, req.ToLineID)
		if err != nil {
			return nil, err
		}
		if to.FiscalYear != from.FiscalYear {
			return nil, minsheng.Invalid("调剂只能在同一财年的预算项目之间进行", map[string]string{"to_line_id": "财年不同"})
		}
		if !slices.Contains(adj.SubDistricts, to.SubDistrict) {
			adj.SubDistricts = append(adj.SubDistricts, to.SubDistrict)
		}
		adj.Entries = []AdjustmentEntry{{LineID: from.ID, DeltaFen: -req.AmountFen}, {LineID: to.ID, DeltaFen: req.AmountFen}}
		// Refuse before anything moves what the credit would refuse after
		// the debit; applyDelta still guards it.
		if err := raiseFits(to, req.AmountFen); err != nil {
			return nil, err
		}
	}
	if req.Kind == AdjustIncrease {
		if err := raiseFits(from, req.AmountFen); err != nil {
			return nil, err
		}
	}
	return adj, nil
}

// finishRepeat answers a repeated request: a pending adjustment is applied
// (idempotently), a failed one is refused again with its reason.
func (s *Service) finishRepeat(ctx context.Context, p auth.Principal, adj *Adjustment) (*Adjustment, error) {
	switch adj.State {
	case AdjustmentPending:
		err := s.applyAdjustment(ctx, p, adj)
		return adj, err
	case AdjustmentFailed:
		return adj, minsheng.Errorf(minsheng.ECONFLICT, "%s", adj.FailReason)
	}
	return adj, nil
}

// applyAdjustment applies every entry (those already applied are skipped by
// their claims and the lines' markers) and then marks the adjustment
// applied. When the first, negative entry lacks funds, or an entry cannot
// be applied within the money bounds, the adjustment is marked failed.
func (s *Service) applyAdjustment(ctx context.Context, p auth.Principal, adj *Adjustment) error {
	if reason := adj.invalidAmounts(); reason != "" {
		// Only data stored before the bounds (or by hand) gets here.
		return s.failAdjustment(ctx, adj, minsheng.Errorf(minsheng.ECONFLICT, "%s", reason))
	}
	for i, e := range adj.Entries {
		if i == 1 && s.faultAfterDebit != nil {
			if err := s.faultAfterDebit(); err != nil {
				return err
			}
		}
		if err := s.applyDelta(ctx, p, adj, e); err != nil {
			if i == 0 && refusal(err) {
				return s.failAdjustment(ctx, adj, err)
			}
			return err
		}
	}
	adj.State, adj.FinishedAt = AdjustmentApplied, s.now()
	if _, err := s.adjustments.UpdateOne(ctx, bson.M{"_id": adj.ID, "state": AdjustmentPending},
		bson.M{"$set": bson.M{"state": AdjustmentApplied, "finished_at": adj.FinishedAt}}); err != nil {
		return fmt.Errorf("budgetlink: unable to mark adjustment %s applied: %w", adj.ID, err)
	}
	return nil
}

// failAdjustment keeps a refused adjustment as failed with the refusal's
// message and returns the refusal.
func (s *Service) failAdjustment(ctx context.Context, adj *Adjustment, refused error) error {
	adj.State, adj.FailReason, adj.FinishedAt = AdjustmentFailed, minsheng.ErrorMessage(refused), s.now()
	if _, err := s.adjustments.UpdateOne(ctx, bson.M{"_id": adj.ID, "state": AdjustmentPending},
		bson.M{"$set": bson.M{"state": AdjustmentFailed, "fail_reason": adj.FailReason, "finished_at": adj.FinishedAt}}); err != nil {
		return fmt.Errorf("budgetlink: unable to mark adjustment %s failed: %w", adj.ID, err)
	}
	return refused
}

// invalidAmounts says why a stored adjustment's amounts are outside the
// bounds, "" when they are within.
func (a *Adjustment) invalidAmounts() string {
	if a.AmountFen <= 0 || a.AmountFen > minsheng.MaxAmountFen {
		return fmt.Sprintf("调整金额 %d 分超出允许范围（1 分至 %s），未执行", a.AmountFen, minsheng.MaxAmountText)
	}
	for _, e := range a.Entries {
		if e.DeltaFen == 0 || e.DeltaFen < -minsheng.MaxAmountFen || e.DeltaFen > minsheng.MaxAmountFen {
			return fmt.Sprintf("预算项目 %s 的调整金额 %d 分超出允许范围，未执行", e.LineID, e.DeltaFen)
		}
	}
	return ""
}

// raiseFits refuses a raise that would take a line's budget (approved plus
// adjustments) past minsheng.MaxAmountFen.
func raiseFits(l *BudgetLine, fen int64) error {
	budget, ok := minsheng.SumFen(l.ApprovedFen, l.AdjustedFen, fen)
	if !ok || budget > minsheng.MaxAmountFen {
		return minsheng.Errorf(minsheng.ECONFLICT, "预算项目「%s」调增 %s 后预算将超过上限 %s，未执行", l.ProjectName, minsheng.Yuan(fen), minsheng.MaxAmountText)
	}
	return nil
}

// applyDelta applies one entry at most once: under its claim, as one
// conditional update that requires the claim's marker to be absent from
// the line and, for a decrease, the amount to be available; for a raise,
// the line's budget must stay within minsheng.MaxAmountFen.
func (s *Service) applyDelta(ctx context.Context, p auth.Principal, adj *Adjustment, e AdjustmentEntry) error {
	cl := ledgerClaim{ID: adjustClaimID(adj.ID, e.LineID), Kind: claimAdjust, LineID: e.LineID, AdjustmentID: adj.ID, AmountFen: e.DeltaFen}
	_, err := s.claimed(ctx, cl, true, func() error { return s.applyDeltaOnce(ctx, p, adj, e, cl.ID) })
	return err
}

func (s *Service) applyDeltaOnce(ctx context.Context, p auth.Principal, adj *Adjustment, e AdjustmentEntry, claimID string) error {
	l, err := s.FindLineByID(ctx, e.LineID)
	if err != nil {
		return err
	}
	if _, ok := l.Applied[markKey(claimID)]; ok || slices.ContainsFunc(l.Adjustments, func(d LineDelta) bool { return d.AdjustmentID == adj.ID }) {
		return nil // applied before: a retry, a takeover or Check got here first
	}
	if l.Frozen != "" {
		return errFrozen(l)
	}
	shortOf := func(cur *BudgetLine) error {
		return minsheng.Errorf(minsheng.ECONFLICT, "预算项目「%s」可用额度不足：可用 %s，%s需要 %s",
			cur.ProjectName, minsheng.Yuan(cur.AvailableFen), adjustLabels[adj.Kind], minsheng.Yuan(-e.DeltaFen))
	}
	// The approved amount never changes after creation, so "budget stays
	// within the bound" is a condition on adjusted_fen alone.
	filter := bson.M{"_id": e.LineID, appliedPath(claimID): bson.M{"$exists": false}}
	if e.DeltaFen < 0 {
		if l.AvailableFen < -e.DeltaFen {
			return shortOf(l)
		}
		filter["available_fen"] = bson.M{"$gte": -e.DeltaFen}
	} else {
		if err := raiseFits(l, e.DeltaFen); err != nil {
			return err
		}
		filter["adjusted_fen"] = bson.M{"$lte": minsheng.MaxAmountFen - l.ApprovedFen - e.DeltaFen}
	}
	now := s.now()
	movement := adjustmentMovement(adj.ID, e.LineID)
	var before BudgetLine
	err = s.lines.FindOneAndUpdate(ctx, filter, bson.M{
		"$inc":  bson.M{"adjusted_fen": e.DeltaFen, "available_fen": e.DeltaFen, "adjustment_count": int64(1), "version": int64(1)},
		"$push": bson.M{"adjustments": LineDelta{AdjustmentID: adj.ID, Kind: adj.Kind, DeltaFen: e.DeltaFen, At: now}},
		"$set":  bson.M{"updated_at": now, appliedPath(claimID): movement},
	}, &before, options.FindOneAndUpdate().SetReturnDocument(options.Before))
	if errors.Is(err, minsheng.ErrNotFound) {
		cur, rerr := s.FindLineByID(ctx, e.LineID)
		if rerr != nil {
			return rerr
		}
		if _, ok := cur.Applied[markKey(claimID)]; ok {
			return nil
		}
		if e.DeltaFen > 0 {
			return raiseFits(cur, e.DeltaFen)
		}
		return shortOf(cur)
	} else if err != nil {
		return fmt.Errorf("budgetlink: unable to apply adjustment %s to line %s: %w", adj.ID, e.LineID, err)
	}
	after := before.Totals()
	after.AdjustedFen += e.DeltaFen
	after.AvailableFen += e.DeltaFen
	return s.writeAudit(ctx, AuditEntry{
		ID: movement, Kind: AuditAdjust, LineID: e.LineID, FiscalYear: before.FiscalYear, SubDistrict: before.SubDistrict,
		AdjustmentID: adj.ID, AmountFen: e.DeltaFen, Before: before.Totals(), After: after,
		By: p.UserID, ByName: p.Name, ByRole: p.Role, At: now, Note: adjustLabels[adj.Kind] + "：" + adj.Reason,
	})
}

// adjustmentMovement is the audit id of one adjustment on one line.
func adjustmentMovement(adjID, lineID string) string { return adjID + "/" + lineID }

// AdjustmentFilter selects adjustments. Zero fields do not filter.
type AdjustmentFilter struct {
	FiscalYear  int
	SubDistrict string
	LineID      string
	State       string
	// Cursor is the next_cursor of the previous page; Limit is 1..100
	// (default 20: internal/page).
	Cursor string
	Limit  int
}

// adjustmentCursors and auditCursors name those lists' cursors
// (created_at or at, then id).
const (
	adjustmentCursors = "budget-adjustments"
	auditCursors      = "budget-audit"
)

// Adjustments lists one page of adjustments, newest first, scoped to p,
// and the cursor of the next page ("" on the last).
// Errors: EFORBIDDEN, EINVALID (unknown sub-district, bad cursor).
func (s *Service) Adjustments(ctx context.Context, p auth.Principal, f AdjustmentFilter) ([]Adjustment, string, error) {
	var err error
	if f.SubDistrict, err = s.ReaderScope(p, f.SubDistrict); err != nil {
		return nil, "", err
	}
	q := bson.M{}
	if f.SubDistrict != "" {
		q["sub_districts"] = f.SubDistrict
	}
	if f.FiscalYear != 0 {
		q["fiscal_year"] = f.FiscalYear
	}
	if f.LineID != "" {
		q["entries.line_id"] = f.LineID
	}
	if f.State != "" {
		q["state"] = f.State
	}
	return newestFirst(ctx, s.adjustments, adjustmentCursors, "created_at", q, f.Cursor, f.Limit,
		func(a Adjustment) page.Cursor { return page.Cursor{At: a.CreatedAt, ID: a.ID} })
}

// newestFirst reads one page of coll's documents matching q, newest first
// by timeField then _id, after the cursor of the list named list; next is
// the cursor of the following page, "" on the last. The adjustments and
// the audit trail page this way.
func newestFirst[T any](ctx context.Context, coll *store.Collection, list, timeField string, q bson.M, cursor string, limit int,
	key func(T) page.Cursor) ([]T, string, error) {
	c, limit, err := page.Read(list, cursor, limit)
	if err != nil {
		return nil, "", err
	}
	if cursor != "" {
		q["$or"] = bson.A{
			bson.M{timeField: bson.M{"$lt": c.At}},
			bson.M{timeField: c.At, "_id": bson.M{"$lt": c.ID}},
		}
	}
	var out []T
	opts := options.Find().SetSort(bson.D{{Key: timeField, Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit) + 1)
	if err := coll.FindAll(ctx, q, &out, opts); err != nil {
		return nil, "", fmt.Errorf("budgetlink: unable to list %s: %w", list, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = page.Encode(list, key(out[len(out)-1]))
	}
	return out, next, nil
}
