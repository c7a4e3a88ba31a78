package casephotos

import (
	"context"
	"fmt"

	"minsheng"
	"minsheng/internal/auth"
)

// Delete removes a wrongly taken photo from a case before it is completed:
// its uploader, or staff handling the case. Deleting a photo that is
// already gone answers the case as it is (a retried delete).
// Errors: ENOTFOUND (case), EFORBIDDEN, ECONFLICT (completed or final).
func (s *Service[C]) Delete(ctx context.Context, p auth.Principal, id, photoID string) (C, error) {
	var none C
	if !p.Role.Valid() {
		return none, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	c, err := s.cases.Load(ctx, id)
	if err != nil {
		return none, err
	}
	st := s.cases.Of(c)
	ph := find(st, photoID)
	if ph == nil {
		if !s.cases.MayView(p, c) {
			return none, minsheng.Errorf(minsheng.EFORBIDDEN, "无权查看此案件")
		}
		return s.cases.View(ctx, p, c)
	}
	if err := s.cases.MayAdd(p, c, ph.Tag); err != nil {
		return none, err
	}
	if p.Role == auth.RoleResident && ph.UploadedBy != p.UserID {
		return none, minsheng.Errorf(minsheng.EFORBIDDEN, "只能删除自己上传的照片")
	}
	if !st.Open {
		return none, minsheng.Errorf(minsheng.ECONFLICT, "当前状态为「%s」，照片已不能删除", st.StatusLabel)
	}
	// The photo list is rewritten without it, on the condition that the
	// count is still the one read: a concurrent upload or delete makes the
	// write miss, and the loop reads again. ($pull by a field of an array
	// element is not applied by the embedded engine.)
	for attempt := 0; ; attempt++ {
		keep := make([]Photo, 0, len(st.Photos))
		for _, x := range st.Photos {
			if x.ID != photoID {
				keep = append(keep, x)
			}
		}
		matched, err := s.cases.Rewrite(ctx, p, st.ID, st.Count, keep, "删除"+ph.Tag.Label())
		if err != nil {
			return none, fmt.Errorf("cases: unable to delete photo of %s: %w", st.ID, err)
		}
		if matched {
			s.dropBlobs(ctx, *ph)
			break
		}
		if attempt == 4 {
			return none, minsheng.Errorf(minsheng.ECONFLICT, "照片正在变更，请稍后重试")
		}
		if c, err = s.cases.Load(ctx, id); err != nil {
			return none, err
		}
		st = s.cases.Of(c)
		if ph = find(st, photoID); ph == nil || !st.Open {
			break // deleted meanwhile, or the case moved on: answer as it is
		}
	}
	return s.view(ctx, p, st.ID)
}
