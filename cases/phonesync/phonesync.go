// Package phonesync is the delta sync of the cadre app: what a phone holds,
// kept as a stored snapshot of fingerprints under a cursor, and what
// changed in the caller's scope since. It knows nothing of cases: package
// cases says what the scope holds, how an item is fingerprinted and shown,
// and when it leaves the phone (Source).
//
// A cursor names a stored snapshot: for every item the client holds, a
// fingerprint of the item exactly as it was sent. A sync reads every item
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
//
// The price is reading the whole scope (a community: a few hundred cases)
// on each sync, the same as a queue. A user's last few snapshots are kept
// (a week at most), so a client whose answer was lost retries with its
// previous cursor and gets the same changes again; a sync that finds
// nothing changed answers the same cursor and stores nothing.
//
// Errors: EINVALID (minsheng) for a limit or cursor out of bounds; the
// Source's own errors; the store's, wrapped with the action that failed.
package phonesync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/store"
)

const snapshotsCollection = "sync_snapshots"

// Limits of one answer.
const (
	// SnapshotTTL is how long a cursor stays valid.
	SnapshotTTL = 7 * 24 * time.Hour
	// DefaultLimit and MaxLimit bound the items of one answer.
	DefaultLimit = 100
	MaxLimit     = 200
	// keepSnapshots is how many cursors of one user stay valid: the last
	// few, so a phone whose answer was lost (or a second phone of the same
	// user) continues without a full reset.
	keepSnapshots = 5
)

// Indexes are the indexes of the snapshots.
var Indexes = []store.Index{
	{Collection: snapshotsCollection, Name: "user_created", Keys: bson.D{{Key: "user_id", Value: 1}, {Key: "created_at", Value: 1}}},
}

type entry struct {
	ID   string `bson:"i"`
	Hash string `bson:"h"`
}

type snapshot struct {
	ID        string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	CreatedAt time.Time `bson:"created_at"`
	Entries   []entry   `bson:"entries"`
}

// Tombstone tells the app to drop an item it holds.
type Tombstone struct {
	ID     string `json:"id"`
	Reason string `json:"reason"` // merged | archived | removed
	Label  string `json:"label"`
	// MergedInto is the case kept, for a merged duplicate.
	MergedInto string `json:"merged_into,omitempty"`
}

// Result is one sync answer.
type Result[T any] struct {
	// Changed are the items new or changed since the cursor, as the caller
	// sees them.
	Changed    []T
	Tombstones []Tombstone
	Cursor     string
	// More: further changes wait; sync again with Cursor right away.
	More bool
	// Reset: the cursor was unknown or expired; the client replaces
	// everything it holds with what follows.
	Reset bool
}

// Source is what a sync reads of the caller's scope: items of type C,
// answered as T.
type Source[C, T any] struct {
	// Each streams the items of the scope, once each.
	Each func(ctx context.Context, fn func(c *C) error) error
	// ID is an item's id.
	ID func(c *C) string
	// Fingerprint identifies the content of an item as stored: any write
	// changes it.
	Fingerprint func(c *C) string
	// Leaves reports whether an item no longer belongs on the phone, and
	// why.
	Leaves func(c *C) (Tombstone, bool)
	// View is an item as the caller may see it.
	View func(ctx context.Context, c *C) (T, error)
	// Recheck decides about an item the phone holds that the scan did not
	// meet, reading it by id, so a scan that skipped a document can never
	// delete an item from a phone: its tombstone and true when it must
	// leave, false to keep it.
	Recheck func(ctx context.Context, id string) (Tombstone, bool, error)
}

// Store keeps the snapshots.
type Store struct {
	col *store.Collection
	log *slog.Logger
}

// New returns the snapshots on st; log takes the failures that only leave
// extra cursors behind.
func New(st *store.Store, log *slog.Logger) *Store {
	return &Store{col: st.Collection(snapshotsCollection), log: log}
}

