// Package auth holds users, passwords, tokens and the one place where roles
// and scopes are checked. Domain packages receive a Principal and ask it;
// no handler decides on its own who may see what.
package auth

import (
	"slices"

	"minsheng"
	"minsheng/internal/org"
)

// Role is what a user is in the organisation.
type Role string

// Roles, from the street to the district.
const (
	RoleResident    Role = "resident"    // 居民
	RoleCadre       Role = "cadre"       // 社区干部, one community
	RoleSubdistrict Role = "subdistrict" // 街道工作人员, one sub-district
	RoleFinance     Role = "finance"     // 区财政局, the whole district
	RoleAdmin       Role = "admin"       // 系统管理员
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleResident, RoleCadre, RoleSubdistrict, RoleFinance, RoleAdmin:
		return true
	}
	return false
}

// Label is the role's name for the UI.
func (r Role) Label() string {
	switch r {
	case RoleResident:
		return "居民"
	case RoleCadre:
		return "社区干部"
	case RoleSubdistrict:
		return "街道工作人员"
	case RoleFinance:
		return "区财政局"
	case RoleAdmin:
		return "系统管理员"
	}
	return string(r)
}

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID string
	Name   string
	Role   Role
	// SubDistrict is the caller's sub-district: its own for subdistrict
	// staff, its community's for a cadre.
	SubDistrict string
	// Community is a cadre's community.
	Community string
}

// IsStaff reports whether p works for the government (anyone but a resident).
func (p Principal) IsStaff() bool {
	return p.Role == RoleCadre || p.Role == RoleSubdistrict || p.Role == RoleFinance || p.Role == RoleAdmin
}

// CanAccess reports whether p may see the data of a community in a
// sub-district: a cadre its community, subdistrict staff their
// sub-district, finance and admin everything. Residents see only what they
// own, which the domain checks separately.
func (p Principal) CanAccess(subDistrict, community string) bool {
	switch p.Role {
	case RoleAdmin, RoleFinance:
		return true
	case RoleSubdistrict:
		return subDistrict != "" && subDistrict == p.SubDistrict
	case RoleCadre:
		return community != "" && community == p.Community
	}
	return false
}

// RequireAccess is CanAccess as an error: EFORBIDDEN when out of scope.
func (p Principal) RequireAccess(subDistrict, community string) error {
	if p.CanAccess(subDistrict, community) {
		return nil
	}
	return minsheng.Errorf(minsheng.EFORBIDDEN, "无权访问其他社区或街道的数据")
}

// SubDistrictScope is the one rule for which sub-district a list or report
// covers when the client asks for requested ("" = not named): sub-district
// staff default to their own and a cadre to its community's, and naming
// another is EFORBIDDEN; finance and admin may name any, and "" stays the
// whole district. A code dir does not know is EINVALID (sub_district), for
// everyone; residents are EFORBIDDEN.
func (p Principal) SubDistrictScope(dir *org.Directory, requested string) (string, error) {
	if requested != "" {
		if _, err := dir.SubDistrict(requested); err != nil {
			return "", minsheng.Invalid("街道不存在", map[string]string{"sub_district": "未知街道：" + requested})
		}
	}
	switch p.Role {
	case RoleFinance, RoleAdmin:
		return requested, nil
	case RoleSubdistrict, RoleCadre:
		if requested == "" || requested == p.SubDistrict {
			return p.SubDistrict, nil
		}
	}
	return "", minsheng.Errorf(minsheng.EFORBIDDEN, "无权访问其他社区或街道的数据")
}

// RequireRole returns EFORBIDDEN unless p has one of roles.
func (p Principal) RequireRole(roles ...Role) error {
	if slices.Contains(roles, p.Role) {
		return nil
	}
	return minsheng.Errorf(minsheng.EFORBIDDEN, "当前角色（%s）无权执行此操作", p.Role.Label())
}

// MaskPhone shows a phone number as 138****1234 (PIPL: everyone but the
// resident and the staff handling the case sees it masked).
func MaskPhone(phone string) string {
	r := []rune(phone)
	if len(r) < 7 {
		if len(r) == 0 {
			return ""
		}
		return "****"
	}
	return string(r[:3]) + "****" + string(r[len(r)-4:])
}
