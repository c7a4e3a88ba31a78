// Package uploads keeps the direct photo uploads (直传) of the cadre app:
// the upload records, the claim that lets exactly one confirm attach a
// photo however many arrive at once (and lets a later one take over from a
// confirm that died), and the expiry of uploads never confirmed. Who may
// upload and what attaching does are casework's (package cases); this
// package decides "once" and "too late".
//
// "Once" is a claim: the confirm that inserts {_id: upload id} into
// photo_upload_claims does the work; copies arriving meanwhile wait for
// the upload to be done and answer as it is then. A confirm that fails (no
// object yet, a bad image) drops its claim so a later one may try again.
//
// Errors: ENOTFOUND (minsheng) for an unknown upload; ECONFLICT for one
// expired, or while another confirm is still busy; the store's errors,
// wrapped with the action that failed.
package uploads

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/internal/media"
	"minsheng/internal/store"
)

const (
	uploadsCollection = "photo_uploads"
	claimsCollection  = "photo_upload_claims"
)

// Indexes are the indexes of direct uploads; the sweep reads pending ones
// by state (pushed-down string equality).
var Indexes = []store.Index{
	{Collection: uploadsCollection, Name: "state", Keys: bson.D{{Key: "state", Value: 1}}},
}

// Direct upload timing.
const (
	// URLTTL is how long the signed PUT URL lives.
	URLTTL = 15 * time.Minute
	// ConfirmWindow is how long after asking the app may confirm: a phone
	// may lose signal between its PUT and its confirm for hours.
	ConfirmWindow = 24 * time.Hour
	// claimStale is when a confirm's claim counts as left by a process
	// that died: a confirm takes a few seconds at most.
	claimStale = 2 * time.Minute
	// confirmWait bounds how long a copy waits for the confirm that holds
	// the claim.
	confirmWait = 20 * time.Second
)

// Upload states.
const (
	Pending = "pending"
	Done    = "done"
	Expired = "expired"
)

// Upload is one direct upload the app asked for.
type Upload struct {
	ID          string    `bson:"_id" json:"upload_id"`
	CaseID      string    `bson:"case_id" json:"case_id"`
	UserID      string    `bson:"user_id" json:"-"`
	Tag         string    `bson:"tag" json:"tag"`
	Key         string    `bson:"key" json:"-"`
	ContentType string    `bson:"content_type" json:"content_type"`
	MaxBytes    int64     `bson:"max_bytes" json:"max_bytes"`
	State       string    `bson:"state" json:"state"`
	PhotoID     string    `bson:"photo_id,omitempty" json:"photo_id,omitempty"`
	CreatedAt   time.Time `bson:"created_at" json:"created_at"`
	ConfirmBy   time.Time `bson:"confirm_by" json:"confirm_by"`

	// The signed PUT, filled when the upload is asked for only.
	URL          string            `bson:"-" json:"url,omitempty"`
	Method       string            `bson:"-" json:"method,omitempty"`
	Headers      map[string]string `bson:"-" json:"headers,omitempty"`
	URLExpiresAt time.Time         `bson:"-" json:"url_expires_at,omitzero"`
}

type claim struct {
	ID string    `bson:"_id"`
	At time.Time `bson:"at"`
}

// Ext is the object key's extension of each content type a direct upload
// accepts.
var Ext = map[string]string{media.TypeJPEG: ".jpg", media.TypePNG: ".png", media.TypeWebP: ".webp"}

// Store keeps the uploads; blobs holds their objects.
type Store struct {
	uploads *store.Collection
	claims  *store.Collection
	blobs   media.Storage
	log     *slog.Logger
}

// New returns the uploads on st, their objects in blobs.
func New(st *store.Store, blobs media.Storage, log *slog.Logger) *Store {
	return &Store{uploads: st.Collection(uploadsCollection), claims: st.Collection(claimsCollection), blobs: blobs, log: log}
}

// Insert stores a new upload.
func (s *Store) Insert(ctx context.Context, up *Upload) error {
	if err := s.uploads.InsertOne(ctx, up); err != nil {
		return fmt.Errorf("uploads: unable to store upload of %s: %w", up.CaseID, err)
	}
	return nil
}

// Find returns the upload with id; ENOTFOUND when there is none.
func (s *Store) Find(ctx context.Context, id string) (*Upload, error) {
	var up Upload
	if err := s.uploads.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, &up); err != nil {
		if errors.Is(err, minsheng.ErrNotFound) {
			return nil, ErrNoUpload()
		}
		return nil, fmt.Errorf("uploads: unable to read upload %s: %w", id, err)
	}
	return &up, nil
}

// ErrNoUpload is the answer about an upload that is not there (or not the
// caller's).
func ErrNoUpload() error { return minsheng.Errorf(minsheng.ENOTFOUND, "照片上传不存在") }

