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
		if replay, err := s.seen(ctx, "file|ip:"+a.IP, a.IdempotencyKey, s.cfg.FileAnonymousPerIP.Window); err != nil || replay {
			return err
		}
		return s.limiter.AllowAs(ctx, "file-anon-ip:"+a.IP, s.cfg.FileAnonymousPerIP, what)
	}
	if replay, err := s.seen(ctx, "file|user:"+a.Principal.UserID, a.IdempotencyKey, s.cfg.FilePerUser.Window); err != nil || replay {
		return err
	}
	if err := s.limiter.AllowAs(ctx, "file-user:"+a.Principal.UserID, s.cfg.FilePerUser, what); err != nil {
		return err
	}
	return s.limiter.AllowAs(ctx, "file-ip:"+a.IP, s.cfg.FilePerIP, what)
}

// AllowUpload counts one photo upload, per user and per address;
// ERATELIMITED states the real wait. Anonymous callers cannot upload, so
// they are not counted here (the route refuses them).
func (s *Service) AllowUpload(ctx context.Context, a Attempt) error {
	if a.Principal.UserID == "" {
		return nil
	}
	const what = "上传照片过于频繁"
	if err := s.limiter.AllowAs(ctx, "upload-user:"+a.Principal.UserID, s.cfg.UploadPerUser, what); err != nil {
		return err
	}
	return s.limiter.AllowAs(ctx, "upload-ip:"+a.IP, s.cfg.UploadPerIP, what)
}

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
	}{ID: "seen:" + who + "|" + sha256Hex(key), ExpiresAt: now.Add(window).UTC()}
	err := s.limiter.c.InsertOne(ctx, doc)
	if errors.Is(err, minsheng.ErrDuplicate) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("auth: unable to record idempotency key: %w", err)
	}
	return false, nil
}
