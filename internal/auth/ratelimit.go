package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strconv"
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

// Limiter counts attempts per key in sliding windows (ratelimit_window.go)
// kept in the database, so every instance behind a load balancer shares
// one count. On the embedded engine, which one process owns, the windows
// of AllowAs are kept in memory instead (localCounts); Full and Count
// (sign-in failures) stay stored.
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

// Allow counts one attempt for key and returns ERATELIMITED, counting
// nothing, once N attempts were allowed in the sliding window before it;
// the error carries the wait until one is allowed again.
func (l *Limiter) Allow(ctx context.Context, key string, lim Limit) error {
	return l.AllowAs(ctx, key, lim, "尝试过于频繁")
}

// AllowAs is Allow with the message's reason, e.g. "提交过于频繁".
func (l *Limiter) AllowAs(ctx context.Context, key string, lim Limit, what string) error {
	return l.allow(ctx, what, keyedLimit{key, lim})
}

// allow counts one attempt against every limit or, when one of them is
// full, against none: ERATELIMITED with the longest wait of the full ones.
// On the embedded engine the windows live in memory (localCounts); on
// MongoDB in the database, shared by every instance.
func (l *Limiter) allow(ctx context.Context, what string, limits ...keyedLimit) error {
	if l.local != nil {
		if wait, ok := l.local.allow(l.now(), "", time.Time{}, limits...); !ok {
			return rateLimited(what, wait)
		}
		return nil
	}
	wait, err := l.countAll(ctx, limits)
	if err != nil {
		return err
	}
	if wait > 0 {
		return rateLimited(what, wait)
	}
	return nil
}

// countAll adds one attempt to each stored window in turn. When one is
// past its limit, the attempts already added are taken back (a refused
// attempt counts nowhere, so the wait it is told stays true) and the wait
// is the longest of the full windows, the unvisited ones read without
// counting.
func (l *Limiter) countAll(ctx context.Context, limits []keyedLimit) (time.Duration, error) {
	now := l.now()
	for i, k := range limits {
		w := slideOf(k.lim)
		live, sum, err := l.add(ctx, k.key, w, now, 1)
		if err != nil {
			l.undo(ctx, now, limits[:i])
			return 0, err
		}
		if sum <= k.lim.N {
			continue
		}
		l.undo(ctx, now, limits[:i+1])
		wait := w.wait(now, without(live, w.slot(now)), sum-1, k.lim.N-1)
		for _, rest := range limits[i+1:] {
			if more, err := l.full(ctx, rest.key, rest.lim, now); err == nil {
				wait = max(wait, more)
			}
		}
		return max(wait, time.Nanosecond), nil
	}
	return 0, nil
}

// undo takes back one attempt from each window of limits, best effort: a
// count left behind only makes its window stricter until it ends.
func (l *Limiter) undo(ctx context.Context, now time.Time, limits []keyedLimit) {
	for _, k := range limits {
		_, _, _ = l.add(ctx, k.key, slideOf(k.lim), now, -1)
	}
}

// Full returns ERATELIMITED when key's sliding window already holds
// lim.N attempts, without counting one: for limits that count only
// failures (Count adds them). Both are stored on every engine, so
// sign-in failures survive a restart.
func (l *Limiter) Full(ctx context.Context, key string, lim Limit, what string) error {
	wait, err := l.full(ctx, key, lim, l.now())
	if err != nil {
		return err
	}
	if wait > 0 {
		return rateLimited(what, wait)
	}
	return nil
}

// full is the wait until key's stored window holds fewer than lim.N
// attempts: 0 when it already does.
func (l *Limiter) full(ctx context.Context, key string, lim Limit, now time.Time) (time.Duration, error) {
	w := slideOf(lim)
	var doc windowDoc
	err := l.c.FindOne(ctx, bson.M{"_id": w.docID(key)}, &doc)
	if err != nil && !errors.Is(err, minsheng.ErrNotFound) {
		return 0, fmt.Errorf("auth: unable to read attempts: %w", err)
	}
	live, sum := w.live(now, doc.counts())
	return w.wait(now, live, sum, lim.N-1), nil
}

