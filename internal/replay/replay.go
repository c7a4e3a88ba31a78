// Package replay makes the cadre app's outbox safe to resend: a request
// under a client-chosen key (an Idempotency-Key, a client UUID in the path)
// runs once; copies — sent again after a lost answer, or several at the
// same moment — get the first answer, and a copy with another body is
// refused (EUNPROCESSABLE, 422).
//
// The key is claimed by one insert under the unique _id, never by a
// conditional update over an array (DESIGN.md: FerretDB's $ne over arrays),
// so two identical requests arriving together cannot both run. Answers that
// a retry should not get (internal errors) release the key.
package replay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/internal/store"
)

const collectionName = "replay_records"

// Indexes of the records.
var Indexes = []store.Index{
	{Collection: collectionName, Name: "expires_at", Keys: bson.D{{Key: "expires_at", Value: 1}}},
}

// Tuning.
const (
	// TTL is how long an answer is kept for replays: longer than a phone
	// stays offline with a full outbox in practice.
	TTL = 14 * 24 * time.Hour
	// Lease is how long a claim whose request never finished (its process
	// died) blocks the key before a retry takes it over.
	Lease = 2 * time.Minute
	// Wait bounds how long a copy waits for the first request's answer.
	Wait = 15 * time.Second
)

const (
	statePending = "pending"
	stateDone    = "done"
)

type record struct {
	ID        string            `bson:"_id"`
	BodyHash  string            `bson:"body_hash"`
	State     string            `bson:"state"`
	Status    int               `bson:"status,omitempty"`
	Body      []byte            `bson:"body,omitempty"`
	ErrCode   string            `bson:"err_code,omitempty"`
	ErrMsg    string            `bson:"err_msg,omitempty"`
	ErrFields map[string]string `bson:"err_fields,omitempty"`
	StartedAt time.Time         `bson:"started_at"`
	ExpiresAt time.Time         `bson:"expires_at"`
}

// Answer is a request's result as sent to the client.
type Answer struct {
	Status int
	Body   []byte
	// Replayed: this is the stored answer of an earlier copy.
	Replayed bool
}

// Store keeps the records.
type Store struct {
	records *store.Collection
	now     func() time.Time
}

// New returns a Store on st; now may be nil.
func New(st *store.Store, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{records: st.Collection(collectionName), now: now}
}

// Key derives a record id from the caller, the route and the client's key,
// so one caller's key never answers another's request.
func Key(caller, route, key string) string {
	sum := sha256.Sum256([]byte(caller + "\x00" + route + "\x00" + key))
	return hex.EncodeToString(sum[:])
}

// Hash is the body hash a record is bound to.
func Hash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ErrMismatch is the answer to a key reused with another body.
func ErrMismatch() error {
	return minsheng.Errorf(minsheng.EUNPROCESSABLE, "该请求标识已用于另一内容不同的请求，请勿重复使用")
}

// Do runs fn once for id. A copy gets the stored answer (or the stored
// user-facing error); EUNPROCESSABLE when bodyHash differs from the first;
// ECONFLICT when the first is still running after Wait.
func (s *Store) Do(ctx context.Context, id, bodyHash string, fn func() (Answer, error)) (Answer, error) {
	deadline := s.now().Add(Wait)
	for {
		now := s.now().UTC()
		err := s.records.InsertOne(ctx, record{ID: id, BodyHash: bodyHash, State: statePending, StartedAt: now, ExpiresAt: now.Add(TTL)})
		if err == nil {
			return s.run(ctx, id, fn)
		}
		if !errors.Is(err, minsheng.ErrDuplicate) {
			return Answer{}, fmt.Errorf("replay: unable to claim key: %w", err)
		}
		var prev record
		err = s.records.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, &prev)
		if errors.Is(err, minsheng.ErrNotFound) {
			continue // released in between: claim again
		}
		if err != nil {
			return Answer{}, fmt.Errorf("replay: unable to read key: %w", err)
		}
		if !prev.ExpiresAt.After(now) {
			if _, err := s.records.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "expires_at", Value: prev.ExpiresAt}}); err != nil {
				return Answer{}, fmt.Errorf("replay: unable to drop an expired key: %w", err)
			}
			continue
		}
		if prev.BodyHash != bodyHash {
			return Answer{}, ErrMismatch()
		}
		if prev.State == stateDone {
			if prev.ErrCode != "" {
				return Answer{}, &minsheng.Error{Code: prev.ErrCode, Message: prev.ErrMsg, Fields: prev.ErrFields}
			}
			return Answer{Status: prev.Status, Body: prev.Body, Replayed: true}, nil
		}
		if now.Sub(prev.StartedAt) > Lease {
			n, err := s.records.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "state", Value: statePending}, {Key: "started_at", Value: prev.StartedAt}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "started_at", Value: now}}}})
			if err != nil {
				return Answer{}, fmt.Errorf("replay: unable to take over a key: %w", err)
			}
			if n == 1 {
				return s.run(ctx, id, fn)
			}
			continue
		}
		if s.now().After(deadline) {
			return Answer{}, minsheng.Errorf(minsheng.ECONFLICT, "相同请求正在处理，请稍后重试")
		}
		select {
		case <-ctx.Done():
			return Answer{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// run executes the claimed request and records its answer.
func (s *Store) run(ctx context.Context, id string, fn func() (Answer, error)) (ans Answer, err error) {
	// The record outlives the request: finish its bookkeeping even if the
	// client has gone.
	bg := context.WithoutCancel(ctx)
	done := false
	defer func() {
		if !done {
			_, _ = s.records.DeleteOne(bg, bson.D{{Key: "_id", Value: id}})
		}
	}()
	ans, err = fn()
	set := bson.D{{Key: "state", Value: stateDone}}
	switch code := minsheng.ErrorCode(err); {
	case err == nil:
		set = append(set, bson.E{Key: "status", Value: ans.Status}, bson.E{Key: "body", Value: ans.Body})
	case code == minsheng.EINTERNAL || code == minsheng.ERATELIMITED:
		return ans, err // released by the defer: a retry runs again
	default:
		var e *minsheng.Error
		errors.As(err, &e)
		set = append(set, bson.E{Key: "err_code", Value: e.Code}, bson.E{Key: "err_msg", Value: e.Message}, bson.E{Key: "err_fields", Value: e.Fields})
	}
	if _, uerr := s.records.UpdateOne(bg, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}}); uerr != nil {
		return ans, fmt.Errorf("replay: unable to store the answer: %w", uerr)
	}
	done = true
	return ans, err
}
