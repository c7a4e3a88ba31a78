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

// loginFailures is one account's failures from one address. CheckingUntil
// is a lease: one password check at a time per account and address, so a
// burst of simultaneous guesses cannot slip past the lock before the first
// failure sets it.
type loginFailures struct {
	ID            string    `bson:"_id"`
	Count         int64     `bson:"count"`
	LockedUntil   time.Time `bson:"locked_until"`
	CheckingUntil time.Time `bson:"checking_until"`
	ExpiresAt     time.Time `bson:"expires_at"`
}

// checkLease bounds how long a crashed check holds the lease; a check
// releases it as soon as the password is compared.
const checkLease = 10 * time.Second

func failureKey(username, ip string) string { return "login-fail:" + username + "|" + ip }

// claimCheck takes the lease for one password check of username from ip,
// or returns ERATELIMITED: with the lock's remaining time while ip is
// locked out, with one second while another check from ip is running.
// The failures as of the claim are returned: while the lease is held no
// one else changes them.
func (s *Service) claimCheck(ctx context.Context, username, ip string) (loginFailures, error) {
	now := s.cfg.Now().UTC()
	id := failureKey(username, ip)
	var doc loginFailures
	// Create the record if it is missing, then take the lease with a
	// conditional update: the outcome never rests on the error code an
	// engine gives a racing upsert.
	for range 2 {
		if err := s.limiter.c.Ensure(ctx, id, loginFailures{ID: id, ExpiresAt: now.Add(s.cfg.Lockout.Forget)}); err != nil {
			return doc, fmt.Errorf("auth: unable to start login check: %w", err)
		}
		err := s.limiter.c.FindOneAndUpdate(ctx,
			bson.M{"_id": id, "locked_until": bson.M{"$lte": now}, "checking_until": bson.M{"$lte": now}},
			bson.M{"$set": bson.M{"checking_until": now.Add(checkLease)}},
			&doc, options.FindOneAndUpdate().SetReturnDocument(options.After))
		if err == nil {
			return doc, nil
		}
		if !errors.Is(err, minsheng.ErrNotFound) {
			return doc, fmt.Errorf("auth: unable to start login check: %w", err)
		}
		// The record is locked or busy — or expired in between, and is
		// created again on the next turn.
		err = s.limiter.c.FindOne(ctx, bson.M{"_id": id}, &doc)
		if errors.Is(err, minsheng.ErrNotFound) {
			continue
		}
		if err != nil {
			return doc, fmt.Errorf("auth: unable to read login failures: %w", err)
		}
		if wait := doc.LockedUntil.Sub(now); wait > 0 {
			return doc, errLocked(wait)
		}
		break
	}
	return doc, rateLimited("该账号正在登录，请勿重复提交", time.Second)
}

// recordFailure counts a wrong password of username from ip, whose lease
// the caller holds with failures doc, and returns the lock it starts (0:
// none yet). One update sets the count and the lock and releases the
// lease, so no other check slips in between.
func (s *Service) recordFailure(ctx context.Context, username, ip string, doc loginFailures) (time.Duration, error) {
	lk := s.cfg.Lockout
	now := s.cfg.Now().UTC()
	total, err := s.limiter.count(ctx, "login-account-fail:"+username, Limit{N: lk.AccountCeiling, Window: lk.CeilingWindow})
	if err != nil {
		return 0, err
	}
	count := doc.Count + 1
	free := lk.Free
	if total > lk.AccountCeiling {
		free = 1
	}
	var lock time.Duration
	if count >= free {
		lock = lk.First
		for i := free; i < count && lock < lk.Max; i++ {
			lock *= 2
		}
		lock = min(lock, lk.Max)
	}
	set := bson.M{"count": count, "checking_until": time.Time{}, "expires_at": now.Add(lk.Forget)}
	if lock > 0 {
		set["locked_until"] = now.Add(lock)
	}
	if _, err := s.limiter.c.UpdateOne(ctx, bson.M{"_id": failureKey(username, ip)}, bson.M{"$set": set}); err != nil {
		return 0, fmt.Errorf("auth: unable to count login failure: %w", err)
	}
	return lock, nil
}

// forgetFailures clears an address's failures and its lease after a
// right password.
func (s *Service) forgetFailures(ctx context.Context, username, ip string) error {
	if _, err := s.limiter.c.DeleteOne(ctx, bson.M{"_id": failureKey(username, ip)}); err != nil {
		return fmt.Errorf("auth: unable to clear login failures: %w", err)
	}
	return nil
}

func errLocked(wait time.Duration) error {
	return rateLimited("密码错误次数过多，此地址暂时不能登录该账号", wait)
}

// releaseCheck gives the lease back after a check that could not decide
// (a database or hashing error); on failure the lease simply expires.
func (s *Service) releaseCheck(ctx context.Context, doc loginFailures) {
	if _, err := s.limiter.c.UpdateOne(ctx, bson.M{"_id": doc.ID}, bson.M{"$set": bson.M{"checking_until": time.Time{}}}); err != nil {
		s.cfg.Logger.WarnContext(ctx, "auth: unable to release login check", "err", err)
	}
}