// Count adds one attempt to key's stored window.
func (l *Limiter) Count(ctx context.Context, key string, lim Limit) error {
	_, err := l.count(ctx, key, lim)
	return err
}

// count adds one attempt to key's stored window and returns the attempts
// the window now holds.
func (l *Limiter) count(ctx context.Context, key string, lim Limit) (int64, error) {
	_, sum, err := l.add(ctx, key, slideOf(lim), l.now(), 1)
	return sum, err
}

// windowDoc is a stored sliding window: attempts per slot, by slot number.
type windowDoc struct {
	Slots map[string]int64 `bson:"s"`
}

func (d windowDoc) counts() []slotCount {
	out := make([]slotCount, 0, len(d.Slots))
	for f, n := range d.Slots {
		s, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			continue
		}
		out = append(out, slotCount{slot: s, n: n})
	}
	return out
}

// maxWindowTries bounds add's loop: each turn means another instance
// created the window at the same moment, or the engine answered a write
// with a conflict (retried with jitter, as docs/ARCHITECTURE.md asks).
const maxWindowTries = 4

// add adds delta attempts to now's slot of key's stored window by one
// single-document $inc, and returns the window's live slots and their sum
// after it. A window is created by a plain insert and the $inc tried
// again, never by an upsert, whose collision some engines report with a
// generic error (docs/ARCHITECTURE.md): whatever the insert answers, the next $inc
// finds the window if anyone created it. Slots that left the window are
// removed afterwards, best effort (a later attempt removes them again).
func (l *Limiter) add(ctx context.Context, key string, w slide, now time.Time, delta int64) ([]slotCount, int64, error) {
	id := w.docID(key)
	slot := w.slot(now)
	update := bson.M{
		"$inc": bson.M{"s." + slotField(slot): delta},
		"$set": bson.M{"expires_at": now.Add(w.ttl()).UTC()},
	}
	var doc windowDoc
	for try := 1; ; try++ {
		err := l.c.FindOneAndUpdate(ctx, bson.M{"_id": id}, update, &doc, options.FindOneAndUpdate().SetReturnDocument(options.After))
		if err == nil {
			break
		}
		if try == maxWindowTries || ctx.Err() != nil {
			return nil, 0, fmt.Errorf("auth: unable to count attempt: %w", err)
		}
		if !errors.Is(err, minsheng.ErrNotFound) {
			// A write conflict under contention (MongoDB, DocumentDB):
			// try again. Had the failed $inc applied after all, the
			// window would only be stricter until it ends.
			if err := backoff(ctx, try); err != nil {
				return nil, 0, err
			}
			continue
		}
		if delta < 0 {
			return nil, 0, nil // nothing left to take back
		}
		created := bson.M{"_id": id, "s": bson.M{}, "expires_at": now.Add(w.ttl()).UTC()}
		if err := l.c.InsertOne(ctx, created); err != nil && !errors.Is(err, minsheng.ErrDuplicate) {
			if err := backoff(ctx, try); err != nil {
				return nil, 0, err
			}
		}
	}
	counts := doc.counts()
	live, sum := w.live(now, counts)
	if len(live) < len(doc.Slots) {
		stale := bson.M{}
		first := w.oldest(now)
		for f := range doc.Slots {
			if s, err := strconv.ParseInt(f, 10, 64); err != nil || s < first {
				stale["s."+f] = ""
			}
		}
		if len(stale) > 0 {
			_, _ = l.c.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$unset": stale})
		}
	}
	return live, sum, nil
}

// backoff sleeps a few jittered milliseconds before turn try+1.
func backoff(ctx context.Context, try int) error {
	d := time.Duration(try)*5*time.Millisecond + time.Duration(mrand.Int64N(int64(5*time.Millisecond)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("auth: unable to count attempt: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}

// Sweep deletes windows, claims and lockouts that have ended.
func (l *Limiter) Sweep(ctx context.Context) error {
	if l.local != nil {
		l.local.sweep(l.now())
	}
	_, err := l.c.DeleteMany(ctx, bson.M{"expires_at": bson.M{"$lt": l.now()}})
	return err
}
