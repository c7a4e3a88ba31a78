package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/page"
)

// System is the principal of the command line (minsheng users …): an
// admin that is no account, so no check against itself applies.
var System = Principal{UserID: "system", Name: "系统（命令行）", Role: RoleAdmin}

// UserUpdate is an admin's change to an account; nil fields stay as they
// are. Scope is read as in NewUser, for the new role when Role is set.
type UserUpdate struct {
	Disabled *bool
	Role     *Role
	Scope    *string
	Name     *string
}

// UpdateUser applies upd to account id. Only admins may; an admin cannot
// disable or demote themselves, and the last enabled admin stays one.
// Disabling, a new role or scope end the user's sessions: refresh tokens
// are revoked, access tokens stop working on every instance within
// Config.RevocationRefresh. Errors: EFORBIDDEN, ENOTFOUND, EINVALID (fields),
// ECONFLICT (self or last admin).
func (s *Service) UpdateUser(ctx context.Context, p Principal, id string, upd UserUpdate) (User, error) {
	if err := p.RequireRole(RoleAdmin); err != nil {
		return User{}, err
	}
	u, err := s.FindUserByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	set := bson.M{}
	fields := map[string]string{}
	if upd.Name != nil {
		name := strings.TrimSpace(*upd.Name)
		switch {
		case name == "":
			fields["name"] = "必填"
		case len([]rune(name)) > 50:
			fields["name"] = "姓名不能超过50个字"
		}
		set["name"] = name
	}
	role := u.Role
	if upd.Role != nil {
		role = *upd.Role
		switch {
		case !role.Valid():
			fields["role"] = "角色必须是 resident、cadre、subdistrict、finance 或 admin"
		case (role == RoleResident) != (u.Role == RoleResident):
			fields["role"] = "居民账号与工作人员账号不能互相转换"
		}
	}
	scopeChanged := upd.Role != nil || upd.Scope != nil
	if scopeChanged && fields["role"] == "" {
		scope := ""
		if upd.Scope != nil {
			scope = *upd.Scope
		} else if role == u.Role {
			scope = u.scope()
		}
		sd, cm, msg := s.resolveScope(role, scope)
		if msg != "" {
			fields["scope"] = msg
		}
		set["role"], set["sub_district"], set["community"] = role, sd, cm
	}
	if len(fields) > 0 {
		return User{}, minsheng.Invalid("账号信息有误", fields)
	}
	demoted := u.Role == RoleAdmin && role != RoleAdmin
	disabling := upd.Disabled != nil && *upd.Disabled && !u.Disabled
	if (demoted || disabling) && p.UserID == u.ID {
		return User{}, minsheng.Errorf(minsheng.ECONFLICT, "不能停用自己的账号或取消自己的管理员角色")
	}
	if (demoted || disabling) && u.Role == RoleAdmin && !u.Disabled {
		n, err := s.users.Count(ctx, bson.M{"role": RoleAdmin, "disabled": false})
		if err != nil {
			return User{}, fmt.Errorf("auth: unable to count admins: %w", err)
		}
		if n <= 1 {
			return User{}, minsheng.Errorf(minsheng.ECONFLICT, "至少须保留一个可用的管理员账号")
		}
	}
	if upd.Disabled != nil {
		set["disabled"] = *upd.Disabled
	}
	revoke := disabling || scopeChanged && (role != u.Role || set["sub_district"] != u.SubDistrict || set["community"] != u.Community)
	return s.applyUserChange(ctx, u.ID, set, revoke)
}

// SetPassword gives account id a new password (8–72 characters) as admin
// p, and ends the user's sessions as UpdateUser does. Errors: EFORBIDDEN,
// ENOTFOUND, EINVALID; ECONFLICT for a resident (they sign in by SMS).
func (s *Service) SetPassword(ctx context.Context, p Principal, id, password string) error {
	if err := p.RequireRole(RoleAdmin); err != nil {
		return err
	}
	if len(password) < 8 || len(password) > 72 {
		return minsheng.Invalid("密码不符合要求", map[string]string{"password": "密码长度须为8–72个字符"})
	}
	u, err := s.FindUserByID(ctx, id)
	if err != nil {
		return err
	}
	if u.Role == RoleResident {
		return minsheng.Errorf(minsheng.ECONFLICT, "居民账号以短信验证码登录，没有密码")
	}
	h, err := hashPassword(password, s.cfg.BcryptCost)
	if err != nil {
		return err
	}
	_, err = s.applyUserChange(ctx, u.ID, bson.M{"password_hash": h}, true)
	return err
}

