package planning

// Applying a committed run's 建议调剂 (suggested transfers) in one
// confirmation by finance. Each suggestion is applied at most once,
// whoever asks and however often: a claim inserted under the unique id
// "<run>/<index>" decides who applies it, and the transfer itself is an
// ordinary ledger adjustment (ledger.Service.Adjust, kind 调剂, with its
// reason) under an idempotency key derived from the claim, so a retry
// after a crash finishes it rather than moving the money twice. The
// caller states the lines' versions it read; a suggestion whose lines
// moved since is not applied and says so.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/budgetlink/ledger"
	"minsheng/internal/auth"
)

// transfersCollection holds one claim per applied suggestion.
const transfersCollection = "allocation_run_transfers"

// Outcomes of one suggested transfer.
const (
	TransferApplied = "applied" // applied by this request
	TransferAlready = "already" // applied before: nothing changed
	TransferFailed  = "failed"  // not applied; Message says why
)

// ApplyTransfersRequest asks to apply a committed run's suggested
// transfers. LineVersions are the versions of the suggestions' lines as
// the caller read them (line id → version).
type ApplyTransfersRequest struct {
	RunID        string           `json:"run_id"`
	LineVersions map[string]int64 `json:"line_versions"`
}

// TransferOutcome is what became of one suggestion.
type TransferOutcome struct {
	Index        int    `json:"index"`
	FromLineID   string `json:"from_line_id"`
	ToLineID     string `json:"to_line_id"`
	AmountFen    int64  `json:"amount_fen"`
	Reason       string `json:"reason"`
	State        string `json:"state"`
	AdjustmentID string `json:"adjustment_id,omitempty"`
	Message      string `json:"message,omitempty"`
}

// TransfersResult lists every suggestion's outcome, in the run's order.
type TransfersResult struct {
	RunID     string            `json:"run_id"`
	Applied   int               `json:"applied"`
	Already   int               `json:"already"`
	Failed    int               `json:"failed"`
	Transfers []TransferOutcome `json:"transfers"`
}

// transferClaim is the record that a suggestion is being, or was, applied.
type transferClaim struct {
	ID           string    `bson:"_id"`
	UserID       string    `bson:"user_id"`
	AdjustmentID string    `bson:"adjustment_id,omitempty"`
	Failed       string    `bson:"failed,omitempty"`
	CreatedAt    time.Time `bson:"created_at"`
}

// ApplyTransfers applies the suggested transfers of a committed run, each
// as a ledger 调剂 recording the run and the suggestion's reason, and
// lists what became of each: applied now, applied before (the same run
// applied twice changes nothing), or failed (a line moved since the
// caller read it, the source lacks the money, another user's application
// is unfinished). Finance and admin only.
// Errors: EFORBIDDEN, EINVALID, ENOTFOUND, ECONFLICT (a preview, or the
// same run being applied by another request of this process).
func (s *Service) ApplyTransfers(ctx context.Context, p auth.Principal, req ApplyTransfersRequest) (TransfersResult, error) {
	if err := p.RequireRole(auth.RoleFinance, auth.RoleAdmin); err != nil {
		return TransfersResult{}, err
	}
	id := strings.ToLower(strings.TrimSpace(req.RunID))
	if id == "" {
		return TransfersResult{}, minsheng.Invalid("请指定分配运行", map[string]string{"run_id": "必填"})
	}
	if len(req.LineVersions) == 0 {
		return TransfersResult{}, minsheng.Invalid("请提供所读预算项目的版本", map[string]string{"line_versions": "必填：预算项目 → 版本"})
	}
	doc, err := s.findRun(ctx, id)
	if err != nil {
		return TransfersResult{}, err
	}
	if doc.State != RunDone {
		return TransfersResult{}, minsheng.Errorf(minsheng.ECONFLICT, "只有已执行的分配可以应用建议调剂")
	}
	// One application of a run at a time in this process: a claim left
	// pending by this user is then a crashed attempt, safe to finish.
	unlock, err := s.runLock(ctx, "transfers/"+doc.ID)
	if err != nil {
		return TransfersResult{}, err
	}
	defer unlock()
	out := TransfersResult{RunID: doc.ID, Transfers: []TransferOutcome{}}
	versions := make(map[string]int64, len(req.LineVersions)) // advanced by each transfer applied here
	for k, v := range req.LineVersions {
		versions[k] = v
	}
	for i, sa := range doc.Adjustments {
		o := TransferOutcome{Index: i, FromLineID: sa.FromLineID, ToLineID: sa.ToLineID, AmountFen: sa.AmountFen, Reason: sa.Reason}
		s.applyTransfer(ctx, p, doc.ID, versions, &o)
		switch o.State {
		case TransferApplied:
			out.Applied++
		case TransferAlready:
			out.Already++
		default:
			out.Failed++
		}
		out.Transfers = append(out.Transfers, o)
	}
	return out, nil
}

