package cases

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/internal/auth"
	"minsheng/internal/media"
	"minsheng/internal/store"
)

// Direct photo uploads (直传). With S3, the app asks for an upload
// (StartPhotoUpload), PUTs the bytes straight to the bucket through the
// signed URL, then confirms (CompletePhotoUpload): the server reads the
// object back, puts it through the same pipeline as an upload through the
// server (type by content, size and pixel limits, EXIF dropped, the
// display copy scaled down) and only then attaches it to the case.
//
// "Once" is a claim: the confirm that inserts {_id: upload id} into
// photo_upload_claims does the work; copies arriving meanwhile wait for
// the upload to be done and answer the case as it is then. A confirm that
// fails (no object yet, a bad image) drops its claim so a later one may
// try again. The photo gets the upload's id, so a claim taken over after
// its holder died sees the photo already there instead of adding another.
// The uploaded original (with its EXIF) is deleted once used, and uploads
// never confirmed are expired by SweepPhotoUploads.

const (
	uploadsCollection      = "photo_uploads"
	uploadClaimsCollection = "photo_upload_claims"
)

// UploadIndexes are the indexes of direct uploads; the sweep reads pending
// ones by state (pushed-down string equality).
var UploadIndexes = []store.Index{
	{Collection: uploadsCollection, Name: "state", Keys: keys("state")},
}

// Direct upload timing.
const (
	// UploadURLTTL is how long the signed PUT URL lives.
	UploadURLTTL = 15 * time.Minute
	// UploadConfirmWindow is how long after asking the app may confirm: a
	// phone may lose signal between its PUT and its confirm for hours.
	UploadConfirmWindow = 24 * time.Hour
	// uploadClaimStale is when a confirm's claim counts as left by a
	// process that died: a confirm takes a few seconds at most.
	uploadClaimStale = 2 * time.Minute
	// uploadWait bounds how long a copy waits for the confirm that holds
	// the claim.
	uploadWait = 20 * time.Second
)

// Upload states.
const (
	UploadPending = "pending"
	UploadDone    = "done"
	UploadExpired = "expired"
)

// PhotoUpload is one direct upload the app asked for.
type PhotoUpload struct {
	ID          string    `bson:"_id" json:"upload_id"`
	CaseID      string    `bson:"case_id" json:"case_id"`
	UserID      string    `bson:"user_id" json:"-"`
	Tag         PhotoTag  `bson:"tag" json:"tag"`
	Key         string    `bson:"key" json:"-"`
	ContentType string    `bson:"content_type" json:"content_type"`
	MaxBytes    int64     `bson:"max_bytes" json:"max_bytes"`
	State       string    `bson:"state" json:"state"`
	PhotoID     string    `bson:"photo_id,omitempty" json:"photo_id,omitempty"`
	CreatedAt   time.Time `bson:"created_at" json:"created_at"`
	ConfirmBy   time.Time `bson:"confirm_by" json:"confirm_by"`

	// The signed PUT, filled by StartPhotoUpload only.
	URL          string            `bson:"-" json:"url,omitempty"`
	Method       string            `bson:"-" json:"method,omitempty"`
	Headers      map[string]string `bson:"-" json:"headers,omitempty"`
	URLExpiresAt time.Time         `bson:"-" json:"url_expires_at,omitzero"`
}

type uploadClaim struct {
	ID string    `bson:"_id"`
	At time.Time `bson:"at"`
}

var uploadExt = map[string]string{media.TypeJPEG: ".jpg", media.TypePNG: ".png", media.TypeWebP: ".webp"}

