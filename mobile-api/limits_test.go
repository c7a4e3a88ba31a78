package mobileapi_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"minsheng/cases/casestest"
	"minsheng/internal/auth"
)

// TestOneLimitPerAction is finding 5 of issue 21: /mobile/v1 filed (65 PUT
// filings in 0.4 s) and uploaded past the limits /api/v1 enforces. One
// limiter per action, whichever API is used: filings through PUT
// /mobile/v1/cases/{uuid} and POST /api/v1/cases share one budget, uploads
// through either API another; a replay of a mobile PUT is not counted.
func TestOneLimitPerAction(t *testing.T) {
	f := newFixtureAuth(t, nil, nil, func(c *auth.Config) {
		c.FilePerUser = auth.Limit{N: 4, Window: time.Hour}
		c.UploadPerUser = auth.Limit{N: 3, Window: time.Hour}
	})
	webFile := func(who string) int {
		b := caseBody()
		b["community"] = commA
		return f.call(t, who, "POST", "/api/v1/cases", b, nil)
	}
	mobileFile := func(who, id string, body map[string]any) int {
		return f.call(t, who, "PUT", "/mobile/v1/cases/"+id, body, nil)
	}

	t.Run("filings through both APIs share one budget", func(t *testing.T) {
		first, body := uuid.NewString(), caseBody()
		steps := []struct {
			name string
			do   func() int
			want int
		}{
			{"web 1", func() int { return webFile("lisi") }, http.StatusCreated},
			{"mobile 2", func() int { return mobileFile("lisi", first, body) }, http.StatusCreated},
			{"its replay is not counted", func() int { return mobileFile("lisi", first, body) }, http.StatusCreated},
			{"its replay again", func() int { return mobileFile("lisi", first, body) }, http.StatusCreated},
			{"web 3", func() int { return webFile("lisi") }, http.StatusCreated},
			{"mobile 4", func() int { return mobileFile("lisi", uuid.NewString(), caseBody()) }, http.StatusCreated},
			{"mobile 5 is over", func() int { return mobileFile("lisi", uuid.NewString(), caseBody()) }, http.StatusTooManyRequests},
			{"web 5 is over", func() int { return webFile("lisi") }, http.StatusTooManyRequests},
			{"a replay still answers at the limit", func() int { return mobileFile("lisi", first, body) }, http.StatusCreated},
		}
		for _, s := range steps {
			if got := s.do(); got != s.want {
				t.Fatalf("%s: status %d, want %d", s.name, got, s.want)
			}
		}
		_, h := f.callH(t, "lisi", "PUT", "/mobile/v1/cases/"+uuid.NewString(), caseBody(), nil)
		if h.Get("Retry-After") == "" {
			t.Errorf("a refused mobile filing has no Retry-After")
		}
	})

	t.Run("a burst of mobile filings stops at the limit", func(t *testing.T) {
		created := 0
		for range 10 {
			if mobileFile("far", uuid.NewString(), caseBody()) == http.StatusCreated {
				created++
			}
		}
		if created != 4 {
			t.Errorf("%d of 10 filings created, want 4", created)
		}
	})

	t.Run("uploads through both APIs share one budget", func(t *testing.T) {
		c := f.file(t, "wangfang")
		jpg := casestest.JPEG(t, 64, 48)
		webUpload := func() int {
			var body bytes.Buffer
			w := multipart.NewWriter(&body)
			_ = w.WriteField("tag", "before")
			part, _ := w.CreateFormFile("photo", "p.jpg")
			_, _ = part.Write(jpg)
			_ = w.Close()
			req := httptest.NewRequest("POST", "/api/v1/cases/"+c.ID+"/photos", &body)
			req.Header.Set("Content-Type", w.FormDataContentType())
			req.Header.Set("Authorization", "Bearer "+f.tokens["wangfang"])
			resp, err := f.app.Test(req, 60_000)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		mobileUpload := func(photo string) int {
			return f.call(t, "wangfang", "PUT", "/mobile/v1/cases/"+c.ID+"/photos/"+photo+"?tag=before", jpg, nil)
		}
		photo := uuid.NewString()
		for i, s := range []struct {
			do   func() int
			want int
		}{
			{webUpload, http.StatusCreated},
			{func() int { return mobileUpload(photo) }, http.StatusCreated},
			{func() int { return mobileUpload(photo) }, http.StatusCreated}, // a replay
			{func() int { return mobileUpload(uuid.NewString()) }, http.StatusCreated},
			{func() int { return mobileUpload(uuid.NewString()) }, http.StatusTooManyRequests},
			{webUpload, http.StatusTooManyRequests},
		} {
			if got := s.do(); got != s.want {
				t.Fatalf("upload step %d: status %d, want %d", i+1, got, s.want)
			}
		}
	})
}
