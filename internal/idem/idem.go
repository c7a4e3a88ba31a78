// Package idem keeps the records that make a request safe to repeat, for
// both APIs, through Store.Do: the Idempotency-Key header of /api/v1 and
// the cadre app's outbox on /mobile/v1 (a key on every action, the client
// UUID of PUT /cases/{client_uuid}); Begin, Wait, Finish and Release are
// its steps. One record per (caller, route, key) holds a hash of the request and,
// once the first request finished, its answer (or, for Do, the refusal
// it met). A record is claimed by one insert under the unique _id, never
// by a conditional update over an array, so two identical requests
// arriving at once cannot both run (docs/ARCHITECTURE.md, engine defects): claim,
// then run, then store.
package idem

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/store"
)

const collectionName = "idempotency_records"

// Indexes are the record indexes: expires_at for the cleanup.
var Indexes = []store.Index{
	{Collection: collectionName, Name: "expires_at", Keys: bson.D{{Key: "expires_at", Value: 1}}},
}

// States of a record.
const (
	StatePending = "pending" // the first request is running
	StateDone    = "done"    // its answer is stored
)

// Defaults of Config.
const (
	DefaultTTL   = 24 * time.Hour
	DefaultLease = 2 * time.Minute
	// DefaultWait bounds how long Do waits for the first copy's answer.
	DefaultWait = 10 * time.Second
)

// The cadre app's outbox (/mobile/v1) keeps its answers longer than a
// phone stays offline with a full outbox in practice, and its copies wait
// a little longer for the first one.
const (
	OutboxTTL  = 14 * 24 * time.Hour
	OutboxWait = 15 * time.Second
)

// Record is one stored Idempotency-Key.
type Record struct {
	// ID is ID(caller, route, key): neither the caller nor the key is
	// stored in the clear.
	ID       string `bson:"_id"`
	Route    string `bson:"route"`
	BodyHash string `bson:"body_hash"`
	State    string `bson:"state"`
	// Status, ContentType and Body are the stored answer (StateDone).
	Status      int    `bson:"status,omitempty"`
	ContentType string `bson:"content_type,omitempty"`
	Body        []byte `bson:"body,omitempty"`
	// ErrCode, ErrMsg and ErrFields are the refusal Do stored instead of
	// an answer (a minsheng.Error other than internal or rate limited).
	ErrCode   string            `bson:"err_code,omitempty"`
	ErrMsg    string            `bson:"err_msg,omitempty"`
	ErrFields map[string]string `bson:"err_fields,omitempty"`
	StartedAt time.Time         `bson:"started_at"`
	ExpiresAt time.Time         `bson:"expires_at"`
}

// ID derives a record's id from the caller ("user:<id>" or, for anonymous
// callers, "anon:<client address>"), the route ("POST /api/v1/cases") and
// the client's key; the cadre app's API passes the user id itself (its
// routes are its own, so no id of one API can be another's). The same id
// serves domain services as their own idempotency key, so it is bound to
// the caller and route there too.
func ID(caller, route, key string) string {
	sum := sha256.Sum256([]byte(caller + "\x00" + route + "\x00" + key))
	return hex.EncodeToString(sum[:])
}

// Config tunes a Store; zero fields take the defaults.
type Config struct {
	// TTL is how long a finished record answers replays.
	TTL time.Duration
	// Lease is how long a pending record blocks others before a retry may
	// take it over (its request died with its process).
	Lease time.Duration
	// Wait bounds how long Do waits for the first copy's answer.
	Wait time.Duration
	Now  func() time.Time
}

// Store keeps idempotency records.
type Store struct {
	records *store.Collection
	// inserts writes claims and answers with group commit (batch.go).
	inserts *store.Group[any]
	ttl     time.Duration
	lease   time.Duration
	wait    time.Duration
	now     func() time.Time
}

// New returns a Store on st.
func New(st *store.Store, cfg Config) *Store {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultWait
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	records := st.Collection(collectionName)
	return &Store{records: records, inserts: groupInserts(records), ttl: cfg.TTL, lease: cfg.Lease, wait: cfg.Wait, now: cfg.Now}
}

// ErrMismatch is returned by Begin when the key was used for a request with
// another body.
var ErrMismatch = errors.New("idem: key used with another request")

