package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"minsheng"
)

// storageHarness is one backend under the shared suite.
type storageHarness struct {
	s Storage
	// fetch GETs a URL made by s.URL the way a browser would.
	fetch func(t *testing.T, url string) (status int, body []byte)
}

// testStorage is the contract every Storage backend must meet; each
// backend's test runs it against a real instance.
func testStorage(t *testing.T, h storageHarness) {
	ctx := context.Background()
	s := h.s
	photo := bytes.Repeat([]byte("照片-"), 5000) // 35 KB, more than one read buffer

	t.Run("save, stat, open", func(t *testing.T) {
		key := "cases/c1/0b7e1f0a-1f2d-4c1e-9a57-3c4b5d6e7f80.jpg"
		before := time.Now().Add(-2 * time.Second)
		if err := s.Save(ctx, key, bytes.NewReader(photo), int64(len(photo)), "image/jpeg"); err != nil {
			t.Fatalf("Save: %v", err)
		}
		info, err := s.Stat(ctx, key)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		checkInfo(t, "Stat", info, key, int64(len(photo)), "image/jpeg", before)

		rc, info, err := s.Open(ctx, key)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer rc.Close()
		checkInfo(t, "Open", info, key, int64(len(photo)), "image/jpeg", before)
		got, err := io.ReadAll(rc)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if !bytes.Equal(got, photo) {
			t.Errorf("read %d bytes, want the %d saved", len(got), len(photo))
		}
	})

	t.Run("unknown size", func(t *testing.T) {
		key := "cases/c1/unknown-size.png"
		if err := s.Save(ctx, key, io.MultiReader(bytes.NewReader(photo[:100]), bytes.NewReader(photo[100:])), -1, ""); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if got := readAll(t, s, key); !bytes.Equal(got, photo) {
			t.Errorf("read %d bytes, want %d", len(got), len(photo))
		}
		info, err := s.Stat(ctx, key)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if got, want := info.ContentType, "image/png"; got != want {
			t.Errorf("ContentType = %q, want %q (from the extension)", got, want)
		}
	})

	t.Run("empty object", func(t *testing.T) {
		key := "cases/c1/empty.jpg"
		if err := s.Save(ctx, key, bytes.NewReader(nil), 0, "image/jpeg"); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if got := readAll(t, s, key); len(got) != 0 {
			t.Errorf("read %d bytes, want 0", len(got))
		}
	})

	t.Run("overwrite", func(t *testing.T) {
		key := "cases/c2/overwrite.jpg"
		for _, body := range []string{"first version", "second"} {
			if err := s.Save(ctx, key, strings.NewReader(body), int64(len(body)), "image/jpeg"); err != nil {
				t.Fatalf("Save %q: %v", body, err)
			}
		}
		if got, want := string(readAll(t, s, key)), "second"; got != want {
			t.Errorf("content = %q, want %q", got, want)
		}
	})

	t.Run("delete", func(t *testing.T) {
		key := "cases/c3/delete-me.jpg"
		if err := s.Save(ctx, key, strings.NewReader("x"), 1, "image/jpeg"); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, minsheng.ErrNotFound) {
			t.Errorf("Stat after Delete: err = %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("second Delete: err = %v, want nil (deletes are idempotent)", err)
		}
	})

	t.Run("missing key", func(t *testing.T) {
		key := "cases/nope/missing.jpg"
		if _, err := s.Stat(ctx, key); !errors.Is(err, minsheng.ErrNotFound) {
			t.Errorf("Stat: err = %v, want ErrNotFound", err)
		} else if got, want := minsheng.ErrorCode(err), minsheng.ENOTFOUND; got != want {
			t.Errorf("Stat: code = %q, want %q", got, want)
		}
		rc, _, err := s.Open(ctx, key)
		if !errors.Is(err, minsheng.ErrNotFound) {
			t.Errorf("Open: err = %v, want ErrNotFound", err)
		}
		if rc != nil {
			t.Errorf("Open returned a reader with an error")
			rc.Close()
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete: err = %v, want nil", err)
		}
	})

	t.Run("prefix of a key is not an object", func(t *testing.T) {
		if err := s.Save(ctx, "cases/c4/a.jpg", strings.NewReader("x"), 1, ""); err != nil {
			t.Fatalf("Save: %v", err)
		}
		for _, key := range []string{"cases/c4", "cases"} {
			if _, err := s.Stat(ctx, key); !errors.Is(err, minsheng.ErrNotFound) {
				t.Errorf("Stat(%q): err = %v, want ErrNotFound", key, err)
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Errorf("Delete(%q): err = %v, want nil", key, err)
			}
		}
		if _, err := s.Stat(ctx, "cases/c4/a.jpg"); err != nil {
			t.Errorf("object under a deleted prefix: Stat err = %v, want it still there", err)
		}
	})

	t.Run("bad keys", func(t *testing.T) {
		for _, key := range []string{
			"", "/etc/passwd", "../outside.jpg", "cases/../../outside.jpg", "cases/..", "cases/a..b.jpg",
			"cases//a.jpg", "cases/a.jpg/", "./a.jpg", "cases/.tmp-123", `cases\a.jpg`, "cases/a b.jpg",
			"cases/照片.jpg", "cases/a.jpg?x=1", "cases/a%2F.jpg", "cases/a\x00.jpg", strings.Repeat("a", 513),
		} {
			t.Run(fmt.Sprintf("%.20q", key), func(t *testing.T) {
				codeOf := func(err error) string { return minsheng.ErrorCode(err) }
				want := minsheng.EINVALID
				if got := codeOf(s.Save(ctx, key, strings.NewReader("x"), 1, "")); got != want {
					t.Errorf("Save: code = %q, want %q", got, want)
				}
				_, err := s.Stat(ctx, key)
				if got := codeOf(err); got != want {
					t.Errorf("Stat: code = %q, want %q", got, want)
				}
				_, _, err = s.Open(ctx, key)
				if got := codeOf(err); got != want {
					t.Errorf("Open: code = %q, want %q", got, want)
				}
				if got := codeOf(s.Delete(ctx, key)); got != want {
					t.Errorf("Delete: code = %q, want %q", got, want)
				}
				_, err = s.URL(ctx, key, time.Minute)
				if got := codeOf(err); got != want {
					t.Errorf("URL: code = %q, want %q", got, want)
				}
			})
		}
	})

	t.Run("content type must match the extension", func(t *testing.T) {
		err := s.Save(ctx, "cases/c5/a.jpg", strings.NewReader("<html>"), 6, "text/html")
		if got, want := minsheng.ErrorCode(err), minsheng.EINVALID; got != want {
			t.Errorf("code = %q, want %q", got, want)
		}
	})

	t.Run("size mismatch stores nothing", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			body string
			size int64
		}{
			{"short", "abc", 10},
			{"long", "abcdefghij", 3},
			{"long empty", "abc", 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				key := "cases/c6/" + strings.ReplaceAll(tc.name, " ", "-") + ".jpg"
				err := s.Save(ctx, key, strings.NewReader(tc.body), tc.size, "image/jpeg")
				if got, want := minsheng.ErrorCode(err), minsheng.EINVALID; got != want {
					t.Errorf("Save: code = %q (%v), want %q", got, err, want)
				}
				if _, err := s.Stat(ctx, key); !errors.Is(err, minsheng.ErrNotFound) {
					t.Errorf("Stat after failed Save: err = %v, want ErrNotFound", err)
				}
			})
		}
	})

	t.Run("failed read stores nothing", func(t *testing.T) {
		key := "cases/c7/broken.jpg"
		boom := errors.New("connection reset by phone")
		r := io.MultiReader(bytes.NewReader(photo), errReader{boom})
		err := s.Save(ctx, key, r, -1, "image/jpeg")
		if err == nil {
			t.Fatal("Save: err = nil, want the reader's error")
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, minsheng.ErrNotFound) {
			t.Errorf("Stat after failed Save: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		key := "cases/c8/cancelled.jpg"
		if err := s.Save(cctx, key, bytes.NewReader(photo), int64(len(photo)), ""); !errors.Is(err, context.Canceled) {
			t.Errorf("Save: err = %v, want context.Canceled", err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, minsheng.ErrNotFound) {
			t.Errorf("Stat after cancelled Save: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("URL", func(t *testing.T) {
		key := "cases/c9/url.jpg"
		if err := s.Save(ctx, key, bytes.NewReader(photo), int64(len(photo)), "image/jpeg"); err != nil {
			t.Fatalf("Save: %v", err)
		}
		u, err := s.URL(ctx, key, 5*time.Minute)
		if err != nil {
			t.Fatalf("URL: %v", err)
		}
		status, body := h.fetch(t, u)
		if status != http.StatusOK {
			t.Fatalf("GET %s: status %d, want 200", u, status)
		}
		if !bytes.Equal(body, photo) {
			t.Errorf("GET returned %d bytes, want the %d saved", len(body), len(photo))
		}

		// A URL for one key must not open another.
		other := strings.Replace(u, "url.jpg", "other.jpg", 1)
		if err := s.Save(ctx, "cases/c9/other.jpg", strings.NewReader("secret"), 6, ""); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if status, _ := h.fetch(t, other); status != http.StatusForbidden {
			t.Errorf("GET with the URL of another key: status %d, want 403", status)
		}

		for _, ttl := range []time.Duration{0, -time.Second, 8 * 24 * time.Hour} {
			_, err := s.URL(ctx, key, ttl)
			if got, want := minsheng.ErrorCode(err), minsheng.EINVALID; got != want {
				t.Errorf("URL ttl %v: code = %q, want %q", ttl, got, want)
			}
		}
	})
}

func checkInfo(t *testing.T, op string, got Info, key string, size int64, contentType string, after time.Time) {
	t.Helper()
	if got.Key != key {
		t.Errorf("%s: Key = %q, want %q", op, got.Key, key)
	}
	if got.Size != size {
		t.Errorf("%s: Size = %d, want %d", op, got.Size, size)
	}
	if got.ContentType != contentType {
		t.Errorf("%s: ContentType = %q, want %q", op, got.ContentType, contentType)
	}
	if got.ModTime.Before(after) || got.ModTime.After(time.Now().Add(2*time.Second)) {
		t.Errorf("%s: ModTime = %v, want about now", op, got.ModTime)
	}
}

func readAll(t *testing.T, s Storage, key string) []byte {
	t.Helper()
	rc, _, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// httpGet fetches url with a plain client, as a browser would.
func httpGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of %s: %v", url, err)
	}
	return resp.StatusCode, b
}