// applyTransfer applies suggestion o of run once, filling in its outcome.
func (s *Service) applyTransfer(ctx context.Context, p auth.Principal, run string, versions map[string]int64, o *TransferOutcome) {
	claim := transferClaim{ID: run + "/" + strconv.Itoa(o.Index), UserID: p.UserID, CreatedAt: s.now()}
	fail := func(msg string) { o.State, o.Message = TransferFailed, msg }
	err := s.transfers.InsertOne(ctx, claim)
	switch {
	case errors.Is(err, minsheng.ErrDuplicate):
		var prev transferClaim
		if err := s.transfers.FindOne(ctx, bson.M{"_id": claim.ID}, &prev); err != nil {
			fail("无法读取调剂记录，请稍后重试")
			return
		}
		switch {
		case prev.AdjustmentID != "":
			o.State, o.AdjustmentID = TransferAlready, prev.AdjustmentID
			return
		case prev.Failed != "":
			fail(prev.Failed)
			return
		case prev.UserID != p.UserID:
			fail("另一位用户发起的该调剂尚未完成，请其重试")
			return
		}
		// This user's attempt that stopped midway: finish it under the
		// same key (the ledger applies it once).
	case err != nil:
		s.logger.Error("planning: unable to claim a transfer", "claim", claim.ID, "err", err)
		fail("无法记录调剂，请稍后重试")
		return
	default:
		if msg := s.linesMoved(ctx, versions, o.FromLineID, o.ToLineID); msg != "" {
			if _, err := s.transfers.DeleteOne(ctx, bson.M{"_id": claim.ID}); err != nil {
				s.logger.Error("planning: unable to release a transfer claim", "claim", claim.ID, "err", err)
			}
			fail(msg)
			return
		}
	}
	adj, err := s.ledger.Adjust(ctx, p, ledger.AdjustmentRequest{Kind: ledger.AdjustTransfer, LineID: o.FromLineID, ToLineID: o.ToLineID,
		AmountFen: o.AmountFen, Reason: fmt.Sprintf("资金分配 %s 建议调剂：%s", run, o.Reason), IdempotencyKey: "run-transfer:" + claim.ID})
	if err != nil || adj == nil || adj.State != ledger.AdjustmentApplied {
		msg := "调剂未能完成，请稍后重试"
		var me *minsheng.Error
		if errors.As(err, &me) && me.Code != minsheng.EINTERNAL {
			msg = me.Message
		}
		if adj != nil && adj.State == ledger.AdjustmentFailed {
			// Refused for good (the source lacks the money): keep the
			// refusal, so the suggestion is not retried under the same key.
			if adj.FailReason != "" {
				msg = adj.FailReason
			}
			if _, err := s.transfers.UpdateOne(ctx, bson.M{"_id": claim.ID}, bson.M{"$set": bson.M{"failed": msg, "adjustment_failed": adj.ID}}); err != nil {
				s.logger.Error("planning: unable to record a refused transfer", "claim", claim.ID, "err", err)
			}
		}
		fail(msg)
		return
	}
	if _, err := s.transfers.UpdateOne(ctx, bson.M{"_id": claim.ID}, bson.M{"$set": bson.M{"adjustment_id": adj.ID}}); err != nil {
		s.logger.Error("planning: unable to record an applied transfer", "claim", claim.ID, "err", err)
	}
	o.State, o.AdjustmentID = TransferApplied, adj.ID
	// The lines moved by this request's own transfer: the next suggestion
	// on them reads them as they are now.
	for _, id := range []string{o.FromLineID, o.ToLineID} {
		if l, err := s.ledger.FindLineByID(ctx, id); err == nil {
			versions[id] = l.Version
		}
	}
}

// linesMoved says why the lines' versions differ from those read, or "".
func (s *Service) linesMoved(ctx context.Context, versions map[string]int64, ids ...string) string {
	for _, id := range ids {
		want, ok := versions[id]
		if !ok {
			return "缺少预算项目 " + id + " 的版本，请刷新后再应用"
		}
		l, err := s.ledger.FindLineByID(ctx, id)
		if err != nil {
			return "预算项目 " + id + " 无法读取"
		}
		if l.Version != want {
			return fmt.Sprintf("预算项目「%s」已变动（版本 %d → %d），请刷新后再应用", l.ProjectName, want, l.Version)
		}
	}
	return ""
}
