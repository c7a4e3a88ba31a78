package cases

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/auth"
	"minsheng/internal/store"
)

// Delta sync for the cadre app.
//
// A cursor names a stored snapshot: for every case the client holds, a
// fingerprint of the case exactly as it was sent. A sync reads every case
// of the caller's scope once, compares each fingerprint with the
// snapshot's, sends the ones that differ, and stores the new snapshot
// under a new cursor. Why this and not a change counter or updated_at:
//   - a counter taken before a write commits can become visible after a
//     higher one (two writers, the second commits first), so "everything
//     after N" misses the first unless every write holds one lock across
//     counter and write — true on the embedded engine, not on MongoDB;
//     an updated_at with a safety lag only makes the miss unlikely;
//   - a fingerprint is taken from the very document that is sent, so a
//     change committed before the read is in this answer and one committed
//     after it differs from the stored fingerprint and comes next time:
//     nothing is missed and nothing unchanged is sent twice, whatever the
//     engine and however writes interleave; no write path needs to know
//     about sync.
// The price is reading the whole scope (a community: a few hundred cases)
// on each sync, the same as a queue. A user's last few snapshots are kept
// (a week at most), so a client whose answer was lost retries with its
// previous cursor and gets the same changes again; a sync that finds
// nothing changed answers the same cursor and stores nothing.

const syncCollection = "sync_snapshots"

// Sync tuning.
const (
	// SyncKeepClosed is how long a case that reached a final state stays
	// on the phone; after that it leaves with an "archived" tombstone.
	SyncKeepClosed = 30 * 24 * time.Hour
	// syncSnapshotTTL is how long a cursor stays valid.
	syncSnapshotTTL = 7 * 24 * time.Hour
	// DefaultSyncLimit and MaxSyncLimit bound the cases of one answer.
	DefaultSyncLimit = 100
	MaxSyncLimit     = 200
)

// SyncIndexes are the indexes of the snapshots.
var SyncIndexes = []store.Index{
	{Collection: syncCollection, Name: "user_created", Keys: keys("user_id", "created_at")},
}

type syncEntry struct {
	ID   string `bson:"i"`
	Hash string `bson:"h"`
}

type syncSnapshot struct {
	ID        string      `bson:"_id"`
	UserID    string      `bson:"user_id"`
	CreatedAt time.Time   `bson:"created_at"`
	Entries   []syncEntry `bson:"entries"`
}

// Tombstone tells the app to drop a case it holds.
type Tombstone struct {
	ID     string `json:"id"`
	Reason string `json:"reason"` // merged | archived | removed
	Label  string `json:"label"`
	// MergedInto is the case kept, for a merged duplicate.
	MergedInto string `json:"merged_into,omitempty"`
}

// SyncResult is one sync answer.
type SyncResult struct {
	// Changed are the cases new or changed since the cursor, as p sees them.
	Changed    []*Case
	Tombstones []Tombstone
	Cursor     string
	// More: further changes wait; sync again with Cursor right away.
	More bool
	// Reset: the cursor was unknown or expired; the client replaces
	// everything it holds with what follows.
	Reset bool
}

// Sync returns what changed in p's scope since cursor ("" for the first
// sync). Errors: EFORBIDDEN for roles without a community or sub-district,
// EINVALID for a bad limit.
func (s *Service) Sync(ctx context.Context, p auth.Principal, cursor string, limit int) (*SyncResult, error) {
	limit, err := syncLimit(limit, cursor)
	if err != nil {
		return nil, err
	}
	if _, err := scopeQuery(p); err != nil {
		return nil, err
	}
	res := &SyncResult{}
	prev, err := s.loadSyncCursor(ctx, p, cursor, res)
	if err != nil {
		return nil, err
	}
	now := s.now()
	next, seen, err := s.syncScan(ctx, p, prev, limit, now, res)
	if err != nil {
		return nil, err
	}
	if err := s.syncUnseen(ctx, p, prev, seen, next, now, res); err != nil {
		return nil, err
	}
	if res.Tombstones == nil {
		res.Tombstones = []Tombstone{}
	}
	// Nothing changed: the same cursor again, and nothing stored (a phone
	// syncing every half minute would otherwise pile up snapshots).
	if cursor != "" && !res.Reset && len(res.Changed) == 0 && len(res.Tombstones) == 0 {
		res.Cursor = cursor
		return res, nil
	}
	snap := syncSnapshot{ID: randomID(), UserID: p.UserID, CreatedAt: now, Entries: make([]syncEntry, 0, len(next))}
	for id, h := range next {
		snap.Entries = append(snap.Entries, syncEntry{ID: id, Hash: h})
	}
	col := s.st.Collection(syncCollection)
	if err := col.InsertOne(ctx, snap); err != nil {
		return nil, fmt.Errorf("cases: unable to store sync cursor: %w", err)
	}
	res.Cursor = snap.ID
	s.pruneSnapshots(ctx, p.UserID)
	return res, nil
}

// syncLimit checks Sync's limit and cursor, and returns the limit to use.
func syncLimit(limit int, cursor string) (int, error) {
	switch {
	case limit == 0:
		limit = DefaultSyncLimit
	case limit < 0 || limit > MaxSyncLimit:
		return 0, minsheng.Invalid("查询条件无效", map[string]string{"limit": fmt.Sprintf("须在 1 到 %d 之间", MaxSyncLimit)})
	}
	if len(cursor) > 64 {
		return 0, minsheng.Invalid("同步游标无效", map[string]string{"cursor": "无效"})
	}
	return limit, nil
}

