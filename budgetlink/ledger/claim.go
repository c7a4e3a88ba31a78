package ledger

// Per-case claims (案件预算占用): at most one line may hold a case's money.
//
// "Not reserved on another line" concerns other documents than the line
// being reserved on, so it cannot be part of that line's conditional
// update, and there are no transactions to join them (FerretDB has none; a
// sharded MongoDB would need a distributed one). A count of the other lines
// followed by the reservation let two requests linking one case to two
// lines both pass. So a case first takes its claim: one document per case,
// _id = case id, naming the line. Inserting it is atomic through the unique
// _id on both engines (FerretDB enforces unique indexes on insert, without
// the process lock), so of two such requests exactly one gets the claim.
//
// Order of writes: claim, then reserve on the line; release on the line,
// then drop the claim. A crash in between leaves a claim without a live
// reservation: it blocks other lines, never the claimed one, and Check
// drops it once it is older than the stale window. A live reservation
// without a claim (data older than claims) gets one from Check.
//
// A claim carries a token that changes whenever a request is about to
// reserve under an existing claim, and a claim is only ever deleted under
// the token it was read with. So a release or a Check that read the claim
// before a concurrent re-link of the same line touched it cannot drop the
// claim from under the new reservation.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/internal/auth"
)

const claimsCollection = "case_budget_claims"

// Claims need no index of their own in Indexes: every query finds a claim
// by its _id (the case id), whose index is also what makes the claim
// unique, and Check reads the collection whole, as it reads every line.
// On a sharded cluster the collection stays unsharded or is sharded on
// {_id: 1}: MongoDB only enforces _id uniqueness across shards when _id is
// the shard key.

// caseClaim says which line holds (or is about to hold) a case's money.
type caseClaim struct {
	CaseID    string    `bson:"_id"`
	LineID    string    `bson:"line_id"`
	Token     string    `bson:"token"`
	CreatedAt time.Time `bson:"created_at"`
	// UpdatedAt is when a request last took the claim; Check leaves a claim
	// younger than the stale window alone, as a link may be in flight.
	UpdatedAt time.Time `bson:"updated_at"`
}

// errLinkedElsewhere is the refusal of a case claimed by another line.
func errLinkedElsewhere() error {
	return minsheng.Errorf(minsheng.ECONFLICT, "该案件已关联其他预算项目，请先解除关联")
}

// maxClaimRetries bounds takeClaim's loop; each retry means a release or
// Check dropped the claim between two of our steps.
const maxClaimRetries = 5

// takeClaim claims a case for a line before reserving on it. A claim of
// the same line (a repeat, or a resume after a crash) is taken over with a
// new token; a claim of another line is ECONFLICT. fresh reports whether
// this call created the claim.
func (s *Service) takeClaim(ctx context.Context, caseID, lineID string) (cl caseClaim, fresh bool, err error) {
	for attempt := 0; attempt < maxClaimRetries; attempt++ {
		now := s.now()
		cl = caseClaim{CaseID: caseID, LineID: lineID, Token: newID("CL"), CreatedAt: now, UpdatedAt: now}
		err := s.claims.InsertOne(ctx, cl)
		if err == nil {
			return cl, true, nil
		}
		if !errors.Is(err, minsheng.ErrDuplicate) {
			return caseClaim{}, false, fmt.Errorf("budgetlink: unable to claim case %s: %w", caseID, err)
		}
		cur, err := s.findClaim(ctx, caseID)
		if err != nil {
			return caseClaim{}, false, err
		}
		if cur == nil {
			continue // dropped since our insert failed
		}
		if cur.LineID != lineID {
			return caseClaim{}, false, errLinkedElsewhere()
		}
		token := newID("CL")
		matched, err := s.claims.UpdateOne(ctx, bson.M{"_id": caseID, "line_id": lineID, "token": cur.Token},
			bson.M{"$set": bson.M{"token": token, "updated_at": now}})
		if err != nil {
			return caseClaim{}, false, fmt.Errorf("budgetlink: unable to take over the claim of case %s: %w", caseID, err)
		}
		if matched == 0 {
			// Another request took it over, or it was dropped. A takeover
			// for the same line is a copy of this request (the ledger claim
			// decides which copy reserves): share its token.
			if again, err := s.findClaim(ctx, caseID); err != nil {
				return caseClaim{}, false, err
			} else if again != nil && again.LineID == lineID {
				return *again, false, nil
			}
			continue
		}
		cur.Token, cur.UpdatedAt = token, now
		return *cur, false, nil
	}
	return caseClaim{}, false, minsheng.Errorf(minsheng.ECONFLICT, "该案件正被同时关联或解除关联，请稍后重试")
}

// findClaim returns a case's claim, nil when it has none.
func (s *Service) findClaim(ctx context.Context, caseID string) (*caseClaim, error) {
	var cl caseClaim
	err := s.claims.FindOne(ctx, bson.M{"_id": caseID}, &cl)
	if errors.Is(err, minsheng.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("budgetlink: unable to read the claim of case %s: %w", caseID, err)
	}
	return &cl, nil
}

