package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
)

// maxResidentName bounds a resident's display name, in characters.
const maxResidentName = 20

// UpdateName sets the name a resident is shown by (个人中心; 居民1234 until
// they choose one). Errors: EUNAUTHORIZED, EFORBIDDEN for staff (their names
// are managed by the admin), EINVALID.
func (s *Service) UpdateName(ctx context.Context, p Principal, name string) (User, error) {
	if p.UserID == "" {
		return User{}, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	if err := p.RequireRole(RoleResident); err != nil {
		return User{}, err
	}
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return User{}, minsheng.Invalid("请填写姓名或称呼", map[string]string{"name": "必填"})
	case n > maxResidentName || !utf8.ValidString(name) || strings.ContainsAny(name, "\x00\r\n\t<>"):
		return User{}, minsheng.Invalid("姓名或称呼无效", map[string]string{"name": fmt.Sprintf("不超过%d字，不含特殊字符", maxResidentName)})
	}
	matched, err := s.users.UpdateOne(ctx, bson.M{"_id": p.UserID, "role": RoleResident},
		bson.M{"$set": bson.M{"name": name}})
	if err != nil {
		return User{}, fmt.Errorf("auth: unable to update name: %w", err)
	}
	if matched == 0 {
		return User{}, minsheng.Errorf(minsheng.ENOTFOUND, "账号不存在")
	}
	return s.FindUserByID(ctx, p.UserID)
}

// DeleteResident deletes a resident's account (PIPL, 删除个人信息). It
// first ends every sign-in of it at once, access tokens included, as an
// admin's change does (revoke.go), so no request of the resident's can
// file a case, and re-create personal data, once forget has run. Then
// forget erases the resident's data elsewhere (cases.Service.ForgetResident),
// the account goes with its phone and name, and forget runs once more, so
// it must be idempotent. If the first forget fails the account remains,
// signed out: signing in again retries. Signing in after deletion creates
// a new, empty account. Errors: EUNAUTHORIZED, EFORBIDDEN for staff,
// ENOTFOUND when the account is already gone.
func (s *Service) DeleteResident(ctx context.Context, p Principal, forget func(context.Context) error) error {
	if p.UserID == "" {
		return minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	if err := p.RequireRole(RoleResident); err != nil {
		return err
	}
	if err := s.endSessions(ctx, p.UserID); err != nil {
		return err
	}
	if err := forget(ctx); err != nil {
		return err
	}
	if _, err := s.users.DeleteOne(ctx, bson.M{"_id": p.UserID, "role": RoleResident}); err != nil {
		return fmt.Errorf("auth: unable to delete account: %w", err)
	}
	// Once more, for a request that was past its token check when the
	// tokens were revoked and wrote while forget ran. The account is gone
	// by now, so a failure is logged rather than asked to be retried.
	if err := forget(ctx); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "deleted resident: second erasure failed", "user_id", p.UserID, "err", err)
	}
	return nil
}

// endSessions voids every token of a resident's: it raises the token
// version, deletes the refresh tokens and records the revocation for every
// instance, in the order applyUserChange keeps.
func (s *Service) endSessions(ctx context.Context, id string) error {
	var u User
	err := s.users.FindOneAndUpdate(ctx, bson.M{"_id": id, "role": RoleResident},
		bson.M{"$inc": bson.M{"token_version": int64(1)}}, &u,
		options.FindOneAndUpdate().SetReturnDocument(options.After))
	if errors.Is(err, minsheng.ErrNotFound) {
		return minsheng.Errorf(minsheng.ENOTFOUND, "账号不存在")
	}
	if err != nil {
		return fmt.Errorf("auth: unable to revoke sign-ins: %w", err)
	}
	if _, err := s.refresh.DeleteMany(ctx, bson.M{"user_id": id}); err != nil {
		return fmt.Errorf("auth: unable to revoke sign-ins: %w", err)
	}
	now := s.cfg.Now().UTC()
	if err := s.revoked.revoke(ctx, id, u.TokenVersion, now.Add(s.cfg.AccessTTL+time.Minute)); err != nil {
		return err
	}
	s.cfg.Logger.InfoContext(ctx, "resident sessions ended for deletion", "user_id", id, "token_version", u.TokenVersion)
	return nil
}

// SMS returns the service's SMS sender, for other notifications to share.
func (s *Service) SMS() SMSSender { return s.cfg.SMS }
