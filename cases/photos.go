package cases

import (
	"context"
	"io"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/casedb"
	"minsheng/cases/casephotos"
	"minsheng/cases/uploads"
	"minsheng/internal/auth"
	"minsheng/internal/media"
)

// The photos of cases are package casephotos' room: the pipeline, the
// limit, deletes and direct uploads (直传). Casework decides here who may
// add a photo (canAddPhoto) and how a case is read, shown and written
// (photoCases); the Service's photo methods are casephotos' own.

// UploadIndexes are the indexes of direct uploads.
var UploadIndexes = uploads.Indexes

// Direct upload timing.
const (
	// UploadURLTTL is how long the signed PUT URL lives.
	UploadURLTTL = uploads.URLTTL
	// UploadConfirmWindow is how long after asking the app may confirm.
	UploadConfirmWindow = uploads.ConfirmWindow
)

// Upload states.
const (
	UploadPending = uploads.Pending
	UploadDone    = uploads.Done
	UploadExpired = uploads.Expired
)

// PhotoUpload is one direct upload the app asked for.
type PhotoUpload = uploads.Upload

// AddPhoto attaches a photo to an open case (casephotos.Service.Add).
func (s *Service) AddPhoto(ctx context.Context, p auth.Principal, id string, tag PhotoTag, r io.Reader) (*Case, error) {
	return s.photoRoom.Add(ctx, p, id, tag, r)
}

// DeletePhoto removes a wrongly taken photo (casephotos.Service.Delete).
func (s *Service) DeletePhoto(ctx context.Context, p auth.Principal, id, photoID string) (*Case, error) {
	return s.photoRoom.Delete(ctx, p, id, photoID)
}

// StartPhotoUpload prepares a direct upload (casephotos.Service.StartUpload).
func (s *Service) StartPhotoUpload(ctx context.Context, p auth.Principal, id string, tag PhotoTag, contentType string) (*PhotoUpload, error) {
	return s.photoRoom.StartUpload(ctx, p, id, tag, contentType)
}

// CompletePhotoUpload attaches a direct upload once (casephotos.Service.CompleteUpload).
func (s *Service) CompletePhotoUpload(ctx context.Context, p auth.Principal, id, uploadID string) (*Case, error) {
	return s.photoRoom.CompleteUpload(ctx, p, id, uploadID)
}

// SweepPhotoUploads expires unconfirmed direct uploads and returns how many
// (casephotos.Service.SweepUploads).
func (s *Service) SweepPhotoUploads(ctx context.Context) (int, error) {
	return s.photoRoom.SweepUploads(ctx)
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

// photoCases is casework as casephotos needs it.
type photoCases struct{ s *Service }

var _ casephotos.Cases[*Case] = photoCases{}

func (pc photoCases) Load(ctx context.Context, id string) (*Case, error) { return pc.s.load(ctx, id) }

func (pc photoCases) Of(c *Case) casephotos.State {
	return casephotos.State{ID: c.ID, Open: c.Status.Open(), StatusLabel: c.Status.Label(),
		Photos: c.Photos, Count: c.PhotoCount, Placed: c.Location.Lat != nil}
}

func (photoCases) MayAdd(p auth.Principal, c *Case, tag PhotoTag) error {
	return canAddPhoto(p, c, tag)
}
func (photoCases) MayView(p auth.Principal, c *Case) bool { return canView(p, c) }

func (pc photoCases) View(ctx context.Context, p auth.Principal, c *Case) (*Case, error) {
	return pc.s.view(ctx, p, c)
}

func (pc photoCases) Push(ctx context.Context, p auth.Principal, id string, ph Photo, note string) (bool, error) {
	return pc.s.cases.Update(ctx, casedb.Change{ID: id,
		If: bson.D{
			{Key: "photo_count", Value: bson.D{{Key: "$lt", Value: MaxPhotos}}},
			{Key: "status", Value: bson.D{{Key: "$in", Value: openStatuses}}},
		},
		Update: bson.D{
			{Key: "$push", Value: bson.D{
				{Key: "photos", Value: ph},
				{Key: "timeline", Value: pc.s.event(p, ActPhoto, "", "", note)},
			}},
			{Key: "$inc", Value: bson.D{{Key: "photo_count", Value: 1}}},
		}})
}

func (pc photoCases) Rewrite(ctx context.Context, p auth.Principal, id string, count int, keep []Photo, note string) (bool, error) {
	return pc.s.cases.Update(ctx, casedb.Change{ID: id,
		If: bson.D{{Key: "photo_count", Value: count},
			{Key: "status", Value: bson.D{{Key: "$in", Value: openStatuses}}}},
		Update: bson.D{
			{Key: "$set", Value: bson.D{{Key: "photos", Value: keep}, {Key: "photo_count", Value: len(keep)}}},
			{Key: "$push", Value: bson.D{{Key: "timeline", Value: pc.s.event(p, ActPhoto, "", "", note)}}},
		}})
}

func (pc photoCases) Place(ctx context.Context, id string, gps media.GPS) error {
	_, err := pc.s.cases.Update(ctx, casedb.Change{ID: id,
		If: bson.D{{Key: "location.lat", Value: bson.D{{Key: "$exists", Value: false}}}},
		Update: bson.D{{Key: "$set", Value: bson.D{
			{Key: "location.lat", Value: gps.Lat},
			{Key: "location.lng", Value: gps.Lng},
			{Key: "location.datum", Value: DatumWGS84}, // EXIF GPS is WGS-84
		}}}})
	return err
}
