package cases

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/casedb"
	"minsheng/internal/auth"
)

// DeletePhoto removes a wrongly taken photo from a case before it is
// completed: its uploader, or staff handling the case. Deleting a photo
// that is already gone answers the case as it is (a retried delete).
// Errors: ENOTFOUND (case), EFORBIDDEN, ECONFLICT (completed or final).
func (s *Service) DeletePhoto(ctx context.Context, p auth.Principal, id, photoID string) (*Case, error) {
	if !p.Role.Valid() {
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	ph := findPhoto(c, photoID)
	if ph == nil {
		if !canView(p, c) {
			return nil, minsheng.Errorf(minsheng.EFORBIDDEN, "无权查看此案件")
		}
		return s.view(ctx, p, c)
	}
	if err := canAddPhoto(p, c, ph.Tag); err != nil {
		return nil, err
	}
	if p.Role == auth.RoleResident && ph.UploadedBy != p.UserID {
		return nil, minsheng.Errorf(minsheng.EFORBIDDEN, "只能删除自己上传的照片")
	}
	if !c.Status.Open() {
		return nil, minsheng.Errorf(minsheng.ECONFLICT, "当前状态为「%s」，照片已不能删除", c.Status.Label())
	}
	// The photo list is rewritten without it, on the condition that the
	// count is still the one read: a concurrent upload or delete makes the
	// write miss, and the loop reads again. ($pull by a field of an array
	// element is not applied by the embedded engine.)
	for attempt := 0; ; attempt++ {
		keep := make([]Photo, 0, len(c.Photos))
		for _, x := range c.Photos {
			if x.ID != photoID {
				keep = append(keep, x)
			}
		}
		ev := s.event(p, ActPhoto, "", "", "删除"+tagLabel(ph.Tag))
		matched, err := s.cases.Update(ctx, casedb.Change{ID: c.ID,
			If: bson.D{{Key: "photo_count", Value: c.PhotoCount},
				{Key: "status", Value: bson.D{{Key: "$in", Value: openStatuses}}}},
			Update: bson.D{
				{Key: "$set", Value: bson.D{{Key: "photos", Value: keep}, {Key: "photo_count", Value: len(keep)}}},
				{Key: "$push", Value: bson.D{{Key: "timeline", Value: ev}}},
			}})
		if err != nil {
			return nil, fmt.Errorf("cases: unable to delete photo of %s: %w", c.ID, err)
		}
		if matched {
			s.dropBlobs(ctx, *ph)
			break
		}
		if attempt == 4 {
			return nil, minsheng.Errorf(minsheng.ECONFLICT, "照片正在变更，请稍后重试")
		}
		if c, err = s.load(ctx, id); err != nil {
			return nil, err
		}
		if ph = findPhoto(c, photoID); ph == nil || !c.Status.Open() {
			break // deleted meanwhile, or the case moved on: answer as it is
		}
	}
	out, err := s.load(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, p, out)
}

func findPhoto(c *Case, id string) *Photo {
	for i := range c.Photos {
		if c.Photos[i].ID == id {
			p := c.Photos[i]
			return &p
		}
	}
	return nil
}
