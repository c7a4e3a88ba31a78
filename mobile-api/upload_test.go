package mobileapi_test

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/casestest"
	"minsheng/internal/media"
	"minsheng/internal/media/mediatest"
)

// upload is the answer to asking for a direct upload.
type upload struct {
	ID       string            `json:"upload_id"`
	URL      string            `json:"url"`
	Method   string            `json:"method"`
	Headers  map[string]string `json:"headers"`
	MaxBytes int64             `json:"max_bytes"`
}

// TestDirectUpload runs the presigned flow against a real S3 server
// (versitygw): ask, PUT straight to the bucket, confirm. The server checks
// the object as it checks an upload through it and attaches it once,
// however many confirms arrive at the same moment.
func TestDirectUpload(t *testing.T) {
	gw := mediatest.StartVersityGW(t)
	ctx := context.Background()
	s3, err := media.NewS3(ctx, media.S3Config{Endpoint: gw.Endpoint, AccessKey: gw.AccessKey, SecretKey: gw.SecretKey,
		Bucket: "minsheng-direct", Region: gw.Region})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Now().UTC()
	clk := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newFixtureWith(t, clk, s3)

	ask := func(t *testing.T, caseID, tag, ct string) upload {
		t.Helper()
		var up upload
		if st := f.call(t, "wangfang", "POST", "/mobile/v1/cases/"+caseID+"/photos/uploads", map[string]any{"tag": tag, "content_type": ct}, &up); st != http.StatusCreated {
			t.Fatalf("ask: status %d, want 201", st)
		}
		if up.Method != "PUT" || up.URL == "" || up.Headers["Content-Type"] != ct {
			t.Fatalf("ask: got %+v, want a PUT URL with Content-Type %s", up, ct)
		}
		return up
	}
	put := func(t *testing.T, up upload, body []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPut, up.URL, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range up.Headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT to S3: status %d, want 200", resp.StatusCode)
		}
	}
	confirm := func(t *testing.T, caseID, uploadID string, out any) int {
		t.Helper()
		return f.call(t, "wangfang", "POST", "/mobile/v1/cases/"+caseID+"/photos/uploads/"+uploadID+"/complete", nil, out,
			"Idempotency-Key", uuid.NewString())
	}
	photos := func(t *testing.T, caseID string) mcase {
		t.Helper()
		var c mcase
		if st := f.call(t, "wangfang", "GET", "/mobile/v1/cases/"+caseID, nil, &c); st != http.StatusOK {
			t.Fatalf("get case: status %d", st)
		}
		return c
	}

	c := f.assigned(t, "wangfang")
	// The case already holds a photo taken through the server.
	big := casestest.JPEG(t, 2600, 1300)
	var raw mcase
	if st := f.call(t, "wangfang", "PUT", "/mobile/v1/cases/"+c.ID+"/photos/"+uuid.NewString()+"?tag=before", big, &raw); st != http.StatusCreated {
		t.Fatalf("raw upload: status %d", st)
	}

	t.Run("happy path: the same pipeline as through the server", func(t *testing.T) {
		up := ask(t, c.ID, "progress", "image/jpeg")
		put(t, up, big)
		var got mcase
		if st := confirm(t, c.ID, up.ID, &got); st != http.StatusCreated {
			t.Fatalf("confirm: status %d, want 201", st)
		}
		if len(got.Photos) != 2 {
			t.Fatalf("photos = %d, want 2", len(got.Photos))
		}
		direct, viaServer := got.Photos[1], raw.Photos[0]
		if direct.ID != up.ID || direct.Tag != "progress" {
			t.Errorf("photo %s tag %s, want %s progress", direct.ID, direct.Tag, up.ID)
		}
		if direct.Width != viaServer.Width || direct.Height != viaServer.Height || direct.Width >= 2600 {
			t.Errorf("direct upload stored at %d×%d, through the server %d×%d: want the same, scaled down",
				direct.Width, direct.Height, viaServer.Width, viaServer.Height)
		}
		if _, err := s3.Stat(ctx, "uploads/"+c.ID+"/"+up.ID+".jpg"); minsheng.ErrorCode(err) != minsheng.ENOTFOUND {
			t.Errorf("uploaded original still in the bucket: %v", err)
		}
		if st := confirm(t, c.ID, up.ID, &got); st != http.StatusCreated || len(got.Photos) != 2 {
			t.Errorf("confirm again: status %d, %d photos, want 201 and still 2", st, len(got.Photos))
		}
		if n := photos(t, c.ID).count("photo"); n != 2 {
			t.Errorf("timeline has %d photo entries, want 2", n)
		}
	})

	t.Run("not an image", func(t *testing.T) {
		up := ask(t, c.ID, "progress", "image/jpeg")
		put(t, up, []byte("<html>not a photo</html>"))
		var e apiError
		if st := confirm(t, c.ID, up.ID, &e); st != http.StatusUnsupportedMediaType {
			t.Errorf("status %d (%s), want 415", st, e.Error.Message)
		}
		if n := len(photos(t, c.ID).Photos); n != 2 {
			t.Errorf("photos = %d, want still 2", n)
		}
		if _, err := s3.Stat(ctx, "uploads/"+c.ID+"/"+up.ID+".jpg"); minsheng.ErrorCode(err) != minsheng.ENOTFOUND {
			t.Errorf("refused object still in the bucket: %v", err)
		}
	})

	t.Run("too large", func(t *testing.T) {
		up := ask(t, c.ID, "progress", "image/jpeg")
		if up.MaxBytes != media.DefaultMaxBytes {
			t.Errorf("max_bytes = %d, want %d", up.MaxBytes, media.DefaultMaxBytes)
		}
		put(t, up, append(casestest.JPEG(t, 64, 48), make([]byte, media.DefaultMaxBytes)...))
		var e apiError
		if st := confirm(t, c.ID, up.ID, &e); st != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d (%s), want 413", st, e.Error.Message)
		}
		if n := len(photos(t, c.ID).Photos); n != 2 {
			t.Errorf("photos = %d, want still 2", n)
		}
	})

	t.Run("confirm without the PUT, then with it", func(t *testing.T) {
		up := ask(t, c.ID, "progress", "image/png")
		var e apiError
		if st := confirm(t, c.ID, up.ID, &e); st != http.StatusConflict {
			t.Errorf("status %d (%s), want 409", st, e.Error.Message)
		}
		put(t, up, casestest.JPEG(t, 64, 48)) // sniffed, not trusted: a JPEG under image/png is still a JPEG
		var got mcase
		if st := confirm(t, c.ID, up.ID, &got); st != http.StatusCreated || len(got.Photos) != 3 {
			t.Errorf("confirm after the PUT: status %d, %d photos, want 201 and 3", st, len(got.Photos))
		}
	})

	t.Run("simultaneous confirms attach one photo", func(t *testing.T) {
		for round := range 3 {
			before := len(photos(t, c.ID).Photos)
			up := ask(t, c.ID, "after", "image/jpeg")
			put(t, up, casestest.JPEG(t, 640, 480))
			const copies = 12
			status := make([]int, copies)
			key := uuid.NewString()
			var wg sync.WaitGroup
			for i := range copies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					k := key // half the copies resend one confirm, half are confirms of their own
					if i%2 == 1 {
						k = uuid.NewString()
					}
					status[i] = f.call(t, "wangfang", "POST", "/mobile/v1/cases/"+c.ID+"/photos/uploads/"+up.ID+"/complete", nil, nil, "Idempotency-Key", k)
				}()
			}
			wg.Wait()
			for i, st := range status {
				if st != http.StatusCreated {
					t.Errorf("round %d copy %d: status %d, want 201", round, i, st)
				}
			}
			got := photos(t, c.ID)
			if n := len(got.Photos) - before; n != 1 {
				t.Errorf("round %d: %d photos added, want 1", round, n)
			}
		}
	})

	t.Run("a claim left by a confirm that died", func(t *testing.T) {
		up := ask(t, c.ID, "after", "image/jpeg")
		put(t, up, casestest.JPEG(t, 64, 48))
		before := len(photos(t, c.ID).Photos)
		// A process took the claim and died before attaching anything.
		if err := f.st.Collection("photo_upload_claims").InsertOne(ctx, bson.M{"_id": up.ID, "at": clk().Add(-3 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		var got mcase
		if st := confirm(t, c.ID, up.ID, &got); st != http.StatusCreated || len(got.Photos) != before+1 {
			t.Errorf("confirm: status %d, %d photos, want 201 and %d", st, len(got.Photos), before+1)
		}
	})

	t.Run("never confirmed: expired and cleaned up", func(t *testing.T) {
		up := ask(t, c.ID, "after", "image/jpeg")
		put(t, up, casestest.JPEG(t, 64, 48))
		before := len(photos(t, c.ID).Photos)
		mu.Lock()
		now = now.Add(25 * time.Hour)
		mu.Unlock()
		n, err := f.cases.SweepPhotoUploads(ctx)
		// This one and the two refused above, all left unconfirmed.
		if err != nil || n != 3 {
			t.Fatalf("sweep: %d expired, %v; want 3", n, err)
		}
		if n, err := f.cases.SweepPhotoUploads(ctx); err != nil || n != 0 {
			t.Errorf("second sweep: %d expired, %v; want 0", n, err)
		}
		if _, err := s3.Stat(ctx, "uploads/"+c.ID+"/"+up.ID+".jpg"); minsheng.ErrorCode(err) != minsheng.ENOTFOUND {
			t.Errorf("expired object still in the bucket: %v", err)
		}
		var e apiError
		if st := confirm(t, c.ID, up.ID, &e); st != http.StatusConflict {
			t.Errorf("confirm after expiry: status %d, want 409", st)
		}
		if got := len(photos(t, c.ID).Photos); got != before {
			t.Errorf("photos = %d, want %d", got, before)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			body any
			want int
		}{
			{"no content type", map[string]any{"tag": "after"}, 400},
			{"a GIF", map[string]any{"tag": "after", "content_type": "image/gif"}, 415},
			{"an unknown tag", map[string]any{"tag": "later", "content_type": "image/jpeg"}, 400},
			{"an unknown field", map[string]any{"tag": "after", "content_type": "image/jpeg", "size": 5}, 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if st := f.call(t, "wangfang", "POST", "/mobile/v1/cases/"+c.ID+"/photos/uploads", tc.body, nil); st != tc.want {
					t.Errorf("status %d, want %d", st, tc.want)
				}
			})
		}
		if st := f.call(t, "far", "POST", "/mobile/v1/cases/"+c.ID+"/photos/uploads", map[string]any{"tag": "after", "content_type": "image/jpeg"}, nil); st != http.StatusForbidden {
			t.Errorf("another community's cadre: status %d, want 403", st)
		}
		up := ask(t, c.ID, "after", "image/jpeg")
		if st := f.call(t, "lisi", "POST", "/mobile/v1/cases/"+c.ID+"/photos/uploads/"+up.ID+"/complete", nil, nil, "Idempotency-Key", uuid.NewString()); st != http.StatusNotFound {
			t.Errorf("someone else's upload: status %d, want 404", st)
		}
		if st := f.call(t, "wangfang", "POST", "/mobile/v1/cases/"+c.ID+"/photos/uploads/"+up.ID+"/complete", nil, nil); st != http.StatusBadRequest {
			t.Errorf("confirm without Idempotency-Key: status %d, want 400", st)
		}
		if st := f.call(t, "wangfang", "POST", "/mobile/v1/cases/"+c.ID+"/photos/uploads/not-a-uuid/complete", nil, nil, "Idempotency-Key", uuid.NewString()); st != http.StatusBadRequest {
			t.Errorf("a bad upload id: status %d, want 400", st)
		}
	})
}

// TestDirectUploadOnLocalStore: without S3 the app is told to upload
// through the server.
func TestDirectUploadOnLocalStore(t *testing.T) {
	f := newFixture(t)
	c := f.assigned(t, "wangfang")
	var e apiError
	if st := f.call(t, "wangfang", "POST", "/mobile/v1/cases/"+c.ID+"/photos/uploads", map[string]any{"tag": "after", "content_type": "image/jpeg"}, &e); st != http.StatusConflict {
		t.Fatalf("status %d, want 409", st)
	}
	if e.Error.Fields["upload"] != "use_raw_upload" {
		t.Errorf("fields = %v, want upload: use_raw_upload", e.Error.Fields)
	}
	if e.Error.Message == "" {
		t.Error("no message for the app")
	}
}