// applyUserChange writes set to the user; when revoke, it raises the
// token version, revokes the refresh tokens and records the revocation for
// every instance, in that order, so a crash in between leaves at worst
// access tokens that expire on their own (refresh tokens of an older
// version are refused by Refresh regardless).
func (s *Service) applyUserChange(ctx context.Context, id string, set bson.M, revoke bool) (User, error) {
	now := s.cfg.Now().UTC()
	set["updated_at"] = now
	update := bson.M{"$set": set}
	if revoke {
		update["$inc"] = bson.M{"token_version": int64(1)}
	}
	var u User
	err := s.users.FindOneAndUpdate(ctx, bson.M{"_id": id}, update, &u, options.FindOneAndUpdate().SetReturnDocument(options.After))
	if err != nil {
		if errors.Is(err, minsheng.ErrNotFound) {
			return User{}, err
		}
		return User{}, fmt.Errorf("auth: unable to update user: %w", err)
	}
	if !revoke {
		return u, nil
	}
	if _, err := s.refresh.UpdateMany(ctx, bson.M{"user_id": id}, bson.M{"$set": bson.M{"revoked": true}}); err != nil {
		return User{}, fmt.Errorf("auth: unable to revoke refresh tokens: %w", err)
	}
	// Tokens issued before now expire by now+AccessTTL; the margin covers
	// clocks that differ between instances.
	if err := s.revoked.revoke(ctx, id, u.TokenVersion, now.Add(s.cfg.AccessTTL+time.Minute)); err != nil {
		return User{}, err
	}
	s.cfg.Logger.InfoContext(ctx, "user sessions revoked", "user_id", id, "token_version", u.TokenVersion)
	return u, nil
}

// scope is the scope code NewUser would take for u.
func (u User) scope() string {
	switch u.Role {
	case RoleCadre:
		return u.Community
	case RoleSubdistrict:
		return u.SubDistrict
	}
	return ""
}

// resolveScope turns a role's scope code into sub-district and community,
// or a field message.
func (s *Service) resolveScope(role Role, scope string) (subDistrict, community, msg string) {
	switch role {
	case RoleCadre:
		c, err := s.org.Community(scope)
		if err != nil {
			return "", "", "社区干部须指定所属社区代码"
		}
		return c.SubDistrictCode, c.Code, ""
	case RoleSubdistrict:
		sd, err := s.org.SubDistrict(scope)
		if err != nil {
			return "", "", "街道工作人员须指定所属街道代码"
		}
		return sd.Code, "", ""
	}
	if scope != "" {
		return "", "", "该角色不设范围"
	}
	return "", "", ""
}

// UserFilter selects accounts for FindUsers. Cursor is the next_cursor of
// the previous page; Limit is 1–100, 0 meaning page.DefaultLimit (20).
type UserFilter struct {
	Role        Role
	SubDistrict string
	Cursor      string
	Limit       int
}

// userCursors names the account list's cursors (the last id).
const userCursors = "users"

// FindUsers lists accounts for an admin in id order, a page at a time,
// with residents' phones masked. Errors: EFORBIDDEN, EINVALID (filter).
func (s *Service) FindUsers(ctx context.Context, p Principal, f UserFilter) ([]User, string, error) {
	if err := p.RequireRole(RoleAdmin); err != nil {
		return nil, "", err
	}
	fields := map[string]string{}
	f.Limit = page.Limit(f.Limit, fields)
	if f.Role != "" && !f.Role.Valid() {
		fields["role"] = "角色必须是 resident、cadre、subdistrict、finance 或 admin"
	}
	if f.SubDistrict != "" {
		if _, err := s.org.SubDistrict(f.SubDistrict); err != nil {
			fields["sub_district"] = "街道代码不存在"
		}
	}
	after := page.Decode(userCursors, f.Cursor, fields).ID
	if len(fields) > 0 {
		return nil, "", minsheng.Invalid("查询条件无效", fields)
	}
	filter := bson.M{}
	if f.Role != "" {
		filter["role"] = f.Role
	}
	if f.SubDistrict != "" {
		filter["sub_district"] = f.SubDistrict
	}
	if after != "" {
		filter["_id"] = bson.M{"$gt": after}
	}
	out := []User{}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(f.Limit + 1))
	if err := s.users.FindAll(ctx, filter, &out, opts); err != nil {
		return nil, "", fmt.Errorf("auth: unable to list users: %w", err)
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = page.Encode(userCursors, page.Cursor{ID: out[len(out)-1].ID})
	}
	for i := range out {
		out[i].Phone = MaskPhone(out[i].Phone)
	}
	return out, next, nil
}

// FindUserByUsername returns the staff account named username; ENOTFOUND
// if none.
func (s *Service) FindUserByUsername(ctx context.Context, username string) (User, error) {
	var u User
	if err := s.users.FindOne(ctx, bson.M{"username": strings.ToLower(strings.TrimSpace(username))}, &u); err != nil {
		return User{}, fmt.Errorf("auth: unable to find user: %w", err)
	}
	return u, nil
}
