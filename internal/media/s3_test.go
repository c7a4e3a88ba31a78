package media

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"minsheng"
	"minsheng/internal/media/mediatest"
)

func TestS3(t *testing.T) {
	cfg := startVersityGW(t)
	ctx := context.Background()
	s, err := NewS3(ctx, cfg)
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	testStorage(t, storageHarness{s: s, fetch: httpGet})

	t.Run("bucket already there", func(t *testing.T) {
		// A second instance starting against the same bucket.
		if _, err := NewS3(ctx, cfg); err != nil {
			t.Fatalf("NewS3: %v", err)
		}
	})

	t.Run("expired URL", func(t *testing.T) {
		key := "cases/s3/expiring.jpg"
		if err := s.Save(ctx, key, strings.NewReader("x"), 1, ""); err != nil {
			t.Fatalf("Save: %v", err)
		}
		u, err := s.URL(ctx, key, time.Second)
		if err != nil {
			t.Fatalf("URL: %v", err)
		}
		time.Sleep(2100 * time.Millisecond)
		if status, _ := httpGet(t, u); status != http.StatusForbidden {
			t.Errorf("GET expired URL: status %d, want 403", status)
		}
	})

	t.Run("presigned PUT", func(t *testing.T) {
		put := func(t *testing.T, u, ct, body string) int {
			t.Helper()
			req, err := http.NewRequest(http.MethodPut, u, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", ct)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		key := "uploads/s3/direct.jpg"
		u, h, err := s.PresignPut(ctx, key, TypeJPEG, time.Minute)
		if err != nil {
			t.Fatalf("PresignPut: %v", err)
		}
		if h["Content-Type"] != TypeJPEG {
			t.Errorf("headers %v, want Content-Type %s", h, TypeJPEG)
		}
		t.Run("another content type is refused by the store", func(t *testing.T) {
			if st := put(t, u, "text/html", "<script>"); st != http.StatusForbidden {
				t.Errorf("status %d, want 403", st)
			}
			if _, err := s.Stat(ctx, key); minsheng.ErrorCode(err) != minsheng.ENOTFOUND {
				t.Errorf("Stat after the refused PUT: %v, want not found", err)
			}
		})
		t.Run("the signed type is stored", func(t *testing.T) {
			if st := put(t, u, TypeJPEG, "jpeg bytes"); st != http.StatusOK {
				t.Fatalf("status %d, want 200", st)
			}
			info, err := s.Stat(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if info.Size != int64(len("jpeg bytes")) || info.ContentType != TypeJPEG {
				t.Errorf("got %+v, want 10 bytes of %s", info, TypeJPEG)
			}
		})
		t.Run("a type contradicting the key", func(t *testing.T) {
			if _, _, err := s.PresignPut(ctx, key, TypePNG, time.Minute); minsheng.ErrorCode(err) != minsheng.EINVALID {
				t.Errorf("got %v, want invalid", err)
			}
		})
	})

	t.Run("wrong credentials", func(t *testing.T) {
		bad := cfg
		bad.SecretKey = "not-the-secret"
		if _, err := NewS3(ctx, bad); err == nil {
			t.Error("NewS3 with a wrong secret: err = nil, want an error")
		} else if minsheng.ErrorCode(err) != minsheng.EINTERNAL {
			t.Errorf("code = %q, want %q", minsheng.ErrorCode(err), minsheng.EINTERNAL)
		}
	})
}

// startVersityGW runs a Versity S3 Gateway for the duration of the test
// (mediatest: skipped without the binary, except in CI).
func startVersityGW(t *testing.T) S3Config {
	t.Helper()
	gw := mediatest.StartVersityGW(t)
	return S3Config{Endpoint: gw.Endpoint, AccessKey: gw.AccessKey, SecretKey: gw.SecretKey, Bucket: "minsheng-test", Region: gw.Region}
}
