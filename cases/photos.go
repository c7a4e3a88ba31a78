package cases

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/casedb"
	"minsheng/internal/auth"
	"minsheng/internal/media"
)

// AddPhoto attaches a photo to an open case. The filer may add before-
// photos; cadres of the community, staff of the sub-district and admins any
// tag. The upload goes through media.Process (type by content, size and
// pixel limits, EXIF dropped); the display copy and a thumbnail are stored
// under cases/<id>/. A GPS position in the original fills the case's
// location when it has none. At most MaxPhotos per case.
//
// Errors: EINVALID (tag, corrupt photo), EUNSUPPORTED (not JPEG/PNG/WebP),
// ETOOLARGE, ECONFLICT (photo limit reached, case no longer open),
// EFORBIDDEN.
func (s *Service) AddPhoto(ctx context.Context, p auth.Principal, id string, tag PhotoTag, r io.Reader) (*Case, error) {
	if !p.Role.Valid() {
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := canAddPhoto(p, c, tag); err != nil {
		return nil, err
	}
	return s.attachPhoto(ctx, p, c, tag, r)
}

// attachPhoto stores and attaches a photo to c once the caller's right to
// add it was checked (AddPhoto, or a tracking token's holder).
func (s *Service) attachPhoto(ctx context.Context, p auth.Principal, c *Case, tag PhotoTag, r io.Reader) (*Case, error) {
	return s.attachPhotoAs(ctx, p, c, tag, r, uuid.NewString())
}

// attachPhotoAs is attachPhoto with the photo's id chosen by the caller
// (a direct upload's id, so a takeover can tell it was attached already).
func (s *Service) attachPhotoAs(ctx context.Context, p auth.Principal, c *Case, tag PhotoTag, r io.Reader, pid string) (*Case, error) {
	if !tag.Valid() {
		return nil, minsheng.Invalid("请检查填写的内容", map[string]string{"tag": "须为 before、progress 或 after"})
	}
	if !c.Status.Open() {
		return nil, minsheng.Errorf(minsheng.ECONFLICT, "当前状态为「%s」，不能再上传照片", c.Status.Label())
	}
	if c.PhotoCount >= MaxPhotos {
		return nil, errTooManyPhotos()
	}
	if s.photos == nil {
		return nil, minsheng.Errorf(minsheng.EINTERNAL, "照片存储未配置")
	}

	// Decoding takes memory in proportion to pixels; bound how many run.
	photo, err := s.gate.Process(ctx, r, s.cfg.PhotoLimits)
	if err != nil {
		return nil, err
	}

	ph := Photo{
		ID:             pid,
		Tag:            tag,
		Key:            "cases/" + c.ID + "/" + pid + ".jpg",
		ThumbKey:       "cases/" + c.ID + "/" + pid + "_thumb.jpg",
		Width:          photo.Width,
		Height:         photo.Height,
		SHA256:         photo.SHA256,
		UploadedBy:     p.UserID,
		UploadedByRole: p.Role,
		UploadedAt:     s.now(),
	}
	if err := s.photos.Save(ctx, ph.Key, bytes.NewReader(photo.Display), int64(len(photo.Display)), media.TypeJPEG); err != nil {
		return nil, fmt.Errorf("cases: unable to store photo: %w", err)
	}
	if err := s.photos.Save(ctx, ph.ThumbKey, bytes.NewReader(photo.Thumb), int64(len(photo.Thumb)), media.TypeJPEG); err != nil {
		s.dropBlobs(ctx, ph)
		return nil, fmt.Errorf("cases: unable to store thumbnail: %w", err)
	}

	// The count condition makes the limit hold against concurrent uploads.
	matched, err := s.cases.Update(ctx, casedb.Change{ID: c.ID,
		If: bson.D{
			{Key: "photo_count", Value: bson.D{{Key: "$lt", Value: MaxPhotos}}},
			{Key: "status", Value: bson.D{{Key: "$in", Value: openStatuses}}},
		},
		Update: bson.D{
			{Key: "$push", Value: bson.D{
				{Key: "photos", Value: ph},
				{Key: "timeline", Value: s.event(p, ActPhoto, "", "", tagLabel(tag))},
			}},
			{Key: "$inc", Value: bson.D{{Key: "photo_count", Value: 1}}},
		}})
	if err != nil || !matched {
		s.dropBlobs(ctx, ph)
		if err != nil {
			return nil, fmt.Errorf("cases: unable to attach photo to %s: %w", c.ID, err)
		}
		return nil, errTooManyPhotos()
	}
	if photo.GPS != nil && c.Location.Lat == nil {
		// Only when still empty: a position someone typed wins over a camera's.
		if _, err := s.cases.Update(ctx, casedb.Change{ID: c.ID,
			If: bson.D{{Key: "location.lat", Value: bson.D{{Key: "$exists", Value: false}}}},
			Update: bson.D{{Key: "$set", Value: bson.D{
				{Key: "location.lat", Value: photo.GPS.Lat},
				{Key: "location.lng", Value: photo.GPS.Lng},
				{Key: "location.datum", Value: DatumWGS84}, // EXIF GPS is WGS-84
			}}}}); err != nil {
			s.cfg.Logger.Warn("cases: unable to fill location from photo", "case", c.ID, "err", err)
		}
	}
	out, err := s.load(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, p, out)
}

// canAddPhoto: the filer adds before-photos, staff handling the case any.
func canAddPhoto(p auth.Principal, c *Case, tag PhotoTag) error {
	switch p.Role {
	case auth.RoleResident:
		if p.UserID == "" || (p.UserID != c.FilerID && p.UserID != c.FiledBy) {
			return minsheng.Errorf(minsheng.EFORBIDDEN, "只有提交人可以为本案件上传照片")
		}
		if tag != TagBefore {
			return minsheng.Errorf(minsheng.EFORBIDDEN, "居民只能上传办理前照片")
		}
		return nil
	case auth.RoleCadre, auth.RoleSubdistrict, auth.RoleAdmin:
		return p.RequireAccess(c.Location.SubDistrict, c.Location.Community)
	}
	return p.RequireRole(auth.RoleResident, auth.RoleCadre, auth.RoleSubdistrict, auth.RoleAdmin)
}

func errTooManyPhotos() error {
	return minsheng.Errorf(minsheng.ECONFLICT, "每个案件最多%d张照片", MaxPhotos)
}

func tagLabel(t PhotoTag) string {
	switch t {
	case TagBefore:
		return "办理前照片"
	case TagProgress:
		return "办理中照片"
	case TagAfter:
		return "办结后照片"
	}
	return string(t)
}

// dropBlobs removes the blobs of a photo that did not make it into the case.
func (s *Service) dropBlobs(ctx context.Context, ph Photo) {
	for _, k := range []string{ph.Key, ph.ThumbKey} {
		if err := s.photos.Delete(ctx, k); err != nil {
			s.cfg.Logger.Warn("cases: unable to delete orphan photo", "key", k, "err", err)
		}
	}
}
