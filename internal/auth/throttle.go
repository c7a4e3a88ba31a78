package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

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
// ERATELIMITED states the real wait. Anonymous callers cannot upload, so
// they are not counted here (the route refuses them).
func (s *Service) AllowUpload(ctx context.Context, a Attempt) error {
	if a.Principal.UserID == "" {
		return nil
	}
	return s.allowAttempt(ctx, "", "", 0, "上传照片过于频繁",
		keyedLimit{"upload-user:" + a.Principal.UserID, s.cfg.UploadPerUser}, keyedLimit{"upload-ip:" + a.IP, s.cfg.UploadPerIP})
}

// keyedLimit is one limit an attempt counts against.
type keyedLimit struct {
	key string
	lim Limit
}

// allowAttempt counts one attempt against each limit in turn, stopping at
// the first it passes (ERATELIMITED with its wait), unless idemKey was
// already counted for who within claimWindow (a replay). On the embedded
// engine the counts live in memory (localCounts), where claim and counts
// are one step; elsewhere in the database, shared by every instance.
func (s *Service) allowAttempt(ctx context.Context, who, idemKey string, claimWindow time.Duration, what string, limits ...keyedLimit) error {
	if loc := s.limiter.local; loc != nil {
		now := s.limiter.now()
		claim := ""
		if idemKey != "" {
			claim = seenID(who, idemKey)
		}
		checks := make([]localCheck, len(limits))
		for i, k := range limits {
			start := now.Truncate(k.lim.Window)
			checks[i] = localCheck{id: windowID(k.key, start), end: start.Add(k.lim.Window), n: k.lim.N}
		}
		if wait, ok := loc.allow(now, claim, now.Add(claimWindow), checks...); !ok {
			return rateLimited(what, wait)
		}
		return nil
	}
	if replay, err := s.seen(ctx, who, idemKey, claimWindow); err != nil || replay {
		return err
	}
	for _, k := range limits {
		if err := s.limiter.AllowAs(ctx, k.key, k.lim, what); err != nil {
			return err
		}
	}
	return nil
}

func seenID(who, key string) string { return "seen:" + who + "|" + sha256Hex(key) }

// seen claims key for who by one insert under the unique _id: true when
// it was already claimed (a replay). No key: never a replay.
func (s *Service) seen(ctx context.Context, who, key string, window time.Duration) (bool, error) {
	if key == "" {
		return false, nil
	}
	now := s.cfg.Now()
	doc := struct {
		ID        string    `bson:"_id"`
		ExpiresAt time.Time `bson:"expires_at"`
	}{ID: seenID(who, key), ExpiresAt: now.Add(window).UTC()}
	err := s.limiter.c.InsertOne(ctx, doc)
	if errors.Is(err, minsheng.ErrDuplicate) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("auth: unable to record idempotency key: %w", err)
	}
	return false, nil
}
