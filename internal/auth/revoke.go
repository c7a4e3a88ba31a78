package auth

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/store"
)

// Access tokens carry the user's token_version. Disabling a user, changing
// a role or scope, or resetting a password raises it; a token issued under
// an older version is refused. So that a request needs no database read,
// every instance keeps the versions raised within the last access-token
// lifetime in memory (a token older than that has expired anyway) and
// reloads them from the database at most every RevocationRefresh: the truth
// is in the database, and every instance refuses a revoked token within
// that interval.

const revocationsCollection = "token_revocations"

// revocation says: tokens of UserID below MinVersion are void. It expires
// once every such token has.
type revocation struct {
	UserID     string    `bson:"_id"`
	MinVersion int64     `bson:"min_version"`
	ExpiresAt  time.Time `bson:"expires_at"`
}

// revocations is the per-process copy of the revocation collection.
type revocations struct {
	c        *store.Collection
	every    time.Duration
	maxStale time.Duration

	mu       sync.Mutex // held while reloading
	view     sync.RWMutex
	min      map[string]int64
	loadedAt time.Time
}

func newRevocations(st *store.Store, every time.Duration) *revocations {
	return &revocations{c: st.Collection(revocationsCollection), every: every, maxStale: 10 * every, min: map[string]int64{}}
}

// minVersion returns the lowest token version still valid for userID
// (0: any), reloading the copy when it is older than every. When a reload
// fails the old copy serves until it is maxStale, then the request fails:
// better refuse than accept a revoked token for long.
func (r *revocations) minVersion(ctx context.Context, now time.Time, userID string) (int64, error) {
	r.view.RLock()
	age := now.Sub(r.loadedAt)
	loaded := !r.loadedAt.IsZero()
	v := r.min[userID]
	r.view.RUnlock()
	if age < r.every && age >= 0 {
		return v, nil
	}
	// One request reloads; the others go on with the current copy unless
	// it is too old to trust, then they wait for the reload.
	if !r.mu.TryLock() {
		if age < r.maxStale && loaded {
			return v, nil
		}
		r.mu.Lock()
	}
	defer r.mu.Unlock()
	r.view.RLock()
	fresh := now.Sub(r.loadedAt) < r.every && now.Sub(r.loadedAt) >= 0
	r.view.RUnlock()
	if !fresh {
		if err := r.reload(ctx, now); err != nil {
			r.view.RLock()
			stale := r.loadedAt.IsZero() || now.Sub(r.loadedAt) >= r.maxStale
			r.view.RUnlock()
			if stale {
				return 0, err
			}
		}
	}
	r.view.RLock()
	defer r.view.RUnlock()
	return r.min[userID], nil
}

func (r *revocations) reload(ctx context.Context, now time.Time) error {
	var all []revocation
	if err := r.c.FindAll(ctx, bson.M{}, &all); err != nil {
		return fmt.Errorf("auth: unable to load token revocations: %w", err)
	}
	m := make(map[string]int64, len(all))
	expired := false
	for _, rv := range all {
		if now.After(rv.ExpiresAt) {
			expired = true
			continue
		}
		m[rv.UserID] = rv.MinVersion
	}
	if expired {
		// Rare and small; a failure is retried on the next reload.
		_, _ = r.c.DeleteMany(ctx, bson.M{"expires_at": bson.M{"$lt": now.UTC()}})
	}
	r.view.Lock()
	r.min, r.loadedAt = m, now
	r.view.Unlock()
	return nil
}

// revoke records that userID's tokens below version are void, in the
// database for every instance and at once in this one's copy.
func (r *revocations) revoke(ctx context.Context, userID string, version int64, until time.Time) error {
	// $max: of two racing changes the newer version wins. This is the
	// update operator, which the embedded FerretDB applies (under the
	// write guard; TestConcurrentDisable runs it 8 at a time), not the
	// $group accumulator of docs/ARCHITECTURE.md, engine defect 2.
	if _, err := r.c.UpdateOne(ctx, bson.M{"_id": userID},
		bson.M{"$max": bson.M{"min_version": version}, "$set": bson.M{"expires_at": until.UTC()}},
		options.UpdateOne().SetUpsert(true)); err != nil {
		return fmt.Errorf("auth: unable to revoke tokens: %w", err)
	}
	r.view.Lock()
	r.min[userID] = max(r.min[userID], version)
	r.view.Unlock()
	return nil
}

var errRevoked = minsheng.Errorf(minsheng.EUNAUTHORIZED, "账号已停用或权限已变更，请重新登录")
