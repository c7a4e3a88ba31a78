package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/caselist"
	"minsheng/cases/phonesync"
	"minsheng/internal/auth"
)

// Delta sync for the cadre app (package phonesync keeps the snapshots
// and compares them): the scope is the caller's community or sub-district,
// a case is fingerprinted as stored and sent as the caller sees it, and it
// leaves the phone once merged or archived.

// Sync tuning.
const (
	// SyncKeepClosed is how long a case that reached a final state stays
	// on the phone; after that it leaves with an "archived" tombstone.
	SyncKeepClosed = 30 * 24 * time.Hour
	// DefaultSyncLimit and MaxSyncLimit bound the cases of one answer.
	DefaultSyncLimit = phonesync.DefaultLimit
	MaxSyncLimit     = phonesync.MaxLimit
)

// SyncIndexes are the indexes of the snapshots.
var SyncIndexes = phonesync.Indexes

// Tombstone tells the app to drop a case it holds.
type Tombstone = phonesync.Tombstone

// SyncResult is one sync answer: the cases new or changed since the
// cursor, as p sees them, and the tombstones of those that left.
type SyncResult = phonesync.Result[*Case]

// Sync returns what changed in p's scope since cursor ("" for the first
// sync). Errors: EFORBIDDEN for roles without a community or sub-district,
// EINVALID for a bad limit.
func (s *Service) Sync(ctx context.Context, p auth.Principal, cursor string, limit int) (*SyncResult, error) {
	limit, err := phonesync.CheckLimit(limit, cursor)
	if err != nil {
		return nil, err
	}
	if _, err := scopeQuery(p); err != nil {
		return nil, err
	}
	now := s.now()
	return phonesync.Run(ctx, s.syncs, p.UserID, cursor, limit, now, phonesync.Source[Case, *Case]{
		Each:        func(ctx context.Context, fn func(*Case) error) error { return s.eachInScope(ctx, p, fn) },
		ID:          func(c *Case) string { return c.ID },
		Fingerprint: fingerprint,
		Leaves:      func(c *Case) (Tombstone, bool) { return leavesPhone(c, now) },
		View:        func(ctx context.Context, c *Case) (*Case, error) { return s.view(ctx, p, c) },
		Recheck:     func(ctx context.Context, id string) (Tombstone, bool, error) { return s.recheckHeld(ctx, p, id, now) },
	})
}

// recheckHeld decides about a case p's phone holds that the scan did not
// meet: it reads it by id, so a scan that skipped a document can never
// delete a case from a phone. A case p may no longer see, or that is gone,
// leaves as "removed".
func (s *Service) recheckHeld(ctx context.Context, p auth.Principal, id string, now time.Time) (Tombstone, bool, error) {
	c, err := s.load(ctx, id)
	switch {
	case err == nil && canView(p, c):
		stone, gone := leavesPhone(c, now)
		return stone, gone, nil
	case err == nil || minsheng.ErrorCode(err) == minsheng.ENOTFOUND:
		return Tombstone{ID: id, Reason: "removed", Label: "已移出本社区"}, true, nil
	}
	return Tombstone{}, false, err
}

// leavesPhone reports whether c no longer belongs on the phone, and why.
func leavesPhone(c *Case, now time.Time) (Tombstone, bool) {
	switch {
	case c.Status == StatusMerged:
		return Tombstone{ID: c.ID, Reason: "merged", Label: "已合并到其他案件", MergedInto: c.MergedInto}, true
	case c.Status.Final() && c.ClosedAt != nil && now.Sub(*c.ClosedAt) > SyncKeepClosed:
		return Tombstone{ID: c.ID, Reason: "archived", Label: "已归档"}, true
	}
	return Tombstone{}, false
}

// fingerprint identifies the content of a stored case: any write changes it.
func fingerprint(c *Case) string {
	b, _ := json.Marshal(struct {
		C   *Case
		Due time.Time
	}{c, c.DueAt})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// scopeQuery is the filter of what the app syncs for p: a cadre's
// community, a sub-district for its staff (caselist.PhoneScope).
func scopeQuery(p auth.Principal) (bson.D, error) { return caselist.PhoneScope(p, errMobileRole()) }

// eachInScope streams the stored cases of p's scope, once each.
func (s *Service) eachInScope(ctx context.Context, p auth.Principal, fn func(*Case) error) error {
	q, err := scopeQuery(p)
	if err != nil {
		return err
	}
	return s.list().EachIn(ctx, q, fn)
}