// Confirm runs finish for up (found by its caller, who checked it is
// theirs) once, however many confirms arrive, and returns its answer; a
// confirm of an upload already done answers with done. A finish that fails
// releases the claim, so a later confirm may try again. now is the
// caller's clock.
func Confirm[T any](ctx context.Context, s *Store, up *Upload, now func() time.Time, finish func(*Upload) (T, error), done func() (T, error)) (T, error) {
	var zero T
	wait := time.NewTimer(confirmWait)
	defer wait.Stop()
	for {
		switch {
		case up.State == Done:
			return done()
		case up.State == Expired || now().After(up.ConfirmBy):
			return zero, minsheng.Errorf(minsheng.ECONFLICT, "照片上传已过期，请重新上传")
		}
		err := s.claims.InsertOne(ctx, claim{ID: up.ID, At: now()})
		if err == nil {
			out, err := finish(up)
			if err != nil {
				// Let a later confirm try again (after the PUT, say).
				if _, derr := s.claims.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: up.ID}}); derr != nil {
					s.log.Warn("uploads: unable to release upload claim", "upload", up.ID, "err", derr)
				}
				return zero, err
			}
			return out, nil
		}
		if !errors.Is(err, minsheng.ErrDuplicate) {
			return zero, fmt.Errorf("uploads: unable to claim upload %s: %w", up.ID, err)
		}
		if err := s.awaitClaim(ctx, up, now, wait); err != nil {
			return zero, err
		}
		if up, err = s.Find(ctx, up.ID); err != nil {
			return zero, err
		}
	}
}

// awaitClaim waits a moment for the confirm that holds up's claim, or
// takes over a claim whose holder died.
func (s *Store) awaitClaim(ctx context.Context, up *Upload, now func() time.Time, wait *time.Timer) error {
	var cl claim
	err := s.claims.FindOne(ctx, bson.D{{Key: "_id", Value: up.ID}}, &cl)
	switch {
	case err == nil && now().Sub(cl.At) > claimStale:
		if _, err := s.claims.DeleteOne(ctx, bson.D{{Key: "_id", Value: up.ID}, {Key: "at", Value: cl.At}}); err != nil {
			return fmt.Errorf("uploads: unable to take over upload claim %s: %w", up.ID, err)
		}
	case err != nil && !errors.Is(err, minsheng.ErrNotFound):
		return fmt.Errorf("uploads: unable to read upload claim %s: %w", up.ID, err)
	default:
		select {
		case <-ctx.Done():
			return minsheng.Errorf(minsheng.ECONFLICT, "照片正在处理，请稍后重试")
		case <-wait.C:
			return minsheng.Errorf(minsheng.ECONFLICT, "照片正在处理，请稍后重试")
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// MarkDone records that up's photo is attached (under the upload's id) and
// deletes the uploaded original, which still has its EXIF.
func (s *Store) MarkDone(ctx context.Context, up *Upload) error {
	if _, err := s.uploads.UpdateOne(ctx, bson.D{{Key: "_id", Value: up.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: Done}, {Key: "photo_id", Value: up.ID}}}}); err != nil {
		return fmt.Errorf("uploads: unable to finish upload %s: %w", up.ID, err)
	}
	s.Drop(ctx, up)
	return nil
}

// Drop deletes up's uploaded object; a failure is logged.
func (s *Store) Drop(ctx context.Context, up *Upload) {
	if err := s.blobs.Delete(context.WithoutCancel(ctx), up.Key); err != nil {
		s.log.Warn("uploads: unable to delete uploaded original", "key", up.Key, "err", err)
	}
}

// Sweep expires the uploads not confirmed by their ConfirmBy at now: it
// claims each (so no confirm can attach it after) and deletes its object.
// It returns how many it expired.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	var pending []Upload
	if err := s.uploads.FindAll(ctx, bson.D{{Key: "state", Value: Pending}}, &pending); err != nil {
		return 0, fmt.Errorf("uploads: unable to list uploads: %w", err)
	}
	n := 0
	for i := range pending {
		up := &pending[i]
		if !now.After(up.ConfirmBy) {
			continue
		}
		if err := s.claims.InsertOne(ctx, claim{ID: up.ID, At: now}); errors.Is(err, minsheng.ErrDuplicate) {
			continue // a confirm is at it, or a crashed one: next sweep
		} else if err != nil {
			return n, fmt.Errorf("uploads: unable to claim upload %s: %w", up.ID, err)
		}
		s.Drop(ctx, up)
		if _, err := s.uploads.UpdateOne(ctx, bson.D{{Key: "_id", Value: up.ID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: Expired}}}}); err != nil {
			return n, fmt.Errorf("uploads: unable to expire upload %s: %w", up.ID, err)
		}
		n++
	}
	return n, nil
}
