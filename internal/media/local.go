package media

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"minsheng"
)

const (
	dirPerm  = 0o750
	filePerm = 0o640
	// minSecretLen keeps a forgotten or placeholder secret from making
	// every signed URL guessable.
	minSecretLen = 16
)

// Local stores objects as files under one directory. Browsers reach them
// through URLs signed with an HMAC secret, which the HTTP layer checks with
// Verify before it serves the file with Open.
type Local struct {
	dir       string
	secret    []byte
	urlPrefix string
}

var _ Storage = (*Local)(nil)

// NewLocal returns a Local storing under dir (created with mode 0750 if
// missing). secret signs URLs and must be at least 16 bytes; urlPrefix is
// where the HTTP layer serves files, such as "/media" or
// "https://example.org/media".
func NewLocal(dir string, secret []byte, urlPrefix string) (*Local, error) {
	if len(secret) < minSecretLen {
		return nil, fmt.Errorf("media: URL signing secret must be at least %d bytes, got %d", minSecretLen, len(secret))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("media: unable to resolve storage directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, dirPerm); err != nil {
		return nil, fmt.Errorf("media: unable to create storage directory %s: %w", abs, err)
	}
	return &Local{
		dir:       abs,
		secret:    append([]byte(nil), secret...),
		urlPrefix: strings.TrimRight(urlPrefix, "/"),
	}, nil
}

// path maps a validated key to its file. ValidateKey has already ruled out
// "..", absolute keys and backslashes, so the result stays under l.dir.
func (l *Local) path(key string) string {
	return filepath.Join(l.dir, filepath.FromSlash(key))
}

// Save writes to a temp file beside the target and renames it into place,
// so a reader sees the old object or the new one, never a torn write, and a
// crash leaves at most a hidden temp file that no key can name.
func (l *Local) Save(ctx context.Context, key string, r io.Reader, size int64, contentType string) (err error) {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if _, err := contentTypeFor(key, contentType); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("media: unable to save %s: %w", key, err)
	}
	dst := l.path(key)
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return fmt.Errorf("media: unable to save %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("media: unable to save %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	src := io.Reader(ctxReader{ctx: ctx, r: r})
	if size >= 0 {
		// One byte more than announced tells a lying size from a short one.
		src = io.LimitReader(src, size+1)
	}
	n, err := io.Copy(tmp, src)
	if err != nil {
		return fmt.Errorf("media: unable to save %s: %w", key, err)
	}
	if size >= 0 && n != size {
		return &minsheng.Error{Code: minsheng.EINVALID, Message: "上传的文件不完整",
			Err: fmt.Errorf("media: unable to save %s: got %d bytes, want %d", key, n, size)}
	}
	if err := tmp.Chmod(filePerm); err != nil {
		return fmt.Errorf("media: unable to save %s: %w", key, err)
	}
	// Sync before rename: otherwise a power cut can leave the new name
	// pointing at an empty file.
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("media: unable to save %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("media: unable to save %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("media: unable to save %s: %w", key, err)
	}
	// Make the rename itself durable. Failing here is not fatal: the data
	// is written and visible, only its durability across a crash is not
	// yet certain.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Open opens the file behind key.
func (l *Local) Open(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, Info{}, fmt.Errorf("media: unable to open %s: %w", key, err)
	}
	f, err := os.Open(l.path(key))
	if err != nil {
		return nil, Info{}, l.translate("open", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, fmt.Errorf("media: unable to open %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		// A key naming a directory ("cases/42") is not an object.
		f.Close()
		return nil, Info{}, fmt.Errorf("media: unable to open %s: %w", key, minsheng.ErrNotFound)
	}
	return f, l.info(key, fi), nil
}

// Stat describes the file behind key.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, fmt.Errorf("media: unable to stat %s: %w", key, err)
	}
	fi, err := os.Stat(l.path(key))
	if err != nil {
		return Info{}, l.translate("stat", key, err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("media: unable to stat %s: %w", key, minsheng.ErrNotFound)
	}
	return l.info(key, fi), nil
}

// Delete removes the file behind key. Emptied directories are left in
// place: removing them would race with a Save into the same case.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("media: unable to delete %s: %w", key, err)
	}
	p := l.path(key)
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("media: unable to delete %s: %w", key, err)
	}
	if fi.IsDir() {
		// Never let an object key remove a directory of other objects.
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("media: unable to delete %s: %w", key, err)
	}
	return nil
}

// URL returns <urlPrefix>/<key>?exp=<unix seconds>&sig=<hex HMAC-SHA256 of
// key+"|"+exp>. Keys contain only URL-safe characters, so no escaping is
// needed.
func (l *Local) URL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if err := checkTTL(ttl); err != nil {
		return "", err
	}
	exp := strconv.FormatInt(time.Now().Add(ttl).Unix(), 10)
	return l.urlPrefix + "/" + key + "?exp=" + exp + "&sig=" + hex.EncodeToString(l.sign(key, exp)), nil
}

// Verify checks a URL made by URL: key is the path after the prefix, exp and
// sig the query parameters. It returns an EFORBIDDEN *minsheng.Error when
// the signature is wrong or the link expired at now.
func (l *Local) Verify(key, exp, sig string, now time.Time) error {
	got, err := hex.DecodeString(sig)
	// Compare in constant time so response timing cannot be used to guess
	// a signature byte by byte.
	if err != nil || !hmac.Equal(got, l.sign(key, exp)) {
		return minsheng.Errorf(minsheng.EFORBIDDEN, "链接无效")
	}
	// The signature covers exp, so it can be trusted from here on.
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return minsheng.Errorf(minsheng.EFORBIDDEN, "链接无效")
	}
	if now.Unix() > e {
		return minsheng.Errorf(minsheng.EFORBIDDEN, "链接已过期，请刷新页面")
	}
	return nil
}

func (l *Local) sign(key, exp string) []byte {
	m := hmac.New(sha256.New, l.secret)
	m.Write([]byte(key + "|" + exp))
	return m.Sum(nil)
}

func (l *Local) info(key string, fi fs.FileInfo) Info {
	return Info{Key: key, Size: fi.Size(), ContentType: localContentType(key), ModTime: fi.ModTime().UTC()}
}

// translate turns "no such file" into ErrNotFound. ENOTDIR counts too: it
// is what a key like "a.jpg/b.jpg" gets when a.jpg is a file.
func (l *Local) translate(action, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("media: unable to %s %s: %w", action, key, minsheng.ErrNotFound)
	}
	return fmt.Errorf("media: unable to %s %s: %w", action, key, err)
}
