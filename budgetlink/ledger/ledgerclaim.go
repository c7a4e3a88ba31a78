package ledger

// Ledger claims (账务占位): every money movement that must happen at most
// once — one adjustment on one line, one reservation of a case on a line —
// is first claimed by inserting one document under its unique _id, then
// applied to the line. Of 8–16 simultaneous identical requests exactly
// one inserts the claim and applies; the others wait for it and answer
// with its result. This never depends on $ne over arrays, which the
// embedded engine gets wrong (RULE(ne-over-arrays), internal/store).
//
// The line update itself is guarded too: it sets a marker under the
// claim's key in the line's "applied" document and matches only while
// that marker is absent ({"applied.<key>": {$exists: false}}, a path into
// an embedded document, which the engine evaluates exactly). So even a
// takeover of a claim whose first holder was only slow, not dead, cannot
// apply the movement twice.
//
// Claim ids:
//
//	adj/<adjustment id>/<line id>        one adjustment entry on one line
//	res/<line id>/<case id>/<generation> one reservation; the generation
//	                                     counts the case's released entries
//	                                     on the line, so a case unlinked and
//	                                     linked again gets a new claim
//
// A crash between claim and apply leaves the claim "claimed" without the
// line's marker. A later request for the same movement takes the claim
// over at once when its holder is a process that no longer runs (the
// embedded engine admits one process per data directory, so any other
// process's claim is abandoned) and otherwise once it is older than the
// stale window; Check does the same for claims nobody asks for again.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"minsheng"
)

const ledgerClaimsCollection = "ledger_claims"

// Claim kinds and states.
const (
	claimAdjust  = "adj"
	claimReserve = "res"

	claimClaimed = "claimed" // taken, the movement may not be applied yet
	claimApplied = "applied" // the movement is on the line
	claimFailed  = "failed"  // refused for good (an adjustment's refusal is final)
)

// ledgerClaim is one movement's claim.
type ledgerClaim struct {
	ID           string    `bson:"_id"`
	Kind         string    `bson:"kind"`
	LineID       string    `bson:"line_id"`
	CaseID       string    `bson:"case_id,omitempty"`
	AdjustmentID string    `bson:"adjustment_id,omitempty"`
	AmountFen    int64     `bson:"amount_fen"`
	State        string    `bson:"state"`
	Reason       string    `bson:"reason,omitempty"`
	Owner        string    `bson:"owner"` // the process (Service.boot) holding it
	Token        string    `bson:"token"` // changes on every takeover
	CreatedAt    time.Time `bson:"created_at"`
	UpdatedAt    time.Time `bson:"updated_at"`
}

func adjustClaimID(adjID, lineID string) string { return "adj/" + adjID + "/" + lineID }

func reserveClaimID(lineID, caseID string, gen int) string {
	return fmt.Sprintf("res/%s/%s/%d", lineID, caseID, gen)
}

// markKey is the claim's key in its line's "applied" document: no dots or
// dollar signs, which a field path cannot carry.
func markKey(claimID string) string {
	return strings.NewReplacer("/", ":", ".", "_", "$", "_").Replace(claimID)
}

// appliedPath is the field path of a claim's marker on its line.
func appliedPath(claimID string) string { return "applied." + markKey(claimID) }

// claimWait bounds how long a duplicate request waits for the claim's
// holder to apply before answering ECONFLICT (retry later).
const claimWait = 10 * time.Second

// errClaimBusy answers a duplicate whose original is still being applied.
var errClaimBusy = minsheng.Errorf(minsheng.ECONFLICT, "相同的请求正在处理中，请稍后重试")

// refusal reports whether err is the ledger saying no (nothing applied),
// as opposed to the store failing.
func refusal(err error) bool {
	switch minsheng.ErrorCode(err) {
	case minsheng.ECONFLICT, minsheng.EINVALID, minsheng.ENOTFOUND:
		return true
	}
	return false
}