// StartPhotoUpload prepares a direct upload of one photo with tag to case
// id: a new object key and a PUT URL signed for it and contentType. Who
// may add the photo is checked now and again on confirming.
// Errors: ECONFLICT when the photo store is not S3 (the message tells the
// app to upload through the server), the case is no longer open or holds
// MaxPhotos; EUNSUPPORTED (type), EINVALID (tag), EFORBIDDEN, ENOTFOUND.
func (s *Service) StartPhotoUpload(ctx context.Context, p auth.Principal, id string, tag PhotoTag, contentType string) (*PhotoUpload, error) {
	if !p.Role.Valid() {
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !tag.Valid() {
		return nil, minsheng.Invalid("请检查填写的内容", map[string]string{"tag": "须为 before、progress 或 after"})
	}
	if err := canAddPhoto(p, c, tag); err != nil {
		return nil, err
	}
	pr, ok := s.photos.(media.Presigner)
	if !ok {
		return nil, &minsheng.Error{Code: minsheng.ECONFLICT, Message: "照片存储不支持直传，请直接上传到服务器（PUT /mobile/v1/cases/{id}/photos/{photo_uuid}）",
			Fields: map[string]string{"upload": "use_raw_upload"}}
	}
	ext, ok := uploadExt[contentType]
	if !ok {
		return nil, minsheng.Errorf(minsheng.EUNSUPPORTED, "照片须为 JPEG、PNG 或 WebP（content_type: image/jpeg）")
	}
	if !c.Status.Open() {
		return nil, minsheng.Errorf(minsheng.ECONFLICT, "当前状态为「%s」，不能再上传照片", c.Status.Label())
	}
	if c.PhotoCount >= MaxPhotos {
		return nil, errTooManyPhotos()
	}
	now := s.now()
	max := s.cfg.PhotoLimits.MaxBytes
	if max <= 0 {
		max = media.DefaultMaxBytes
	}
	up := &PhotoUpload{ID: uuid.NewString(), CaseID: c.ID, UserID: p.UserID, Tag: tag, ContentType: contentType,
		MaxBytes: max, State: UploadPending, CreatedAt: now, ConfirmBy: now.Add(UploadConfirmWindow)}
	up.Key = "uploads/" + c.ID + "/" + up.ID + ext
	u, h, err := pr.PresignPut(ctx, up.Key, contentType, UploadURLTTL)
	if err != nil {
		return nil, err
	}
	if err := s.st.Collection(uploadsCollection).InsertOne(ctx, up); err != nil {
		return nil, fmt.Errorf("cases: unable to store upload of %s: %w", c.ID, err)
	}
	up.URL, up.Method, up.Headers, up.URLExpiresAt = u, "PUT", h, now.Add(UploadURLTTL)
	return up, nil
}

// CompletePhotoUpload attaches the photo p uploaded directly under
// uploadID to case id, once however many confirms arrive (also at the
// same moment, under different Idempotency-Keys); a confirm of an upload
// already attached answers the case.
// Errors: ENOTFOUND (no such upload of p's for this case), ECONFLICT (not
// uploaded yet, expired, case closed or full, another confirm still
// busy), ETOOLARGE / EUNSUPPORTED / EINVALID (the object is too big, not
// an image or corrupt: it is deleted, and the app may upload again while
// the URL lives), EFORBIDDEN.
func (s *Service) CompletePhotoUpload(ctx context.Context, p auth.Principal, id, uploadID string) (*Case, error) {
	if !p.Role.Valid() {
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	up, err := s.findUpload(ctx, uploadID)
	if err != nil {
		return nil, err
	}
	if up.UserID != p.UserID || up.CaseID != id {
		return nil, errNoUpload()
	}
	claims := s.st.Collection(uploadClaimsCollection)
	wait := time.NewTimer(uploadWait)
	defer wait.Stop()
	for {
		switch {
		case up.State == UploadDone:
			return s.caseView(ctx, p, id)
		case up.State == UploadExpired || s.now().After(up.ConfirmBy):
			return nil, minsheng.Errorf(minsheng.ECONFLICT, "照片上传已过期，请重新上传")
		}
		err := claims.InsertOne(ctx, uploadClaim{ID: up.ID, At: s.now()})
		if err == nil {
			out, err := s.finishUpload(ctx, p, up)
			if err != nil {
				// Let a later confirm try again (after the PUT, say).
				if _, derr := claims.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: up.ID}}); derr != nil {
					s.cfg.Logger.Warn("cases: unable to release upload claim", "upload", up.ID, "err", derr)
				}
				return nil, err
			}
			return out, nil
		}
		if !errors.Is(err, minsheng.ErrDuplicate) {
			return nil, fmt.Errorf("cases: unable to claim upload %s: %w", up.ID, err)
		}
		// Another confirm holds it: wait for it, or take over a claim whose
		// holder died.
		var cl uploadClaim
		if err := claims.FindOne(ctx, bson.D{{Key: "_id", Value: up.ID}}, &cl); err == nil && s.now().Sub(cl.At) > uploadClaimStale {
			if _, err := claims.DeleteOne(ctx, bson.D{{Key: "_id", Value: up.ID}, {Key: "at", Value: cl.At}}); err != nil {
				return nil, fmt.Errorf("cases: unable to take over upload claim %s: %w", up.ID, err)
			}
		} else if err != nil && !errors.Is(err, minsheng.ErrNotFound) {
			return nil, fmt.Errorf("cases: unable to read upload claim %s: %w", up.ID, err)
		} else {
			select {
			case <-ctx.Done():
				return nil, minsheng.Errorf(minsheng.ECONFLICT, "照片正在处理，请稍后重试")
			case <-wait.C:
				return nil, minsheng.Errorf(minsheng.ECONFLICT, "照片正在处理，请稍后重试")
			case <-time.After(50 * time.Millisecond):
			}
		}
		if up, err = s.findUpload(ctx, uploadID); err != nil {
			return nil, err
		}
	}
}

