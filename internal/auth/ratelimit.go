package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/store"
)

// Limit is a number of attempts allowed per window.
type Limit struct {
	N      int64
	Window time.Duration
}

// Limiter counts attempts per key in fixed windows kept in the database, so
// every instance behind a load balancer shares one count. On the embedded
// engine, which one process owns, the windows of AllowAs are kept in memory
// instead (localCounts); Full and Count (sign-in failures) stay stored.
type Limiter struct {
	c   *store.Collection
	now func() time.Time
	// local, on the embedded engine, holds the counts of AllowAs in
	// memory (see localCounts); nil on MongoDB.
	local *localCounts
}

const rateLimitCollection = "rate_limits"

// NewLimiter returns a limiter on st.
func NewLimiter(st *store.Store, now func() time.Time) *Limiter {
	l := &Limiter{c: st.Collection(rateLimitCollection), now: now}
	if st.OneProcess() {
		l.local = newLocalCounts()
	}
	return l
}

// RetryAfter is the cause inside every ERATELIMITED error of this package:
// the real time until an attempt can succeed again. The HTTP layer sends it
// as the Retry-After header; the message states the same wait, rounded up.
type RetryAfter struct {
	Wait time.Duration
}

func (r *RetryAfter) Error() string { return fmt.Sprintf("retry after %v", r.Wait) }

// RetryAfterDuration is Wait; the HTTP layer reads every error's wait
// through this method, whichever package the error comes from.
func (r *RetryAfter) RetryAfterDuration() time.Duration { return r.Wait }

// Seconds is Wait rounded up to whole seconds, at least 1 (Retry-After).
func (r *RetryAfter) Seconds() int {
	s := int(math.Ceil(r.Wait.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}

// RetryAfterOf returns the wait carried by an ERATELIMITED error of this
// package, if err is one.
func RetryAfterOf(err error) (time.Duration, bool) {
	var ra *RetryAfter
	if errors.As(err, &ra) {
		return ra.Wait, true
	}
	return 0, false
}

// WaitText says a wait as the messages do: seconds up to two minutes, whole
// minutes (rounded up) beyond, so it never promises less than Retry-After.
func WaitText(wait time.Duration) string {
	s := (&RetryAfter{Wait: wait}).Seconds()
	if s <= 120 {
		return fmt.Sprintf("%d 秒", s)
	}
	return fmt.Sprintf("%d 分钟", (s+59)/60)
}

// rateLimited is ERATELIMITED with what (a Chinese sentence start such as
// "尝试过于频繁") and the wait in both the message and the cause.
func rateLimited(what string, wait time.Duration) error {
	return &minsheng.Error{Code: minsheng.ERATELIMITED,
		Message: fmt.Sprintf("%s，请 %s后再试", what, WaitText(wait)),
		Err:     &RetryAfter{Wait: wait}}
}

// Allow counts one attempt for key and returns ERATELIMITED once the window's
// limit is passed, carrying the time left in the window.
func (l *Limiter) Allow(ctx context.Context, key string, lim Limit) error {
	return l.AllowAs(ctx, key, lim, "尝试过于频繁")
}

// AllowAs is Allow with the message's reason, e.g. "提交过于频繁".
func (l *Limiter) AllowAs(ctx context.Context, key string, lim Limit, what string) error {
	if l.local != nil {
		now := l.now()
		start := now.Truncate(lim.Window)
		if wait, ok := l.local.allow(now, "", time.Time{}, localCheck{id: windowID(key, start), end: start.Add(lim.Window), n: lim.N}); !ok {
			return rateLimited(what, wait)
		}
		return nil
	}
	n, end, err := l.count(ctx, key, lim.Window)
	if err != nil {
		return err
	}
	if n > lim.N {
		return rateLimited(what, end.Sub(l.now()))
	}
	return nil
}

// Full returns ERATELIMITED when key's current window already holds
// lim.N attempts, without counting one: for limits that count only
// failures (Count adds them).
func (l *Limiter) Full(ctx context.Context, key string, lim Limit, what string) error {
	now := l.now()
	start := now.Truncate(lim.Window)
	var doc struct {
		Count int64 `bson:"count"`
	}
	err := l.c.FindOne(ctx, bson.M{"_id": windowID(key, start)}, &doc)
	if err != nil && !errors.Is(err, minsheng.ErrNotFound) {
		return fmt.Errorf("auth: unable to read attempts: %w", err)
	}
	if doc.Count >= lim.N {
		return rateLimited(what, start.Add(lim.Window).Sub(now))
	}
	return nil
}

// Count adds one attempt to key's current window.
func (l *Limiter) Count(ctx context.Context, key string, lim Limit) error {
	_, _, err := l.count(ctx, key, lim.Window)
	return err
}

// count adds one to key's current window and returns the new count and the
// window's end.
func (l *Limiter) count(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	now := l.now()
	start := now.Truncate(window)
	end := start.Add(window)
	id := windowID(key, start)
	var doc struct {
		Count int64 `bson:"count"`
	}
	update := bson.M{"$inc": bson.M{"count": int64(1)}, "$setOnInsert": bson.M{"expires_at": end}}
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	err := l.c.FindOneAndUpdate(ctx, bson.M{"_id": id}, update, &doc, opts)
	if errors.Is(err, minsheng.ErrDuplicate) {
		// Two first attempts raced on the upsert; the second one now finds the document.
		err = l.c.FindOneAndUpdate(ctx, bson.M{"_id": id}, update, &doc, opts)
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("auth: unable to count attempt: %w", err)
	}
	return doc.Count, end, nil
}

// windowID is the id of key's window starting at start.
func windowID(key string, start time.Time) string { return fmt.Sprintf("%s|%d", key, start.Unix()) }

// Sweep deletes windows and lockouts that have ended.
func (l *Limiter) Sweep(ctx context.Context) error {
	if l.local != nil {
		l.local.sweep(l.now())
	}
	_, err := l.c.DeleteMany(ctx, bson.M{"expires_at": bson.M{"$lt": l.now()}})
	return err
}
