package auth

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

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

// DeleteResident deletes a resident's account (PIPL, 删除个人信息): the
// account with its phone and name, and every sign-in of it. The cases
// service blanks the cases first (cases.Service.ForgetResident). Signing in
// again with the same phone creates a new, empty account.
func (s *Service) DeleteResident(ctx context.Context, p Principal) error {
	if p.UserID == "" {
		return minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	if err := p.RequireRole(RoleResident); err != nil {
		return err
	}
	if _, err := s.refresh.DeleteMany(ctx, bson.M{"user_id": p.UserID}); err != nil {
		return fmt.Errorf("auth: unable to revoke sign-ins: %w", err)
	}
	if _, err := s.users.DeleteOne(ctx, bson.M{"_id": p.UserID, "role": RoleResident}); err != nil {
		return fmt.Errorf("auth: unable to delete account: %w", err)
	}
	return nil
}

// SMS returns the service's SMS sender, for other notifications to share.
func (s *Service) SMS() SMSSender { return s.cfg.SMS }