// finishUpload does the work of the confirm holding the claim.
func (s *Service) finishUpload(ctx context.Context, p auth.Principal, up *PhotoUpload) (*Case, error) {
	c, err := s.load(ctx, up.CaseID)
	if err != nil {
		return nil, err
	}
	if err := canAddPhoto(p, c, up.Tag); err != nil {
		return nil, err
	}
	if findPhoto(c, up.ID) == nil {
		info, err := s.photos.Stat(ctx, up.Key)
		if errors.Is(err, minsheng.ErrNotFound) {
			return nil, minsheng.Errorf(minsheng.ECONFLICT, "尚未收到照片：请先按申请到的地址上传（PUT），再确认")
		} else if err != nil {
			return nil, fmt.Errorf("cases: unable to check upload %s: %w", up.ID, err)
		}
		if info.Size > up.MaxBytes {
			s.dropUpload(ctx, up)
			return nil, minsheng.Errorf(minsheng.ETOOLARGE, "照片不能超过 %d MB", up.MaxBytes>>20)
		}
		r, _, err := s.photos.Open(ctx, up.Key)
		if err != nil {
			return nil, fmt.Errorf("cases: unable to read upload %s: %w", up.ID, err)
		}
		_, err = s.attachPhotoAs(ctx, p, c, up.Tag, r, up.ID)
		r.Close()
		if err != nil {
			switch minsheng.ErrorCode(err) {
			case minsheng.EINVALID, minsheng.EUNSUPPORTED, minsheng.ETOOLARGE:
				s.dropUpload(ctx, up) // not a usable photo: never keep it
			}
			return nil, err
		}
	}
	if _, err := s.st.Collection(uploadsCollection).UpdateOne(ctx, bson.D{{Key: "_id", Value: up.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: UploadDone}, {Key: "photo_id", Value: up.ID}}}}); err != nil {
		return nil, fmt.Errorf("cases: unable to finish upload %s: %w", up.ID, err)
	}
	s.dropUpload(ctx, up) // the original still has its EXIF
	return s.caseView(ctx, p, up.CaseID)
}

// SweepPhotoUploads expires the direct uploads not confirmed within
// UploadConfirmWindow: it claims each (so no confirm can attach it after)
// and deletes its object. It returns how many it expired.
func (s *Service) SweepPhotoUploads(ctx context.Context) (int, error) {
	now := s.now()
	var pending []PhotoUpload
	if err := s.st.Collection(uploadsCollection).FindAll(ctx, bson.D{{Key: "state", Value: UploadPending}}, &pending); err != nil {
		return 0, fmt.Errorf("cases: unable to list uploads: %w", err)
	}
	n := 0
	for i := range pending {
		up := &pending[i]
		if !now.After(up.ConfirmBy) {
			continue
		}
		if err := s.st.Collection(uploadClaimsCollection).InsertOne(ctx, uploadClaim{ID: up.ID, At: now}); errors.Is(err, minsheng.ErrDuplicate) {
			continue // a confirm is at it, or a crashed one: next sweep
		} else if err != nil {
			return n, fmt.Errorf("cases: unable to claim upload %s: %w", up.ID, err)
		}
		s.dropUpload(ctx, up)
		if _, err := s.st.Collection(uploadsCollection).UpdateOne(ctx, bson.D{{Key: "_id", Value: up.ID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: UploadExpired}}}}); err != nil {
			return n, fmt.Errorf("cases: unable to expire upload %s: %w", up.ID, err)
		}
		n++
	}
	return n, nil
}

func (s *Service) findUpload(ctx context.Context, id string) (*PhotoUpload, error) {
	var up PhotoUpload
	if err := s.st.Collection(uploadsCollection).FindOne(ctx, bson.D{{Key: "_id", Value: id}}, &up); err != nil {
		if errors.Is(err, minsheng.ErrNotFound) {
			return nil, errNoUpload()
		}
		return nil, fmt.Errorf("cases: unable to read upload %s: %w", id, err)
	}
	return &up, nil
}

func errNoUpload() error { return minsheng.Errorf(minsheng.ENOTFOUND, "照片上传不存在") }

func (s *Service) dropUpload(ctx context.Context, up *PhotoUpload) {
	if err := s.photos.Delete(context.WithoutCancel(ctx), up.Key); err != nil {
		s.cfg.Logger.Warn("cases: unable to delete uploaded original", "key", up.Key, "err", err)
	}
}

func (s *Service) caseView(ctx context.Context, p auth.Principal, id string) (*Case, error) {
	c, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, p, c)
}
