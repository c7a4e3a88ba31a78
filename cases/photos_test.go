package cases_test

import (
	"bytes"
	"context"
	"io"
	"math"
	"strings"
	"testing"

	"minsheng"
	"minsheng/cases"
	"minsheng/cases/casestest"
	"minsheng/internal/media"
)

func jpeg(t *testing.T) []byte { return casestest.JPEG(t, 64, 48) }

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func TestAddPhoto(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.submit(t, resident, input())

	got, err := e.svc.AddPhoto(ctx, resident, c.ID, cases.TagBefore, bytesReader(casestest.JPEGWithGPS(t, 80, 60)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Photos) != 1 {
		t.Fatalf("photos = %d, want 1", len(got.Photos))
	}
	ph := got.Photos[0]
	if ph.Tag != cases.TagBefore || ph.Width != 80 || ph.Height != 60 {
		t.Errorf("photo = %+v, want a before-photo of 80×60", ph)
	}
	if !strings.HasPrefix(ph.Key, "cases/"+c.ID+"/") || !strings.HasPrefix(ph.ThumbKey, "cases/"+c.ID+"/") {
		t.Errorf("keys %q, %q, want under cases/%s/", ph.Key, ph.ThumbKey, c.ID)
	}
	if !strings.HasPrefix(ph.URL, "/media/cases/") || !strings.Contains(ph.URL, "sig=") || ph.ThumbURL == "" {
		t.Errorf("urls %q, %q, want signed /media URLs", ph.URL, ph.ThumbURL)
	}

	t.Run("EXIF GPS fills the location", func(t *testing.T) {
		if got.Location.Lat == nil || math.Abs(*got.Location.Lat-casestest.Lat) > 1e-6 || math.Abs(*got.Location.Lng-casestest.Lng) > 1e-6 {
			t.Errorf("location = %v,%v, want %v,%v", got.Location.Lat, got.Location.Lng, casestest.Lat, casestest.Lng)
		}
	})
	t.Run("stored copies carry no EXIF", func(t *testing.T) {
		for _, key := range []string{ph.Key, ph.ThumbKey} {
			rc, info, err := e.photos.Open(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if info.ContentType != media.TypeJPEG {
				t.Errorf("%s content type = %q, want %q", key, info.ContentType, media.TypeJPEG)
			}
			for _, leak := range []string{"Exif", casestest.Camera} {
				if bytes.Contains(b, []byte(leak)) {
					t.Errorf("%s contains %q", key, leak)
				}
			}
		}
	})
	t.Run("a typed position is not overwritten", func(t *testing.T) {
		in := input()
		lat, lng := 39.5, 116.1
		in.Lat, in.Lng = &lat, &lng
		c := e.submit(t, resident, in)
		got, err := e.svc.AddPhoto(ctx, resident, c.ID, cases.TagBefore, bytesReader(casestest.JPEGWithGPS(t, 32, 32)))
		if err != nil {
			t.Fatal(err)
		}
		if *got.Location.Lat != lat || *got.Location.Lng != lng {
			t.Errorf("location = %v,%v, want %v,%v", *got.Location.Lat, *got.Location.Lng, lat, lng)
		}
	})
}

func TestAddPhotoRefused(t *testing.T) {
	e := newEnv(t, func(c *cases.Config) { c.PhotoLimits = media.Limits{MaxBytes: 64 << 10} })
	ctx := context.Background()
	c := e.submit(t, resident, input())
	big := append(jpeg(t), make([]byte, 65<<10)...) // a JPEG padded past 64 KB
	tests := []struct {
		name  string
		p     string
		tag   cases.PhotoTag
		body  []byte
		code  string
		field string
	}{
		{"not an image", "cadre", cases.TagBefore, []byte("GIF89a not really"), minsheng.EUNSUPPORTED, ""},
		{"a PDF named .jpg", "cadre", cases.TagBefore, []byte("%PDF-1.4\n"), minsheng.EUNSUPPORTED, ""},
		{"too large", "cadre", cases.TagBefore, big, minsheng.ETOOLARGE, ""},
		{"decompression bomb", "cadre", cases.TagBefore, casestest.PNGBomb(t, 100000, 100000), minsheng.ETOOLARGE, ""},
		{"corrupt jpeg", "cadre", cases.TagBefore, jpeg(t)[:100], minsheng.EINVALID, ""},
		{"empty", "cadre", cases.TagBefore, nil, minsheng.EINVALID, ""},
		{"unknown tag", "cadre", "during", jpeg(t), minsheng.EINVALID, "tag"},
		{"resident's after-photo", "resident", cases.TagAfter, jpeg(t), minsheng.EFORBIDDEN, ""},
		{"another resident", "neighbour", cases.TagBefore, jpeg(t), minsheng.EFORBIDDEN, ""},
		{"cadre of another community", "cadreNext", cases.TagBefore, jpeg(t), minsheng.EFORBIDDEN, ""},
		{"finance", "finance", cases.TagBefore, jpeg(t), minsheng.EFORBIDDEN, ""},
		{"anonymous", "anonymous", cases.TagBefore, jpeg(t), minsheng.EUNAUTHORIZED, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.AddPhoto(ctx, principalBy[tt.p], c.ID, tt.tag, bytesReader(tt.body))
			wantCode(t, err, tt.code)
			if tt.field != "" && minsheng.ErrorFields(err)[tt.field] == "" {
				t.Errorf("fields = %v, want %q", minsheng.ErrorFields(err), tt.field)
			}
		})
	}
	stored, _ := e.svc.FindByID(ctx, c.ID)
	if got := len(stored.Photos); got != 0 {
		t.Errorf("photos after refusals = %d, want 0", got)
	}

	t.Run("over count", func(t *testing.T) {
		for i := range cases.MaxPhotos {
			if _, err := e.svc.AddPhoto(ctx, cadre, c.ID, cases.TagProgress, bytesReader(jpeg(t))); err != nil {
				t.Fatalf("photo %d: %v", i+1, err)
			}
		}
		_, err := e.svc.AddPhoto(ctx, cadre, c.ID, cases.TagProgress, bytesReader(jpeg(t)))
		wantCode(t, err, minsheng.ECONFLICT)
		if got := minsheng.ErrorMessage(err); !strings.Contains(got, "最多9张") {
			t.Errorf("message = %q, want it to say 最多9张", got)
		}
	})
	t.Run("closed case", func(t *testing.T) {
		closed := e.to(t, cases.StatusClosed)
		_, err := e.svc.AddPhoto(ctx, cadre, closed.ID, cases.TagAfter, bytesReader(jpeg(t)))
		wantCode(t, err, minsheng.ECONFLICT)
	})
}
