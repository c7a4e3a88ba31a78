// Package cosign keeps co-signatures (附议, +1) once per resident and case:
// the claim, inserted under a unique _id (case | user), that lets exactly
// one of simultaneous copies of a +1 apply, and lets a retry finish a +1 a
// crash left claimed but unwritten once the claim is older than Stale. Who
// may co-sign which case and what a co-signature writes are casework's
// (package cases).
//
// A claim rather than a guard {cosigners: {$ne: user}}: the embedded engine
// matches that as soon as another co-signer differs, which let simultaneous
// copies of one +1 all apply (docs/ARCHITECTURE.md, defect 4).
//
// Errors: ECONFLICT (minsheng) when the resident co-signed already; the
// store's errors, wrapped with the action that failed.
package cosign

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/internal/store"
)

// collection holds co-signature claims, found only by _id.
const collection = "case_cosigns"

// Stale is how old a claim without its co-signature must be before a retry
// may finish it: younger, its request is still in flight.
const Stale = 30 * time.Second

// claim records that a resident's +1 on a case is taken.
type claim struct {
	ID     string    `bson:"_id"` // case id | user id
	CaseID string    `bson:"case_id"`
	UserID string    `bson:"user_id"`
	At     time.Time `bson:"at"`
}

// Claims are the co-signature claims.
type Claims struct{ col *store.Collection }

// New returns the claims on st.
func New(st *store.Store) *Claims { return &Claims{col: st.Collection(collection)} }

// ErrAlready is the answer to a resident who co-signed the case already.
func ErrAlready() error { return minsheng.Errorf(minsheng.ECONFLICT, "您已附议过此案件") }

// Take takes the claim of userID's +1 on a case at now: ErrAlready when it
// was taken already, unless a crash left it without the co-signature
// (signed reports whether the case holds it) for longer than Stale, which
// the retry then finishes.
func (cl *Claims) Take(ctx context.Context, caseID, userID string, now time.Time, signed func() (bool, error)) error {
	c := claim{ID: caseID + "|" + userID, CaseID: caseID, UserID: userID, At: now}
	err := cl.col.InsertOne(ctx, c)
	if err == nil {
		return nil
	}
	if !errors.Is(err, minsheng.ErrDuplicate) {
		return fmt.Errorf("cases: unable to claim co-signature: %w", err)
	}
	var prev claim
	if err := cl.col.FindOne(ctx, bson.D{{Key: "_id", Value: c.ID}}, &prev); err != nil {
		return ErrAlready()
	}
	done, err := signed()
	if err != nil {
		return err
	}
	if done || now.Sub(prev.At) < Stale {
		return ErrAlready()
	}
	return nil
}
