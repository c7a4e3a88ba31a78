// Package casephotos attaches photos to cases and takes them off: the
// photo and its tags, the pipeline an upload goes through (type by content,
// size and pixel limits, EXIF dropped, a display copy and a thumbnail
// stored under cases/<id>/), the limit of Max photos per case, the delete
// of a wrongly taken one and the direct uploads (直传) confirmed through
// package uploads. Whose case it is, who may add or see a photo, how a case
// is read, shown and written and what its timeline says are casework's
// (package cases), reached through the Cases interface declared here.
//
// Errors: EUNAUTHORIZED without an account; ENOTFOUND (case, upload);
// EFORBIDDEN; EINVALID (tag, corrupt photo); EUNSUPPORTED (not JPEG, PNG or
// WebP); ETOOLARGE; ECONFLICT (limit reached, case no longer open, photo
// store without direct uploads, upload not there yet or expired, another
// confirm busy); the stores' errors, wrapped with the action that failed.
package casephotos

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"minsheng"
	"minsheng/cases/uploads"
	"minsheng/internal/auth"
	"minsheng/internal/media"
)

// Max is how many photos a case may hold.
const Max = 9

// Tag says at which stage a photo was taken.
type Tag string

// Photo tags.
const (
	Before   Tag = "before"   // 办理前
	Progress Tag = "progress" // 办理中
	After    Tag = "after"    // 办结后
)

// Valid reports whether t is a known tag.
func (t Tag) Valid() bool { return t == Before || t == Progress || t == After }

// Label is t as a case's timeline names it.
func (t Tag) Label() string {
	switch t {
	case Before:
		return "办理前照片"
	case Progress:
		return "办理中照片"
	case After:
		return "办结后照片"
	}
	return string(t)
}

// Photo is one stored photo of a case. Only re-encoded copies without EXIF
// are stored; URL and ThumbURL are filled, short-lived, for callers allowed
// to see the case.
type Photo struct {
	ID             string    `bson:"id" json:"id"`
	Tag            Tag       `bson:"tag" json:"tag"`
	Key            string    `bson:"key" json:"-"`
	ThumbKey       string    `bson:"thumb_key" json:"-"`
	Width          int       `bson:"width" json:"width"`
	Height         int       `bson:"height" json:"height"`
	SHA256         string    `bson:"sha256" json:"-"`
	UploadedBy     string    `bson:"uploaded_by" json:"uploaded_by,omitempty"`
	UploadedByRole auth.Role `bson:"uploaded_by_role" json:"uploaded_by_role"`
	UploadedAt     time.Time `bson:"uploaded_at" json:"uploaded_at"`
	URL            string    `bson:"-" json:"url,omitempty"`
	ThumbURL       string    `bson:"-" json:"thumb_url,omitempty"`
}

// State is what the photo rules read of a case.
type State struct {
	ID string
	// Open is whether the case still takes photos; StatusLabel names its
	// state for the message when it does not.
	Open        bool
	StatusLabel string
	Photos      []Photo
	// Count is the stored photo count the conditional writes compare.
	Count int
	// Placed is whether the case has a position already.
	Placed bool
}

// Cases is what photos need of casework; package cases implements it for
// its case type C. Load gives ENOTFOUND for an unknown case; MayAdd
// EUNAUTHORIZED or EFORBIDDEN.
type Cases[C any] interface {
	Load(ctx context.Context, id string) (C, error)
	Of(c C) State
	// MayAdd decides whether p may add (or delete) a photo tagged tag.
	MayAdd(p auth.Principal, c C, tag Tag) error
	// MayView reports whether p may read c.
	MayView(p auth.Principal, c C) bool
	// View is c as p may see it, with its photos' URLs signed.
	View(ctx context.Context, p auth.Principal, c C) (C, error)
	// Push adds ph to case id with a timeline note by p if the case is
	// still open and holds fewer than Max photos; false when it is not.
	Push(ctx context.Context, p auth.Principal, id string, ph Photo, note string) (bool, error)
	// Rewrite sets case id's photos to keep with a timeline note by p if
	// the case is still open and holds count photos; false when not.
	Rewrite(ctx context.Context, p auth.Principal, id string, count int, keep []Photo, note string) (bool, error)
	// Place sets case id's position to gps if it has none yet.
	Place(ctx context.Context, id string, gps media.GPS) error
}

// Config tunes the service.
type Config struct {
	// Limits bound uploads; URLTTL is how long a photo link lives.
	Limits media.Limits
	URLTTL time.Duration
	// Now is the casework clock.
	Now    func() time.Time
	Logger *slog.Logger
}

// Service attaches and removes the photos of cases of type C.
type Service[C any] struct {
	cases   Cases[C]
	blobs   media.Storage
	uploads *uploads.Store
	cfg     Config
	// gate bounds concurrent photo decoding: each may take up to media's
	// decode budget and every core.
	gate *media.Gate
}

// New returns the service; blobs keeps the photos (nil: none stored),
// ups the direct uploads.
func New[C any](cases Cases[C], blobs media.Storage, ups *uploads.Store, cfg Config) *Service[C] {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service[C]{cases: cases, blobs: blobs, uploads: ups, cfg: cfg, gate: media.NewGate(2)}
}

