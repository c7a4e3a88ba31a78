package idem

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"minsheng"
)

// Answer is a request's result as sent to the client.
type Answer struct {
	Status      int
	ContentType string
	Body        []byte
	// Transient marks an answer a retry must not get (a server error, one
	// that depends on the moment, one too big to keep): Do releases the
	// key instead of storing it.
	Transient bool
	// Replayed: this is the stored answer of an earlier copy.
	Replayed bool
}

// Hash is the hash the cadre app's routes bound their records to before
// httpkit.RequestHash became the one request hash: the parts, each
// prefixed by its length, so that no two different lists of parts hash
// alike. It only recognises records stored before that change (Request.Formerly);
// remove it once they have expired (OutboxTTL, 14 days).
func Hash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ErrNotStored wraps the error Do returns, together with the answer fn
// gave, when that answer could not be stored: the key is released, so a
// retry runs again; the answer itself stands.
var ErrNotStored = errors.New("idem: answer not stored")

// Do runs fn once for id (see ID), bound to bodyHash: the first copy
// claims the key, runs fn and stores what it returned; a copy arriving
// meanwhile waits up to Config.Wait for that answer, a later one gets it
// at once (Answer.Replayed). A refusal fn returned (a minsheng.Error) is
// stored and returned to every copy; an internal or rate-limit error, a
// panic or a Transient answer releases the key, so a retry runs again.
//
// Errors: EUNPROCESSABLE wrapping ErrMismatch when bodyHash differs from
// the first copy's; ECONFLICT when the first copy is still running after
// Config.Wait; ctx's error when ctx ends while waiting.
func (s *Store) Do(ctx context.Context, id, route, bodyHash string, fn func() (Answer, error)) (Answer, error) {
	return s.DoRequest(ctx, Request{ID: id, Route: route, Hash: bodyHash}, fn)
}

// Request names one request for DoRequest.
type Request struct {
	// ID is ID(caller, route, key); Route is stored with the record.
	ID, Route string
	// Hash binds the key to the request's content (httpkit.RequestHash).
	Hash string
	// Formerly, when not "", is the hash the same request had before its
	// route's hash changed: a record stored under it is this request's,
	// not another's, until it expires.
	Formerly string
}

// ErrMismatchMessage is what a client is told when its key was used for a
// request with another content.
const ErrMismatchMessage = "该 Idempotency-Key 已用于另一内容不同的请求"

// DoRequest is Do for r.
func (s *Store) DoRequest(ctx context.Context, r Request, fn func() (Answer, error)) (Answer, error) {
	id, route, bodyHash := r.ID, r.Route, r.Hash
	// Real time, not Config.Now: the wait is for a request running now.
	deadline := time.Now().Add(s.wait)
	for {
		prev, mine, err := s.begin(ctx, id, route, bodyHash, r.Formerly)
		switch {
		case errors.Is(err, ErrMismatch):
			return Answer{}, &minsheng.Error{Code: minsheng.EUNPROCESSABLE, Message: ErrMismatchMessage, Err: ErrMismatch}
		case err != nil:
			return Answer{}, err
		case prev == nil:
			return s.run(ctx, mine, fn)
		}
		if prev.State == StatePending {
			if prev, err = s.Wait(ctx, id, time.Until(deadline)); err != nil {
				return Answer{}, err
			}
			if prev == nil {
				continue // the first copy failed and released the key
			}
			if prev.State != StateDone {
				if err := ctx.Err(); err != nil {
					return Answer{}, err
				}
				if time.Now().Before(deadline) {
					continue // its lease may have passed: Begin decides
				}
				return Answer{}, minsheng.Errorf(minsheng.ECONFLICT, "相同请求正在处理，请稍后重试")
			}
		}
		if prev.ErrCode != "" {
			return Answer{}, &minsheng.Error{Code: prev.ErrCode, Message: prev.ErrMsg, Fields: prev.ErrFields}
		}
		return Answer{Status: prev.Status, ContentType: prev.ContentType, Body: prev.Body, Replayed: true}, nil
	}
}

// run executes the request that claimed the key and stores its outcome.
func (s *Store) run(ctx context.Context, claim *Record, fn func() (Answer, error)) (ans Answer, err error) {
	// The record outlives the request: finish its bookkeeping even when
	// the client has gone.
	bg := context.WithoutCancel(ctx)
	kept := false
	defer func() {
		if !kept {
			_ = s.Release(bg, claim.ID) // a failure ends with the lease
		}
	}()
	ans, err = fn()
	var out Record
	switch code := minsheng.ErrorCode(err); {
	case err == nil && ans.Transient:
		return ans, nil
	case err == nil:
		out = Record{Status: ans.Status, ContentType: ans.ContentType, Body: ans.Body}
	case code == minsheng.EINTERNAL || code == minsheng.ERATELIMITED:
		return ans, err
	default:
		var e *minsheng.Error
		errors.As(err, &e)
		out = Record{ErrCode: e.Code, ErrMsg: e.Message, ErrFields: e.Fields}
	}
	if serr := s.storeAnswer(bg, claim, out); serr != nil {
		if err == nil {
			return ans, fmt.Errorf("%w: %w", ErrNotStored, serr)
		}
		return ans, err
	}
	kept = true
	return ans, err
}