// loadSyncCursor returns the fingerprints, by case id, that the client
// holds since cursor. A first sync, or a cursor unknown, of another user
// or expired, sets res.Reset and holds nothing.
func (s *Service) loadSyncCursor(ctx context.Context, p auth.Principal, cursor string, res *SyncResult) (map[string]string, error) {
	prev := map[string]string{}
	if cursor == "" {
		res.Reset = true
		return prev, nil
	}
	var snap syncSnapshot
	err := s.st.Collection(syncCollection).FindOne(ctx, bson.D{{Key: "_id", Value: cursor}}, &snap)
	switch {
	case errors.Is(err, minsheng.ErrNotFound) || (err == nil && (snap.UserID != p.UserID || s.now().Sub(snap.CreatedAt) > syncSnapshotTTL)):
		res.Reset = true
	case err != nil:
		return nil, fmt.Errorf("cases: unable to load sync cursor: %w", err)
	default:
		for _, e := range snap.Entries {
			prev[e.ID] = e.Hash
		}
	}
	return prev, nil
}

// syncScan reads p's scope and adds to res what changed since prev, up to
// limit cases. It returns the fingerprints the client holds after this
// answer, and the ids it met.
func (s *Service) syncScan(ctx context.Context, p auth.Principal, prev map[string]string, limit int, now time.Time, res *SyncResult) (next map[string]string, seen map[string]bool, err error) {
	next = map[string]string{}
	seen = map[string]bool{}
	err = s.eachInScope(ctx, p, func(c *Case) error {
		seen[c.ID] = true
		if stone, gone := leavesPhone(c, now); gone {
			if _, held := prev[c.ID]; held {
				res.Tombstones = append(res.Tombstones, stone)
			}
			delete(next, c.ID)
			return nil
		}
		h := fingerprint(c)
		if prev[c.ID] == h {
			next[c.ID] = h
			return nil
		}
		if len(res.Changed) >= limit {
			res.More = true
			if old, held := prev[c.ID]; held {
				next[c.ID] = old // sent later, when its turn comes
			}
			return nil
		}
		v, err := s.view(ctx, p, c)
		if err != nil {
			return err
		}
		res.Changed = append(res.Changed, v)
		next[c.ID] = h
		return nil
	})
	return next, seen, err
}

// syncUnseen handles the cases held by the client but not met in the
// scan: it confirms each by id before dropping it, so a scan that skipped
// a document can never delete a case from a phone.
func (s *Service) syncUnseen(ctx context.Context, p auth.Principal, prev map[string]string, seen map[string]bool, next map[string]string, now time.Time, res *SyncResult) error {
	for id := range prev {
		if seen[id] {
			continue
		}
		c, err := s.load(ctx, id)
		switch {
		case err == nil && canView(p, c):
			if stone, gone := leavesPhone(c, now); gone {
				res.Tombstones = append(res.Tombstones, stone)
			} else {
				next[id] = prev[id] // still there; compared next time
			}
		case err == nil || minsheng.ErrorCode(err) == minsheng.ENOTFOUND:
			res.Tombstones = append(res.Tombstones, Tombstone{ID: id, Reason: "removed", Label: "已移出本社区"})
		default:
			return err
		}
	}
	return nil
}

// syncKeepSnapshots is how many cursors of one user stay valid: the last
// few, so a phone whose answer was lost (or a second phone of the same
// cadre) continues without a full reset.
const syncKeepSnapshots = 5

// pruneSnapshots drops a user's cursors beyond the latest few. A failure
// only leaves extra cursors behind, so it is logged, not returned.
func (s *Service) pruneSnapshots(ctx context.Context, userID string) {
	col := s.st.Collection(syncCollection)
	var ids []struct {
		ID string `bson:"_id"`
	}
	err := col.FindAll(ctx, bson.D{{Key: "user_id", Value: userID}}, &ids,
		options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}}).SetProjection(bson.D{{Key: "_id", Value: 1}}).SetSkip(syncKeepSnapshots))
	if err == nil && len(ids) > 0 {
		drop := bson.A{}
		for _, x := range ids {
			drop = append(drop, x.ID)
		}
		_, err = col.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: drop}}}})
	}
	if err != nil {
		s.cfg.Logger.Warn("cases: unable to drop old sync cursors", "user", userID, "err", err)
	}
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

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// scopeQuery is the filter of what the app syncs for p: a cadre's
// community, a sub-district for its staff.
func scopeQuery(p auth.Principal) (bson.D, error) {
	switch p.Role {
	case auth.RoleCadre:
		if p.Community != "" {
			return bson.D{{Key: "location.community", Value: p.Community}}, nil
		}
	case auth.RoleSubdistrict:
		if p.SubDistrict != "" {
			return bson.D{{Key: "location.sub_district", Value: p.SubDistrict}}, nil
		}
	case "":
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	return nil, errMobileRole()
}

// eachInScope streams the stored cases of p's scope, once each.
func (s *Service) eachInScope(ctx context.Context, p auth.Principal, fn func(*Case) error) error {
	q, err := scopeQuery(p)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	return s.cases.EachCase(ctx, q, func(c *Case) error {
		if seen[c.ID] {
			return nil
		}
		seen[c.ID] = true
		return fn(c)
	})
}
