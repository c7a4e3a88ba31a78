package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
)

// Attempt is one request counted by a limit: who (zero Principal for
// anonymous), from which client address, and its Idempotency-Key if any.
type Attempt struct {
	Principal      Principal
	IP             string
	IdempotencyKey string
}

// AllowFiling counts one case filing: per user and per address for
// signed-in callers, per address for anonymous ones. A replay of an
// Idempotency-Key already counted in the window is not counted again (a
// phone's outbox sends the same filing several times). ERATELIMITED states
// the real wait.
func (s *Service) AllowFiling(ctx context.Context, a Attempt) error {
	const what = "提交诉求过于频繁"
	if a.Principal.UserID == "" {
		return s.allowAttempt(ctx, "file|ip:"+a.IP, a.IdempotencyKey, s.cfg.FileAnonymousPerIP.Window, what,
			keyedLimit{"file-anon-ip:" + a.IP, s.cfg.FileAnonymousPerIP})
	}
	return s.allowAttempt(ctx, "file|user:"+a.Principal.UserID, a.IdempotencyKey, s.cfg.FilePerUser.Window, what,
		keyedLimit{"file-user:" + a.Principal.UserID, s.cfg.FilePerUser}, keyedLimit{"file-ip:" + a.IP, s.cfg.FilePerIP})
}

// AllowUpload counts one photo upload, per user and per address;
// ERATELIMITED states the real wait. A replay of an Idempotency-Key (the
// cadre app's photo UUID) already counted is not counted again. Anonymous
// callers cannot upload, so they are not counted here (the routes refuse
// them).
func (s *Service) AllowUpload(ctx context.Context, a Attempt) error {
	if a.Principal.UserID == "" {
		return nil
	}
	return s.allowAttempt(ctx, "upload|user:"+a.Principal.UserID, a.IdempotencyKey, s.cfg.UploadPerUser.Window, "上传照片过于频繁",
		keyedLimit{"upload-user:" + a.Principal.UserID, s.cfg.UploadPerUser}, keyedLimit{"upload-ip:" + a.IP, s.cfg.UploadPerIP})
}

// keyedLimit is one limit an attempt counts against.
type keyedLimit struct {
	key string
	lim Limit
}

// allowAttempt counts one attempt against every limit, or against none
// when one is full (ERATELIMITED with the wait), unless idemKey was
// already counted for who within claimWindow (a replay). On the embedded
// engine the counts live in memory (localCounts), where claim and counts
// are one step. Elsewhere they are in the database, shared by every
// instance: the attempt is counted first and its key claimed after, so a
// refused attempt leaves no claim its retry could pass on uncounted; a
// refused attempt whose key is already claimed is a replay and passes; a
// counted attempt that loses the claim to a copy of itself gives its
// counts back.
func (s *Service) allowAttempt(ctx context.Context, who, idemKey string, claimWindow time.Duration, what string, limits ...keyedLimit) error {
	l := s.limiter
	if l.local != nil {
		now := l.now()
		claim := ""
		if idemKey != "" {
			claim = seenID(who, idemKey)
		}
		if wait, ok := l.local.allow(now, claim, now.Add(claimWindow), limits...); !ok {
			return rateLimited(what, wait)
		}
		return nil
	}
	now := l.now()
	wait, err := l.countAll(ctx, limits)
	if err != nil {
		return err
	}
	if wait > 0 {
		if replay, err := s.claimed(ctx, who, idemKey, now); err != nil || replay {
			return err
		}
		return rateLimited(what, wait)
	}
	replay, err := s.seen(ctx, who, idemKey, claimWindow)
	if err != nil || replay {
		l.undo(ctx, now, limits)
	}
	return err
}

func seenID(who, key string) string { return "seen:" + who + "|" + sha256Hex(key) }

// claimed reports whether key is claimed for who and the claim still holds.
func (s *Service) claimed(ctx context.Context, who, key string, now time.Time) (bool, error) {
	if key == "" {
		return false, nil
	}
	var doc struct {
		ExpiresAt time.Time `bson:"expires_at"`
	}
	err := s.limiter.c.FindOne(ctx, bson.M{"_id": seenID(who, key)}, &doc)
	if errors.Is(err, minsheng.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("auth: unable to read idempotency key: %w", err)
	}
	return doc.ExpiresAt.After(now), nil
}

// seen claims key for who by one insert under the unique _id: true when
// it was already claimed (a replay). A claim that has expired but is not
// swept yet is removed and claimed anew. Whatever the insert answers
// (some engines answer simultaneous inserts with a write conflict), the
// claim is read back before deciding. No key: never a replay.
func (s *Service) seen(ctx context.Context, who, key string, window time.Duration) (bool, error) {
	if key == "" {
		return false, nil
	}
	now := s.limiter.now()
	id := seenID(who, key)
	doc := struct {
		ID        string    `bson:"_id"`
		ExpiresAt time.Time `bson:"expires_at"`
	}{ID: id, ExpiresAt: now.Add(window).UTC()}
	for try := 1; ; try++ {
		err := s.limiter.c.InsertOne(ctx, doc)
		if err == nil {
			return false, nil
		}
		held, rerr := s.claimed(ctx, who, key, now)
		switch {
		case rerr != nil:
			return false, rerr
		case held:
			return true, nil
		case try == maxWindowTries:
			return false, fmt.Errorf("auth: unable to record idempotency key: %w", err)
		}
		// Expired and not swept, or a conflict with a simultaneous copy.
		if _, err := s.limiter.c.DeleteOne(ctx, bson.M{"_id": id, "expires_at": bson.M{"$lte": now}}); err != nil {
			return false, fmt.Errorf("auth: unable to renew idempotency key: %w", err)
		}
		if err := backoff(ctx, try); err != nil {
			return false, err
		}
	}
}
