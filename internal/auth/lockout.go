package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
)

// Lockout tunes what wrong passwords cost. Failures are counted per
// account and client address, so an attacker at one address locks out only
// that address, never staff signing in from another one.
type Lockout struct {
	// Free is how many wrong passwords one address may send for one
	// account before it is locked out.
	Free int64
	// First is the first lock; each further wrong password from that
	// address doubles it, up to Max.
	First, Max time.Duration
	// Forget is how long an address's failures are remembered after its
	// last one (a right password forgets them at once).
	Forget time.Duration
	// AccountCeiling is the number of wrong passwords for one account, from
	// all addresses together, within CeilingWindow above which the account
	// is under attack: then every address gets a single free failure
	// before its own lock starts. This slows an attack spread over many
	// addresses without locking any address that is not failing.
	AccountCeiling int64
	CeilingWindow  time.Duration
}

// DefaultLockout: five free failures, then 30 s, 1, 2, 4, 8 and at most 15
// minutes; above 100 failures an hour for one account, one free failure.
var DefaultLockout = Lockout{
	Free: 5, First: 30 * time.Second, Max: 15 * time.Minute, Forget: 24 * time.Hour,
	AccountCeiling: 100, CeilingWindow: time.Hour,
}

// loginFailures is one account's failures from one address.
type loginFailures struct {
	ID          string    `bson:"_id"`
	Count       int64     `bson:"count"`
	LockedUntil time.Time `bson:"locked_until"`
	ExpiresAt   time.Time `bson:"expires_at"`
}

func failureKey(username, ip string) string { return "login-fail:" + username + "|" + ip }

// lockedFor returns how long ip stays locked out of username (0: not) and
// whether failures from ip are on record.
func (s *Service) lockedFor(ctx context.Context, username, ip string) (time.Duration, bool, error) {
	var doc loginFailures
	err := s.limiter.c.FindOne(ctx, bson.M{"_id": failureKey(username, ip)}, &doc)
	if errors.Is(err, minsheng.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("auth: unable to read login failures: %w", err)
	}
	return max(doc.LockedUntil.Sub(s.cfg.Now()), 0), true, nil
}

// recordFailure counts a wrong password of username from ip and returns
// the lock it starts (0: none yet).
func (s *Service) recordFailure(ctx context.Context, username, ip string) (time.Duration, error) {
	lk := s.cfg.Lockout
	now := s.cfg.Now()
	total, _, err := s.limiter.count(ctx, "login-account-fail:"+username, lk.CeilingWindow)
	if err != nil {
		return 0, err
	}
	var doc loginFailures
	update := bson.M{"$inc": bson.M{"count": int64(1)}, "$set": bson.M{"expires_at": now.Add(lk.Forget).UTC()}}
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	id := failureKey(username, ip)
	err = s.limiter.c.FindOneAndUpdate(ctx, bson.M{"_id": id}, update, &doc, opts)
	if errors.Is(err, minsheng.ErrDuplicate) {
		err = s.limiter.c.FindOneAndUpdate(ctx, bson.M{"_id": id}, update, &doc, opts)
	}
	if err != nil {
		return 0, fmt.Errorf("auth: unable to count login failure: %w", err)
	}
	free := lk.Free
	if total > lk.AccountCeiling {
		free = 1
	}
	if doc.Count < free {
		return 0, nil
	}
	lock := lk.First
	for i := free; i < doc.Count && lock < lk.Max; i++ {
		lock *= 2
	}
	lock = min(lock, lk.Max)
	// $max: of two racing failures the longer lock wins.
	if _, err := s.limiter.c.UpdateOne(ctx, bson.M{"_id": id},
		bson.M{"$max": bson.M{"locked_until": now.Add(lock).UTC()}}); err != nil {
		return 0, fmt.Errorf("auth: unable to lock login: %w", err)
	}
	return lock, nil
}

// forgetFailures clears an address's failures after a right password.
func (s *Service) forgetFailures(ctx context.Context, username, ip string) error {
	if _, err := s.limiter.c.DeleteOne(ctx, bson.M{"_id": failureKey(username, ip)}); err != nil {
		return fmt.Errorf("auth: unable to clear login failures: %w", err)
	}
	return nil
}

func errLocked(wait time.Duration) error {
	return rateLimited("密码错误次数过多，此地址暂时不能登录该账号", wait)
}
