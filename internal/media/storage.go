// Package media stores photo blobs and turns uploaded photos into the
// images the platform serves.
//
// Storage has two backends behind one small interface: a local directory
// (the default, for pilots on one machine) and S3 through minio-go (MinIO
// in production). Process is the upload pipeline: it checks the bytes,
// decodes them, applies the EXIF orientation, reads the GPS position and
// re-encodes, so no EXIF (GPS, device) ever reaches a browser.
package media

import (
	"context"
	"io"
	"mime"
	"path"
	"strings"
	"time"

	"minsheng"
)

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// Storage keeps blobs under slash-separated keys such as
// "cases/<id>/<uuid>.jpg".
//
// Errors, for every method:
//   - a key that is empty, absolute, contains "..", a segment starting with
//     ".", or a character outside [a-zA-Z0-9/_.-] → *minsheng.Error EINVALID;
//   - a missing key → an error wrapping minsheng.ErrNotFound (ENOTFOUND)
//     from Open and Stat; Delete of a missing key succeeds, because deletes
//     are retried by cleanup jobs and S3 deletes are idempotent anyway;
//   - Save: a content type that contradicts the key's extension, or a
//     reader that yields a different number of bytes than size → EINVALID;
//   - URL: a ttl outside (0, 7 days] → EINVALID (7 days is S3's presign
//     limit);
//   - anything else (disk, network, S3 server) → a plain wrapped error,
//     which minsheng.ErrorCode reports as EINTERNAL.
type Storage interface {
	// Save stores r under key, replacing any previous object. size is the
	// exact number of bytes r yields, or -1 when unknown. Readers never see
	// a half-written object.
	Save(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open returns the object's content and its Info. The caller closes it.
	Open(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat returns the object's Info.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object; a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// URL returns a short-lived URL through which a browser can GET the
	// object without credentials. It does not check that the object exists.
	URL(ctx context.Context, key string, ttl time.Duration) (string, error)
}

const (
	maxKeyLen = 512
	// maxURLTTL matches the longest expiry S3 accepts for a presigned URL,
	// so both backends refuse the same values.
	maxURLTTL = 7 * 24 * time.Hour
	// defaultContentType is what a key with an unknown extension is served as.
	defaultContentType = "application/octet-stream"
)

// ValidateKey reports whether key is acceptable to every backend: the same
// key must mean the same object on a local disk and in a bucket, and must
// never escape the storage root.
func ValidateKey(key string) error {
	bad := func(why string) error {
		return &minsheng.Error{Code: minsheng.EINVALID, Message: "文件路径无效", Err: errBadKey{key: key, why: why}}
	}
	if key == "" {
		return bad("empty")
	}
	if len(key) > maxKeyLen {
		return bad("too long")
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '/' || c == '_' || c == '.' || c == '-') {
			return bad("character outside [a-zA-Z0-9/_.-]")
		}
	}
	if strings.Contains(key, "..") {
		return bad(`contains ".."`)
	}
	for seg := range strings.SplitSeq(key, "/") {
		// An empty segment is a leading "/" (absolute), a trailing "/" or
		// "//"; S3 would keep them, a file system would collapse them. A
		// leading "." also covers "." and hides the local backend's temp
		// files from any key.
		if seg == "" {
			return bad("empty or absolute path segment")
		}
		if seg[0] == '.' {
			return bad(`segment starts with "."`)
		}
	}
	return nil
}

type errBadKey struct{ key, why string }

func (e errBadKey) Error() string { return "media: bad key " + quote(e.key) + ": " + e.why }

// quote keeps a hostile key from forging log lines.
func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return "\"" + strings.ToValidUTF8(strings.NewReplacer("\n", `\n`, "\r", `\r`, "\"", `\"`).Replace(s), "?") + "\""
}

// contentTypeFor decides the content type an object is stored with. The
// local backend can only serve a file by its extension, so a declared type
// must agree with the extension; otherwise the two backends would serve the
// same upload differently.
func contentTypeFor(key, declared string) (string, error) {
	byExt := mime.TypeByExtension(path.Ext(key))
	if declared == "" {
		if byExt == "" {
			return defaultContentType, nil
		}
		return byExt, nil
	}
	d, _, err := mime.ParseMediaType(declared)
	if err != nil {
		return "", &minsheng.Error{Code: minsheng.EINVALID, Message: "文件类型无效", Err: err}
	}
	if byExt != "" {
		e, _, _ := mime.ParseMediaType(byExt)
		if e != d {
			return "", minsheng.Errorf(minsheng.EINVALID, "文件类型与扩展名不符")
		}
	}
	return declared, nil
}

// localContentType is the type the local backend serves key with.
func localContentType(key string) string {
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return defaultContentType
}

func checkTTL(ttl time.Duration) error {
	if ttl <= 0 || ttl > maxURLTTL {
		return minsheng.Errorf(minsheng.EINVALID, "链接有效期必须在 7 天以内")
	}
	return nil
}

// ctxReader stops a long copy once the request that started it is gone.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