// dropClaim deletes a claim if it still carries the token it was read
// with; a claim another request has taken over since stays.
func (s *Service) dropClaim(ctx context.Context, cl caseClaim) (bool, error) {
	ok, err := s.claims.DeleteOne(ctx, bson.M{"_id": cl.CaseID, "line_id": cl.LineID, "token": cl.Token})
	if err != nil {
		return false, fmt.Errorf("budgetlink: unable to drop the claim of case %s: %w", cl.CaseID, err)
	}
	return ok, nil
}

// confirmClaim runs after a reservation on lineID: the claim taken before
// it must still name that line. Only a request stalled for longer than the
// stale window can find it gone (Check dropped it) or, worse, replaced by
// another line's; then this reservation is taken back so the case never
// holds money on two lines, and the caller gets ECONFLICT.
func (s *Service) confirmClaim(ctx context.Context, p auth.Principal, caseID, lineID string) error {
	cur, err := s.findClaim(ctx, caseID)
	if err != nil {
		return err
	}
	if cur != nil && cur.LineID == lineID {
		return nil
	}
	if cur == nil {
		now := s.now()
		err := s.claims.InsertOne(ctx, caseClaim{CaseID: caseID, LineID: lineID, Token: newID("CL"), CreatedAt: now, UpdatedAt: now})
		if err == nil {
			return nil
		}
		if !errors.Is(err, minsheng.ErrDuplicate) {
			return fmt.Errorf("budgetlink: unable to claim case %s: %w", caseID, err)
		}
		if cur, err = s.findClaim(ctx, caseID); err != nil {
			return err
		}
		if cur != nil && cur.LineID == lineID {
			return nil
		}
	}
	s.logger.Warn("budget claim lost while reserving; taking the reservation back", "case", caseID, "line", lineID)
	if _, err := s.release(ctx, p, lineID, caseID, "关联期间案件已被其他预算项目占用，撤销本次预留", false); err != nil {
		return err
	}
	return errLinkedElsewhere()
}

// claimsMetaCollection records that Check gave every live reservation its
// claim: from then on a case's claim is the whole truth about which line
// holds its money, since every reservation since is made under a claim
// (taken before the line is touched, confirmed after) and every claim is
// dropped only after its reservation is released. Until then (a store with
// reservations from before claims, Check not yet run) a link also scans
// the lines for the case, which reads every line with its reservations
// ("reservations.case_id" is not pushed down): 1.7 s a link on a pilot
// store's 270 lines, loaded machine (BenchmarkLinkCase). The server runs
// Check at every start before it listens, so data restored from a backup
// taken mid-link is given its claims before any request trusts them.
const claimsMetaCollection = "case_budget_claims_meta"

const claimsCompleteID = "complete"

// markClaimsComplete records that every live reservation has its claim;
// Check calls it once its claim repair has run without error.
func (s *Service) markClaimsComplete(ctx context.Context) error {
	if s.claimsComplete.Load() {
		return nil
	}
	err := s.store.Collection(claimsMetaCollection).InsertOne(ctx, bson.M{"_id": claimsCompleteID, "at": s.now()})
	if err != nil && !errors.Is(err, minsheng.ErrDuplicate) {
		return fmt.Errorf("budgetlink: unable to record the claims as complete: %w", err)
	}
	s.claimsComplete.Store(true)
	return nil
}

// claimsAreComplete reports whether Check has recorded every live
// reservation as claimed (read once per process, then remembered).
func (s *Service) claimsAreComplete(ctx context.Context) (bool, error) {
	if s.claimsComplete.Load() {
		return true, nil
	}
	var m struct {
		ID string `bson:"_id"`
	}
	err := s.store.Collection(claimsMetaCollection).FindOne(ctx, bson.M{"_id": claimsCompleteID}, &m)
	if errors.Is(err, minsheng.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("budgetlink: unable to read the claims' state: %w", err)
	}
	s.claimsComplete.Store(true)
	return true, nil
}

// linkedLine finds the line holding a live reservation for a case through
// the case's claim (two reads by _id) once claims are complete, and by
// scanning the lines (lineOfCase) before.
func (s *Service) linkedLine(ctx context.Context, caseID string) (*BudgetLine, Reservation, error) {
	complete, err := s.claimsAreComplete(ctx)
	if err != nil {
		return nil, Reservation{}, err
	}
	if !complete {
		return s.lineOfCase(ctx, caseID)
	}
	cl, err := s.findClaim(ctx, caseID)
	if err != nil || cl == nil {
		return nil, Reservation{}, err
	}
	l, err := s.FindLineByID(ctx, cl.LineID)
	if minsheng.ErrorCode(err) == minsheng.ENOTFOUND {
		return nil, Reservation{}, nil
	}
	if err != nil {
		return nil, Reservation{}, err
	}
	if i, ok := liveEntry(l, caseID); ok {
		return l, l.Reservations[i], nil
	}
	return nil, Reservation{}, nil
}