// claimed runs apply at most once per claim id across requests, processes
// and crashes. It returns mine = true when this call applied the movement,
// false when another holder had (the caller then reads the result from the
// line). apply must itself be idempotent against the line's marker, since
// a takeover may run it after a holder that was only slow. When apply
// refuses (refusal), the claim is marked failed if keepFailed — the
// refusal is final, as for an adjustment — or deleted, so that a later
// request may try again (a reservation refused for lack of funds).
func (s *Service) claimed(ctx context.Context, cl ledgerClaim, keepFailed bool, apply func() error) (mine bool, err error) {
	deadline := time.Now().Add(claimWait)
	for {
		now := s.now()
		cl.State, cl.Owner, cl.Token, cl.CreatedAt, cl.UpdatedAt = claimClaimed, s.boot, newID("TK"), now, now
		s.hold(cl.ID, 1)
		err := s.ledgerClaims.InsertOne(ctx, cl)
		if err == nil {
			break
		}
		s.hold(cl.ID, -1)
		if !errors.Is(err, minsheng.ErrDuplicate) {
			return false, fmt.Errorf("budgetlink: unable to claim %s: %w", cl.ID, err)
		}
		cur, err := s.findLedgerClaim(ctx, cl.ID)
		if err != nil {
			return false, err
		}
		if cur == nil {
			continue // dropped after a refusal: try again
		}
		switch cur.State {
		case claimApplied:
			return false, nil
		case claimFailed:
			return false, minsheng.Errorf(minsheng.ECONFLICT, "%s", cur.Reason)
		}
		if s.abandoned(cur) {
			s.hold(cl.ID, 1)
			ok, err := s.takeOverClaim(ctx, cur)
			if err != nil || !ok {
				s.hold(cl.ID, -1)
			}
			if err != nil {
				return false, err
			}
			if ok {
				cl = *cur
				break
			}
			continue
		}
		if time.Now().After(deadline) {
			return false, errClaimBusy
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	defer s.hold(cl.ID, -1)
	if err := apply(); err != nil {
		if !refusal(err) {
			return false, err // left claimed: a retry or Check takes it over
		}
		if keepFailed {
			if _, uerr := s.ledgerClaims.UpdateOne(ctx, bson.M{"_id": cl.ID, "token": cl.Token},
				bson.M{"$set": bson.M{"state": claimFailed, "reason": minsheng.ErrorMessage(err), "updated_at": s.now()}}); uerr != nil {
				return false, fmt.Errorf("budgetlink: unable to mark claim %s failed: %w", cl.ID, uerr)
			}
		} else if _, derr := s.ledgerClaims.DeleteOne(ctx, bson.M{"_id": cl.ID, "token": cl.Token}); derr != nil {
			return false, fmt.Errorf("budgetlink: unable to drop claim %s: %w", cl.ID, derr)
		}
		return false, err
	}
	if err := s.markClaimApplied(ctx, cl.ID); err != nil {
		return true, err
	}
	return true, nil
}

// hold counts the requests of this process that hold (or are about to
// insert) a claim, so a claim this process took and gave up on (the store
// failed mid-apply) is known to be abandoned at once.
func (s *Service) hold(id string, d int) {
	s.holdMu.Lock()
	defer s.holdMu.Unlock()
	if s.holding == nil {
		s.holding = map[string]int{}
	}
	if s.holding[id] += d; s.holding[id] <= 0 {
		delete(s.holding, id)
	}
}

func (s *Service) held(id string) bool {
	s.holdMu.Lock()
	defer s.holdMu.Unlock()
	return s.holding[id] > 0
}

// markClaimApplied records that a claim's movement is on its line; any
// holder may, since the line's marker is the truth.
func (s *Service) markClaimApplied(ctx context.Context, id string) error {
	if _, err := s.ledgerClaims.UpdateOne(ctx, bson.M{"_id": id, "state": claimClaimed},
		bson.M{"$set": bson.M{"state": claimApplied, "updated_at": s.now()}}); err != nil {
		return fmt.Errorf("budgetlink: unable to mark claim %s applied: %w", id, err)
	}
	return nil
}

// abandoned reports whether a claimed movement's holder can no longer be
// applying it: another process on the single-process embedded engine, or
// no request of this process holding it although this process took it,
// or no progress for the stale window.
func (s *Service) abandoned(cl *ledgerClaim) bool {
	if cl.State != claimClaimed {
		return false
	}
	if cl.Owner == s.boot {
		return !s.held(cl.ID)
	}
	if s.store.OneProcess() {
		return true
	}
	return !cl.UpdatedAt.After(s.now().Add(-s.staleAfter))
}

// takeOverClaim makes this process the holder of an abandoned claim; false
// when another request took it over (or it changed) first.
func (s *Service) takeOverClaim(ctx context.Context, cl *ledgerClaim) (bool, error) {
	token, now := newID("TK"), s.now()
	matched, err := s.ledgerClaims.UpdateOne(ctx, bson.M{"_id": cl.ID, "state": claimClaimed, "token": cl.Token},
		bson.M{"$set": bson.M{"token": token, "owner": s.boot, "updated_at": now}})
	if err != nil {
		return false, fmt.Errorf("budgetlink: unable to take over claim %s: %w", cl.ID, err)
	}
	if matched == 0 {
		return false, nil
	}
	cl.Token, cl.Owner, cl.UpdatedAt = token, s.boot, now
	return true, nil
}

func (s *Service) findLedgerClaim(ctx context.Context, id string) (*ledgerClaim, error) {
	var cl ledgerClaim
	err := s.ledgerClaims.FindOne(ctx, bson.M{"_id": id}, &cl)
	if errors.Is(err, minsheng.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("budgetlink: unable to read claim %s: %w", id, err)
	}
	return &cl, nil
}

// checkLedgerClaims settles claims a crash left between claim and apply:
// a claim whose marker is on its line is marked applied; an abandoned
// reservation claim without one is dropped (the request failed and its
// client was told so; nothing was reserved), so a retry may claim again.
// Adjustment claims are finished with their adjustment (checkAdjustments).
func (s *Service) checkLedgerClaims(ctx context.Context, rep *CheckReport) error {
	var open []ledgerClaim
	err := s.ledgerClaims.Each(ctx, bson.M{"state": claimClaimed}, func(cur *mongo.Cursor) error {
		var cl ledgerClaim
		if err := cur.Decode(&cl); err != nil {
			return fmt.Errorf("budgetlink: check: unable to decode claim: %w", err)
		}
		open = append(open, cl)
		return nil
	})
	if err != nil {
		return err
	}
	for i := range open {
		cl := &open[i]
		if !s.abandoned(cl) {
			continue
		}
		l, err := s.FindLineByID(ctx, cl.LineID)
		if minsheng.ErrorCode(err) == minsheng.ENOTFOUND {
			if _, err := s.ledgerClaims.DeleteOne(ctx, bson.M{"_id": cl.ID, "token": cl.Token}); err != nil {
				return fmt.Errorf("budgetlink: check: unable to drop claim %s: %w", cl.ID, err)
			}
			continue
		} else if err != nil {
			return err
		}
		if _, ok := l.Applied[markKey(cl.ID)]; ok {
			if err := s.markClaimApplied(ctx, cl.ID); err != nil {
				return err
			}
			rep.fix(CheckFix{Kind: FixClaimSettled, LineID: cl.LineID, CaseID: cl.CaseID, AdjustmentID: cl.AdjustmentID,
				Detail: "账务占位 " + cl.ID + " 已记入预算项目，补记为已完成"})
			continue
		}
		if cl.Kind != claimReserve {
			continue
		}
		dropped, err := s.ledgerClaims.DeleteOne(ctx, bson.M{"_id": cl.ID, "state": claimClaimed, "token": cl.Token})
		if err != nil {
			return fmt.Errorf("budgetlink: check: unable to drop claim %s: %w", cl.ID, err)
		}
		if dropped {
			rep.fix(CheckFix{Kind: FixClaimSettled, LineID: cl.LineID, CaseID: cl.CaseID,
				Detail: "预留请求 " + cl.ID + " 在记入预算项目前中断，已删除其占位，可重新关联"})
		}
	}
	return nil
}
