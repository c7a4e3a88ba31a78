package cases

import (
	"context"

	"minsheng"
	"minsheng/internal/auth"
)

// exportPage is how many cases an export reads per _id $in batch.
const exportPage = 500

// Export streams every case p may list that matches f — all of them, in
// f's order (caselist.Source.Stream) — to fn, each as p sees it (redacted, labelled; photo links are not
// signed: a spreadsheet holds no photos). The scope is the list's
// (caselist.Filter.Scope), so an export never holds a case the list would
// not show. Staff only: a resident's own cases are not a spreadsheet.
// Cursor and Limit are ignored. The checks run now, so a caller learns of
// a bad filter before it starts writing; the returned stream reads the
// cases. Errors: those of Find; EFORBIDDEN for a resident.
func (s *Service) Export(p auth.Principal, f Filter) (func(ctx context.Context, fn func(*Case) error) error, error) {
	if !p.Role.Valid() {
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	if !p.IsStaff() {
		return nil, minsheng.Errorf(minsheng.EFORBIDDEN, "导出仅供工作人员使用")
	}
	f.Cursor, f.Limit = "", 0
	if err := f.Check(AreaName); err != nil {
		return nil, err
	}
	scoped, err := f.Scope(p, s.dir)
	if err != nil {
		return nil, err
	}
	if scoped != nil {
		// Only a resident's scope is a query of its own; staff scopes
		// narrow f itself. Refused above; kept so a new scope cannot leak.
		return nil, minsheng.Errorf(minsheng.EFORBIDDEN, "导出仅供工作人员使用")
	}
	return func(ctx context.Context, fn func(*Case) error) error {
		return s.stream(ctx, p, f, fn)
	}, nil
}

func (s *Service) stream(ctx context.Context, p auth.Principal, f Filter, fn func(*Case) error) error {
	now := s.now()
	return s.list().Stream(ctx, f, now, exportPage, func(page []*Case) error {
		for _, c := range page {
			v := c.Redact(p)
			v.setLabels(p, c, now)
			if err := fn(v); err != nil {
				return err
			}
		}
		return nil
	})
}