// Begin claims id for a request whose body hashes to bodyHash. It returns
// (nil, nil) when the caller owns the record and must run the request, or
// the existing record (pending or done) when another request holds it.
// ErrMismatch: the key was used with another body.
func (s *Store) Begin(ctx context.Context, id, route, bodyHash string) (*Record, error) {
	prev, _, err := s.begin(ctx, id, route, bodyHash, "")
	return prev, err
}

// begin is Begin that also returns, to the owner, the claim it holds. A
// record whose hash is formerly (when not "") matches too: a record stored
// before its route's hash changed.
func (s *Store) begin(ctx context.Context, id, route, bodyHash, formerly string) (prev, mine *Record, err error) {
	for attempt := 0; attempt < 3; attempt++ {
		now := s.now().UTC()
		rec := Record{ID: id, Route: route, BodyHash: bodyHash, State: StatePending, StartedAt: now, ExpiresAt: now.Add(s.ttl)}
		err := s.inserts.Do(ctx, rec)
		if err == nil {
			return nil, &rec, nil
		}
		if !errors.Is(err, minsheng.ErrDuplicate) {
			return nil, nil, fmt.Errorf("idem: unable to claim key: %w", err)
		}
		prev, err := s.find(ctx, id)
		if errors.Is(err, minsheng.ErrNotFound) {
			continue // released in between: claim again
		}
		if err != nil {
			return nil, nil, err
		}
		if !prev.ExpiresAt.After(now) {
			// Expired: remove exactly that claim and its answer, and
			// claim afresh.
			if _, err := s.records.DeleteOne(ctx, bson.M{"_id": id, "expires_at": prev.ExpiresAt}); err != nil {
				return nil, nil, fmt.Errorf("idem: unable to remove an expired key: %w", err)
			}
			if _, err := s.records.DeleteOne(ctx, bson.M{"_id": answerID(id), "started_at": bson.M{"$lte": prev.StartedAt}}); err != nil {
				return nil, nil, fmt.Errorf("idem: unable to remove an expired answer: %w", err)
			}
			continue
		}
		if prev.BodyHash != bodyHash && (formerly == "" || prev.BodyHash != formerly) {
			return nil, nil, ErrMismatch
		}
		if prev.State == StatePending && now.Sub(prev.StartedAt) > s.lease {
			// The first request's process is gone; one retry takes over.
			n, err := s.records.UpdateOne(ctx, bson.M{"_id": id, "state": StatePending, "started_at": prev.StartedAt},
				bson.M{"$set": bson.M{"started_at": now}})
			if err != nil {
				return nil, nil, fmt.Errorf("idem: unable to take over a key: %w", err)
			}
			if n == 1 {
				prev.StartedAt = now
				return nil, prev, nil
			}
			continue
		}
		return prev, nil, nil
	}
	return nil, nil, minsheng.Errorf(minsheng.ECONFLICT, "相同请求正在处理，请稍后重试")
}

// answerID is the id of the document holding the answer to claim id. The
// answer is a document of its own, inserted once the request finished,
// instead of an update of the claim: an insert needs no write guard on the
// embedded engine and costs a fraction of a guarded update there. The
// answer carries its claim's started_at, so an answer left from an earlier
// claim of the same key (expired, or taken over) is never taken for the
// current one's.
func answerID(id string) string { return id + ":answer" }

// find returns the claim id merged with its answer, if any (State done);
// minsheng.ErrNotFound when nothing claims id.
func (s *Store) find(ctx context.Context, id string) (*Record, error) {
	var docs []Record
	if err := s.records.FindAll(ctx, bson.M{"_id": bson.M{"$in": []string{id, answerID(id)}}}, &docs); err != nil {
		return nil, fmt.Errorf("idem: unable to read key: %w", err)
	}
	var claim, answer *Record
	for i := range docs {
		switch docs[i].ID {
		case id:
			claim = &docs[i]
		case answerID(id):
			answer = &docs[i]
		}
	}
	switch {
	case claim == nil:
		return nil, minsheng.ErrNotFound
	case answer != nil && answer.StartedAt.Equal(claim.StartedAt):
		answer.ID, answer.ExpiresAt = claim.ID, claim.ExpiresAt
		return answer, nil
	}
	return claim, nil
}

