package cases

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"minsheng"
	"minsheng/internal/auth"
)

// GetByNumber returns the case with a number such as XC2026-000123, the
// number staff read out on the phone and type into the console (merging
// duplicates, lookups). It is for staff and cadres; residents follow their
// cases by id or, when anonymous, by number and token (TrackByToken).
// Errors: EUNAUTHORIZED, EFORBIDDEN (role, scope), ENOTFOUND.
func (s *Service) GetByNumber(ctx context.Context, p auth.Principal, number string) (*Case, error) {
	if !p.Role.Valid() {
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	if err := p.RequireRole(auth.RoleCadre, auth.RoleSubdistrict, auth.RoleFinance, auth.RoleAdmin); err != nil {
		return nil, err
	}
	number = strings.ToUpper(strings.TrimSpace(number))
	if number == "" || len(number) > 40 {
		return nil, minsheng.Errorf(minsheng.ENOTFOUND, "案件编号不存在")
	}
	var c Case
	if err := s.cases.FindOne(ctx, byNumber(number), &c); err != nil {
		if errors.Is(err, minsheng.ErrNotFound) {
			return nil, minsheng.Errorf(minsheng.ENOTFOUND, "案件 %s 不存在", number)
		}
		return nil, fmt.Errorf("cases: unable to find case %s: %w", number, err)
	}
	if !canView(p, &c) {
		return nil, minsheng.Errorf(minsheng.EFORBIDDEN, "无权查看此案件")
	}
	return s.view(ctx, p, &c)
}