// Add attaches a photo to an open case. The filer may add before-photos;
// cadres of the community, staff of the sub-district and admins any tag
// (Cases.MayAdd). A GPS position in the original fills the case's location
// when it has none. At most Max per case.
//
// Errors: EINVALID (tag, corrupt photo), EUNSUPPORTED (not JPEG/PNG/WebP),
// ETOOLARGE, ECONFLICT (photo limit reached, case no longer open),
// EFORBIDDEN.
func (s *Service[C]) Add(ctx context.Context, p auth.Principal, id string, tag Tag, r io.Reader) (C, error) {
	var none C
	if !p.Role.Valid() {
		return none, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	c, err := s.cases.Load(ctx, id)
	if err != nil {
		return none, err
	}
	if err := s.cases.MayAdd(p, c, tag); err != nil {
		return none, err
	}
	return s.Attach(ctx, p, c, tag, r)
}

// Attach stores and attaches a photo to c once the caller's right to add
// it was checked (Add, or a tracking token's holder).
func (s *Service[C]) Attach(ctx context.Context, p auth.Principal, c C, tag Tag, r io.Reader) (C, error) {
	return s.attachAs(ctx, p, c, tag, r, uuid.NewString())
}

// attachAs is Attach with the photo's id chosen by the caller (a direct
// upload's id, so a takeover can tell it was attached already).
func (s *Service[C]) attachAs(ctx context.Context, p auth.Principal, c C, tag Tag, r io.Reader, pid string) (C, error) {
	var none C
	st := s.cases.Of(c)
	if !tag.Valid() {
		return none, minsheng.Invalid("请检查填写的内容", map[string]string{"tag": "须为 before、progress 或 after"})
	}
	if !st.Open {
		return none, minsheng.Errorf(minsheng.ECONFLICT, "当前状态为「%s」，不能再上传照片", st.StatusLabel)
	}
	if st.Count >= Max {
		return none, errTooMany()
	}
	if s.blobs == nil {
		return none, minsheng.Errorf(minsheng.EINTERNAL, "照片存储未配置")
	}

	// Decoding takes memory in proportion to pixels; bound how many run.
	photo, err := s.gate.Process(ctx, r, s.cfg.Limits)
	if err != nil {
		return none, err
	}

	ph := Photo{
		ID:             pid,
		Tag:            tag,
		Key:            "cases/" + st.ID + "/" + pid + ".jpg",
		ThumbKey:       "cases/" + st.ID + "/" + pid + "_thumb.jpg",
		Width:          photo.Width,
		Height:         photo.Height,
		SHA256:         photo.SHA256,
		UploadedBy:     p.UserID,
		UploadedByRole: p.Role,
		UploadedAt:     s.cfg.Now(),
	}
	if err := s.blobs.Save(ctx, ph.Key, bytes.NewReader(photo.Display), int64(len(photo.Display)), media.TypeJPEG); err != nil {
		return none, fmt.Errorf("cases: unable to store photo: %w", err)
	}
	if err := s.blobs.Save(ctx, ph.ThumbKey, bytes.NewReader(photo.Thumb), int64(len(photo.Thumb)), media.TypeJPEG); err != nil {
		s.dropBlobs(ctx, ph)
		return none, fmt.Errorf("cases: unable to store thumbnail: %w", err)
	}

	// The count condition makes the limit hold against concurrent uploads.
	matched, err := s.cases.Push(ctx, p, st.ID, ph, tag.Label())
	if err != nil || !matched {
		s.dropBlobs(ctx, ph)
		if err != nil {
			return none, fmt.Errorf("cases: unable to attach photo to %s: %w", st.ID, err)
		}
		return none, errTooMany()
	}
	if photo.GPS != nil && !st.Placed {
		// Only when still empty: a position someone typed wins over a camera's.
		if err := s.cases.Place(ctx, st.ID, *photo.GPS); err != nil {
			s.cfg.Logger.Warn("cases: unable to fill location from photo", "case", st.ID, "err", err)
		}
	}
	return s.view(ctx, p, st.ID)
}

// Links signs ph's display copy and its thumbnail for Config.URLTTL: the
// short-lived links a view of its case carries.
func (s *Service[C]) Links(ctx context.Context, ph Photo) (url, thumb string, err error) {
	if url, err = s.blobs.URL(ctx, ph.Key, s.cfg.URLTTL); err != nil {
		return "", "", fmt.Errorf("cases: unable to sign photo url: %w", err)
	}
	if thumb, err = s.blobs.URL(ctx, ph.ThumbKey, s.cfg.URLTTL); err != nil {
		return "", "", fmt.Errorf("cases: unable to sign photo url: %w", err)
	}
	return url, thumb, nil
}

// view reads case id again and shows it to p.
func (s *Service[C]) view(ctx context.Context, p auth.Principal, id string) (C, error) {
	out, err := s.cases.Load(ctx, id)
	if err != nil {
		var none C
		return none, err
	}
	return s.cases.View(ctx, p, out)
}

func errTooMany() error {
	return minsheng.Errorf(minsheng.ECONFLICT, "每个案件最多%d张照片", Max)
}

// dropBlobs removes the blobs of a photo that did not make it into the case.
func (s *Service[C]) dropBlobs(ctx context.Context, ph Photo) {
	for _, k := range []string{ph.Key, ph.ThumbKey} {
		if err := s.blobs.Delete(ctx, k); err != nil {
			s.cfg.Logger.Warn("cases: unable to delete orphan photo", "key", k, "err", err)
		}
	}
}

// find is the photo of st with id, a copy; nil when there is none.
func find(st State, id string) *Photo {
	for i := range st.Photos {
		if st.Photos[i].ID == id {
			p := st.Photos[i]
			return &p
		}
	}
	return nil
}
