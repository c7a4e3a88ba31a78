package auth

import (
	"context"
	"errors"
	"fmt"
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
// every instance behind a load balancer shares one count.
type Limiter struct {
	c   *store.Collection
	now func() time.Time
}

const rateLimitCollection = "rate_limits"

// NewLimiter returns a limiter on st.
func NewLimiter(st *store.Store, now func() time.Time) *Limiter {
	return &Limiter{c: st.Collection(rateLimitCollection), now: now}
}

// Allow counts one attempt for key and returns ERATELIMITED once the window's
// limit is passed.
func (l *Limiter) Allow(ctx context.Context, key string, lim Limit) error {
	now := l.now()
	start := now.Truncate(lim.Window)
	id := fmt.Sprintf("%s|%d", key, start.Unix())
	var doc struct {
		Count int64 `bson:"count"`
	}
	update := bson.M{"$inc": bson.M{"count": int64(1)}, "$setOnInsert": bson.M{"expires_at": start.Add(lim.Window)}}
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	err := l.c.FindOneAndUpdate(ctx, bson.M{"_id": id}, update, &doc, opts)
	if errors.Is(err, minsheng.ErrDuplicate) {
		// Two first attempts raced on the upsert; the second one now finds the document.
		err = l.c.FindOneAndUpdate(ctx, bson.M{"_id": id}, update, &doc, opts)
	}
	if err != nil {
		return fmt.Errorf("auth: unable to count attempt: %w", err)
	}
	if doc.Count > lim.N {
		wait := start.Add(lim.Window).Sub(now).Round(time.Minute)
		if wait < time.Minute {
			wait = time.Minute
		}
		return minsheng.Errorf(minsheng.ERATELIMITED, "尝试过于频繁，请 %d 分钟后再试", int(wait.Minutes()))
	}
	return nil
}

// Sweep deletes windows that have ended.
func (l *Limiter) Sweep(ctx context.Context) error {
	_, err := l.c.DeleteMany(ctx, bson.M{"expires_at": bson.M{"$lt": l.now()}})
	return err
}