// Wait polls a pending record until it is done, released, ctx ends or
// limit passes. It returns the done record, or nil when the record was
// released (the caller may claim it again) or is still pending.
func (s *Store) Wait(ctx context.Context, id string, limit time.Duration) (*Record, error) {
	deadline := time.Now().Add(limit)
	delay := 20 * time.Millisecond
	for {
		r, err := s.find(ctx, id)
		switch {
		case errors.Is(err, minsheng.ErrNotFound):
			return nil, nil
		case err != nil:
			return nil, err
		case r.State == StateDone:
			return r, nil
		}
		if time.Now().Add(delay).After(deadline) {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, nil
		case <-time.After(delay):
		}
		delay = min(delay*2, 250*time.Millisecond)
	}
}

// Finish stores the answer of the request that claimed id.
func (s *Store) Finish(ctx context.Context, id string, status int, contentType string, body []byte) error {
	claim, err := s.find(ctx, id)
	if err != nil {
		return fmt.Errorf("idem: unable to store an answer: %w", err)
	}
	if claim.State == StateDone {
		return nil // stored already
	}
	return s.storeAnswer(ctx, claim, Record{Status: status, ContentType: contentType, Body: body})
}

// storeAnswer inserts ans as the answer to claim. An answer left from an
// earlier claim of the key is replaced; one already stored for this claim
// stays.
func (s *Store) storeAnswer(ctx context.Context, claim *Record, ans Record) error {
	ans.ID, ans.Route, ans.BodyHash, ans.State = answerID(claim.ID), claim.Route, claim.BodyHash, StateDone
	ans.StartedAt, ans.ExpiresAt = claim.StartedAt, claim.ExpiresAt
	for attempt := 0; ; attempt++ {
		err := s.inserts.Do(ctx, ans)
		if err == nil {
			return nil
		}
		if !errors.Is(err, minsheng.ErrDuplicate) || attempt > 0 {
			return fmt.Errorf("idem: unable to store an answer: %w", err)
		}
		n, err := s.records.DeleteMany(ctx, bson.M{"_id": ans.ID, "started_at": bson.M{"$lt": claim.StartedAt}})
		if err != nil {
			return fmt.Errorf("idem: unable to replace an old answer: %w", err)
		}
		if n == 0 {
			return nil // this claim's answer is stored already
		}
	}
}

// Release removes a pending record, so a retry runs the request again (an
// answer not worth keeping: a server error, an oversized body).
func (s *Store) Release(ctx context.Context, id string) error {
	if _, err := s.records.DeleteOne(ctx, bson.M{"_id": id, "state": StatePending}); err != nil {
		return fmt.Errorf("idem: unable to release a key: %w", err)
	}
	return nil
}

// ReleasePending removes every claim that started before t and has no
// answer. serve calls it at start on the embedded store, where no other
// process can be running a request, so retries after a crash do not wait
// out the lease.
func (s *Store) ReleasePending(ctx context.Context, before time.Time) (int64, error) {
	type stamp struct {
		ID        string    `bson:"_id"`
		StartedAt time.Time `bson:"started_at"`
	}
	older := bson.M{"$lt": before.UTC()}
	only := options.Find().SetProjection(bson.M{"_id": 1, "started_at": 1})
	var claims, answers []stamp
	if err := s.records.FindAll(ctx, bson.M{"state": StatePending, "started_at": older}, &claims, only); err != nil {
		return 0, fmt.Errorf("idem: unable to list pending keys: %w", err)
	}
	if err := s.records.FindAll(ctx, bson.M{"state": StateDone, "started_at": older}, &answers, only); err != nil {
		return 0, fmt.Errorf("idem: unable to list answers: %w", err)
	}
	answered := make(map[string]time.Time, len(answers))
	for _, a := range answers {
		answered[a.ID] = a.StartedAt
	}
	var open []string
	for _, c := range claims {
		if at, ok := answered[answerID(c.ID)]; !ok || !at.Equal(c.StartedAt) {
			open = append(open, c.ID)
		}
	}
	var n int64
	for start := 0; start < len(open); start += 500 {
		ids := open[start:min(start+500, len(open))]
		m, err := s.records.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}, "state": StatePending})
		if err != nil {
			return n, fmt.Errorf("idem: unable to release pending keys: %w", err)
		}
		n += m
	}
	return n, nil
}

// Purge removes expired records: claims and their answers.
func (s *Store) Purge(ctx context.Context) (int64, error) {
	n, err := s.records.DeleteMany(ctx, bson.M{"expires_at": bson.M{"$lt": s.now().UTC()}})
	if err != nil {
		return 0, fmt.Errorf("idem: unable to purge keys: %w", err)
	}
	return n, nil
}