// Run answers one sync of user's phone since cursor ("" for the first
// sync), at most limit changed items, as CheckLimit returned it.
func Run[C, T any](ctx context.Context, s *Store, user, cursor string, limit int, now time.Time, src Source[C, T]) (*Result[T], error) {
	res := &Result[T]{}
	prev, err := s.load(ctx, user, cursor, now, res)
	if err != nil {
		return nil, err
	}
	next, seen, err := scan(ctx, src, prev, limit, res)
	if err != nil {
		return nil, err
	}
	if err := unseen(ctx, src, prev, seen, next, res); err != nil {
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
	snap := snapshot{ID: randomID(), UserID: user, CreatedAt: now, Entries: make([]entry, 0, len(next))}
	for id, h := range next {
		snap.Entries = append(snap.Entries, entry{ID: id, Hash: h})
	}
	if err := s.col.InsertOne(ctx, snap); err != nil {
		return nil, fmt.Errorf("phonesync: unable to store sync cursor: %w", err)
	}
	res.Cursor = snap.ID
	s.prune(ctx, user)
	return res, nil
}

// CheckLimit checks a sync's limit and cursor, and returns the limit to
// use (0: DefaultLimit).
func CheckLimit(limit int, cursor string) (int, error) {
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		return 0, minsheng.Invalid("查询条件无效", map[string]string{"limit": fmt.Sprintf("须在 1 到 %d 之间", MaxLimit)})
	}
	if len(cursor) > 64 {
		return 0, minsheng.Invalid("同步游标无效", map[string]string{"cursor": "无效"})
	}
	return limit, nil
}

// load returns the fingerprints, by item id, that the client holds since
// cursor. A first sync, or a cursor unknown, of another user or expired,
// sets res.Reset and holds nothing.
func (s *Store) load(ctx context.Context, user, cursor string, now time.Time, res interface{ reset() }) (map[string]string, error) {
	prev := map[string]string{}
	if cursor == "" {
		res.reset()
		return prev, nil
	}
	var snap snapshot
	err := s.col.FindOne(ctx, bson.D{{Key: "_id", Value: cursor}}, &snap)
	switch {
	case errors.Is(err, minsheng.ErrNotFound) || (err == nil && (snap.UserID != user || now.Sub(snap.CreatedAt) > SnapshotTTL)):
		res.reset()
	case err != nil:
		return nil, fmt.Errorf("phonesync: unable to load sync cursor: %w", err)
	default:
		for _, e := range snap.Entries {
			prev[e.ID] = e.Hash
		}
	}
	return prev, nil
}

func (r *Result[T]) reset() { r.Reset = true }

// scan reads the scope and adds to res what changed since prev, up to
// limit items. It returns the fingerprints the client holds after this
// answer, and the ids it met.
func scan[C, T any](ctx context.Context, src Source[C, T], prev map[string]string, limit int, res *Result[T]) (next map[string]string, seen map[string]bool, err error) {
	next = map[string]string{}
	seen = map[string]bool{}
	err = src.Each(ctx, func(c *C) error {
		id := src.ID(c)
		seen[id] = true
		if stone, gone := src.Leaves(c); gone {
			if _, held := prev[id]; held {
				res.Tombstones = append(res.Tombstones, stone)
			}
			delete(next, id)
			return nil
		}
		h := src.Fingerprint(c)
		if prev[id] == h {
			next[id] = h
			return nil
		}
		if len(res.Changed) >= limit {
			res.More = true
			if old, held := prev[id]; held {
				next[id] = old // sent later, when its turn comes
			}
			return nil
		}
		v, err := src.View(ctx, c)
		if err != nil {
			return err
		}
		res.Changed = append(res.Changed, v)
		next[id] = h
		return nil
	})
	return next, seen, err
}

// unseen handles the items held by the client but not met in the scan:
// Recheck confirms each by id before it is dropped.
func unseen[C, T any](ctx context.Context, src Source[C, T], prev map[string]string, seen map[string]bool, next map[string]string, res *Result[T]) error {
	for id := range prev {
		if seen[id] {
			continue
		}
		stone, gone, err := src.Recheck(ctx, id)
		switch {
		case err != nil:
			return err
		case gone:
			res.Tombstones = append(res.Tombstones, stone)
		default:
			next[id] = prev[id] // still there; compared next time
		}
	}
	return nil
}

// prune drops a user's cursors beyond the latest few. A failure only
// leaves extra cursors behind, so it is logged, not returned.
func (s *Store) prune(ctx context.Context, user string) {
	var ids []struct {
		ID string `bson:"_id"`
	}
	err := s.col.FindAll(ctx, bson.D{{Key: "user_id", Value: user}}, &ids,
		options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}}).SetProjection(bson.D{{Key: "_id", Value: 1}}).SetSkip(keepSnapshots))
	if err == nil && len(ids) > 0 {
		drop := bson.A{}
		for _, x := range ids {
			drop = append(drop, x.ID)
		}
		_, err = s.col.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: drop}}}})
	}
	if err != nil {
		s.log.Warn("phonesync: unable to drop old sync cursors", "user", user, "err", err)
	}
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
