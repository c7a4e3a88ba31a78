package media

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"minsheng"
)

var testSecret = []byte("0123456789abcdef-test-secret")

// newTestLocal returns a Local in a temp dir, served by an HTTP handler
// that does what the real HTTP layer must: Verify, then Open.
func newTestLocal(t *testing.T) (*Local, string) {
	t.Helper()
	var l *Local
	srv := httptest.NewServer(http.StripPrefix("/media/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := l.Verify(r.URL.Path, q.Get("exp"), q.Get("sig"), time.Now()); err != nil {
			http.Error(w, minsheng.ErrorMessage(err), http.StatusForbidden)
			return
		}
		rc, info, err := l.Open(r.Context(), r.URL.Path)
		if errors.Is(err, minsheng.ErrNotFound) {
			http.NotFound(w, r)
			return
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer rc.Close()
		w.Header().Set("Content-Type", info.ContentType)
		io.Copy(w, rc)
	})))
	t.Cleanup(srv.Close)
	dir := filepath.Join(t.TempDir(), "media")
	var err error
	l, err = NewLocal(dir, testSecret, srv.URL+"/media/")
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	return l, dir
}

func TestLocal(t *testing.T) {
	l, dir := newTestLocal(t)
	testStorage(t, storageHarness{s: l, fetch: httpGet})

	t.Run("no temp files left behind", func(t *testing.T) {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".tmp-") {
				t.Errorf("temp file left: %s", p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("permissions", func(t *testing.T) {
		if err := l.Save(context.Background(), "cases/perm/a.jpg", strings.NewReader("x"), 1, ""); err != nil {
			t.Fatalf("Save: %v", err)
		}
		for _, tc := range []struct {
			path string
			want fs.FileMode
		}{
			{dir, 0o750},
			{filepath.Join(dir, "cases"), 0o750},
			{filepath.Join(dir, "cases", "perm"), 0o750},
			{filepath.Join(dir, "cases", "perm", "a.jpg"), 0o640},
		} {
			fi, err := os.Stat(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			// The umask may only remove bits, never add them.
			if got := fi.Mode().Perm(); got&^tc.want != 0 {
				t.Errorf("%s: mode %v, want at most %v", tc.path, got, tc.want)
			}
		}
	})

	t.Run("URL format", func(t *testing.T) {
		u, err := l.URL(context.Background(), "cases/1/a.jpg", time.Minute)
		if err != nil {
			t.Fatalf("URL: %v", err)
		}
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatalf("parse %q: %v", u, err)
		}
		if got, want := pu.Path, "/media/cases/1/a.jpg"; got != want {
			t.Errorf("path = %q, want %q", got, want)
		}
		exp, err := strconv.ParseInt(pu.Query().Get("exp"), 10, 64)
		if err != nil {
			t.Fatalf("exp: %v", err)
		}
		if d := time.Until(time.Unix(exp, 0)); d < 55*time.Second || d > 61*time.Second {
			t.Errorf("exp is %v from now, want about 1m", d)
		}
		if got := len(pu.Query().Get("sig")); got != 64 {
			t.Errorf("sig has %d hex digits, want 64", got)
		}
	})
}

func TestLocalVerify(t *testing.T) {
	l, err := NewLocal(t.TempDir(), testSecret, "/media")
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewLocal(t.TempDir(), []byte("another-secret-of-16+"), "/media")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	key := "cases/1/a.jpg"
	u, err := l.URL(context.Background(), key, time.Minute)
	if err != nil {
		t.Fatalf("URL: %v", err)
	}
	pu, _ := url.Parse(u)
	exp, sig := pu.Query().Get("exp"), pu.Query().Get("sig")
	expN, _ := strconv.ParseInt(exp, 10, 64)
	later := strconv.FormatInt(expN+3600, 10)
	flipped := []byte(sig)
	if flipped[0] == '0' {
		flipped[0] = '1'
	} else {
		flipped[0] = '0'
	}

	tests := []struct {
		name          string
		l             *Local
		key, exp, sig string
		now           time.Time
		wantCode      string
	}{
		{name: "valid", l: l, key: key, exp: exp, sig: sig, now: now},
		{name: "valid with upper-case hex", l: l, key: key, exp: exp, sig: strings.ToUpper(sig), now: now},
		{name: "valid at the last second", l: l, key: key, exp: exp, sig: sig, now: time.Unix(expN, 0)},
		{name: "expired", l: l, key: key, exp: exp, sig: sig, now: time.Unix(expN+1, 0), wantCode: minsheng.EFORBIDDEN},
		{name: "expiry extended", l: l, key: key, exp: later, sig: sig, now: now, wantCode: minsheng.EFORBIDDEN},
		{name: "other key", l: l, key: "cases/1/b.jpg", exp: exp, sig: sig, now: now, wantCode: minsheng.EFORBIDDEN},
		{name: "traversal key", l: l, key: "../" + key, exp: exp, sig: sig, now: now, wantCode: minsheng.EFORBIDDEN},
		{name: "tampered signature", l: l, key: key, exp: exp, sig: string(flipped), now: now, wantCode: minsheng.EFORBIDDEN},
		{name: "truncated signature", l: l, key: key, exp: exp, sig: sig[:32], now: now, wantCode: minsheng.EFORBIDDEN},
		{name: "not hex", l: l, key: key, exp: exp, sig: "zz" + sig[2:], now: now, wantCode: minsheng.EFORBIDDEN},
		{name: "no signature", l: l, key: key, exp: exp, sig: "", now: now, wantCode: minsheng.EFORBIDDEN},
		{name: "no expiry", l: l, key: key, exp: "", sig: sig, now: now, wantCode: minsheng.EFORBIDDEN},
		{name: "other secret", l: other, key: key, exp: exp, sig: sig, now: now, wantCode: minsheng.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.l.Verify(tt.key, tt.exp, tt.sig, tt.now)
			if got := minsheng.ErrorCode(err); got != tt.wantCode {
				t.Errorf("Verify: code = %q (%v), want %q", got, err, tt.wantCode)
			}
		})
	}
}

func TestNewLocal(t *testing.T) {
	t.Run("short secret", func(t *testing.T) {
		if _, err := NewLocal(t.TempDir(), []byte("short"), "/media"); err == nil {
			t.Error("NewLocal with a 5-byte secret: err = nil, want an error")
		}
	})
	t.Run("creates the directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b")
		if _, err := NewLocal(dir, testSecret, "/media"); err != nil {
			t.Fatalf("NewLocal: %v", err)
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Errorf("Stat(%s) = %v, %v; want a directory", dir, fi, err)
		}
	})
}
