package casephotos

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"minsheng"
	"minsheng/cases/uploads"
	"minsheng/internal/auth"
	"minsheng/internal/media"
)

// Direct photo uploads (直传). With S3, the app asks for an upload
// (StartUpload), PUTs the bytes straight to the bucket through the signed
// URL, then confirms (CompleteUpload): the server reads the object back,
// puts it through the same pipeline as an upload through the server (type
// by content, size and pixel limits, EXIF dropped, the display copy scaled
// down) and only then attaches it to the case. Package uploads keeps the
// records, the claim that makes a confirm happen once, and the expiry; the
// photo gets the upload's id, so a claim taken over after its holder died
// sees the photo already there instead of adding another. The uploaded
// original (with its EXIF) is deleted once used, and uploads never
// confirmed are expired by SweepUploads.

// StartUpload prepares a direct upload of one photo with tag to case id: a
// new object key and a PUT URL signed for it and contentType. Who may add
// the photo is checked now and again on confirming.
// Errors: ECONFLICT when the photo store is not S3 (the message tells the
// app to upload through the server), the case is no longer open or holds
// Max; EUNSUPPORTED (type), EINVALID (tag), EFORBIDDEN, ENOTFOUND.
func (s *Service[C]) StartUpload(ctx context.Context, p auth.Principal, id string, tag Tag, contentType string) (*uploads.Upload, error) {
	if !p.Role.Valid() {
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	c, err := s.cases.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !tag.Valid() {
		return nil, minsheng.Invalid("请检查填写的内容", map[string]string{"tag": "须为 before、progress 或 after"})
	}
	if err := s.cases.MayAdd(p, c, tag); err != nil {
		return nil, err
	}
	pr, ok := s.blobs.(media.Presigner)
	if !ok {
		return nil, &minsheng.Error{Code: minsheng.ECONFLICT, Message: "照片存储不支持直传，请直接上传到服务器（PUT /mobile/v1/cases/{id}/photos/{photo_uuid}）",
			Fields: map[string]string{"upload": "use_raw_upload"}}
	}
	ext, ok := uploads.Ext[contentType]
	if !ok {
		return nil, minsheng.Errorf(minsheng.EUNSUPPORTED, "照片须为 JPEG、PNG 或 WebP（content_type: image/jpeg）")
	}
	st := s.cases.Of(c)
	if !st.Open {
		return nil, minsheng.Errorf(minsheng.ECONFLICT, "当前状态为「%s」，不能再上传照片", st.StatusLabel)
	}
	if st.Count >= Max {
		return nil, errTooMany()
	}
	now := s.cfg.Now()
	max := s.cfg.Limits.MaxBytes
	if max <= 0 {
		max = media.DefaultMaxBytes
	}
	up := &uploads.Upload{ID: uuid.NewString(), CaseID: st.ID, UserID: p.UserID, Tag: string(tag), ContentType: contentType,
		MaxBytes: max, State: uploads.Pending, CreatedAt: now, ConfirmBy: now.Add(uploads.ConfirmWindow)}
	up.Key = "uploads/" + st.ID + "/" + up.ID + ext
	u, h, err := pr.PresignPut(ctx, up.Key, contentType, uploads.URLTTL)
	if err != nil {
		return nil, err
	}
	if err := s.uploads.Insert(ctx, up); err != nil {
		return nil, err
	}
	up.URL, up.Method, up.Headers, up.URLExpiresAt = u, "PUT", h, now.Add(uploads.URLTTL)
	return up, nil
}

// CompleteUpload attaches the photo p uploaded directly under uploadID to
// case id, once however many confirms arrive (also at the same moment,
// under different Idempotency-Keys); a confirm of an upload already
// attached answers the case.
// Errors: ENOTFOUND (no such upload of p's for this case), ECONFLICT (not
// uploaded yet, expired, case closed or full, another confirm still
// busy), ETOOLARGE / EUNSUPPORTED / EINVALID (the object is too big, not
// an image or corrupt: it is deleted, and the app may upload again while
// the URL lives), EFORBIDDEN.
func (s *Service[C]) CompleteUpload(ctx context.Context, p auth.Principal, id, uploadID string) (C, error) {
	var none C
	if !p.Role.Valid() {
		return none, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	up, err := s.uploads.Find(ctx, uploadID)
	if err != nil {
		return none, err
	}
	if up.UserID != p.UserID || up.CaseID != id {
		return none, uploads.ErrNoUpload()
	}
	return uploads.Confirm(ctx, s.uploads, up, s.cfg.Now,
		func(up *uploads.Upload) (C, error) { return s.finishUpload(ctx, p, up) },
		func() (C, error) { return s.view(ctx, p, id) })
}

// finishUpload does the work of the confirm holding the claim.
func (s *Service[C]) finishUpload(ctx context.Context, p auth.Principal, up *uploads.Upload) (C, error) {
	var none C
	c, err := s.cases.Load(ctx, up.CaseID)
	if err != nil {
		return none, err
	}
	if err := s.cases.MayAdd(p, c, Tag(up.Tag)); err != nil {
		return none, err
	}
	if find(s.cases.Of(c), up.ID) == nil {
		info, err := s.blobs.Stat(ctx, up.Key)
		if errors.Is(err, minsheng.ErrNotFound) {
			return none, minsheng.Errorf(minsheng.ECONFLICT, "尚未收到照片：请先按申请到的地址上传（PUT），再确认")
		} else if err != nil {
			return none, fmt.Errorf("cases: unable to check upload %s: %w", up.ID, err)
		}
		if info.Size > up.MaxBytes {
			s.uploads.Drop(ctx, up)
			return none, minsheng.Errorf(minsheng.ETOOLARGE, "照片不能超过 %d MB", up.MaxBytes>>20)
		}
		r, _, err := s.blobs.Open(ctx, up.Key)
		if err != nil {
			return none, fmt.Errorf("cases: unable to read upload %s: %w", up.ID, err)
		}
		_, err = s.attachAs(ctx, p, c, Tag(up.Tag), r, up.ID)
		r.Close()
		if err != nil {
			switch minsheng.ErrorCode(err) {
			case minsheng.EINVALID, minsheng.EUNSUPPORTED, minsheng.ETOOLARGE:
				s.uploads.Drop(ctx, up) // not a usable photo: never keep it
			}
			return none, err
		}
	}
	if err := s.uploads.MarkDone(ctx, up); err != nil {
		return none, err
	}
	return s.view(ctx, p, up.CaseID)
}

// SweepUploads expires the direct uploads not confirmed within
// uploads.ConfirmWindow: it claims each (so no confirm can attach it
// after) and deletes its object. It returns how many it expired.
func (s *Service[C]) SweepUploads(ctx context.Context) (int, error) {
	return s.uploads.Sweep(ctx, s.cfg.Now())
}
