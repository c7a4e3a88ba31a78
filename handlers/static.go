package handlers

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
)

func init() {
	// Go's table lacks these; a wrong type makes browsers refuse a module
	// or the app manifest.
	_ = mime.AddExtensionType(".mjs", "text/javascript; charset=utf-8")
	_ = mime.AddExtensionType(".webmanifest", "application/manifest+json")
}

// asset is one embedded file ready to send: go:embed stores files
// uncompressed, so each is gzipped once, on first request, and kept.
type asset struct {
	body  []byte
	gz    []byte // nil when gzip would not make it smaller
	etag  string
	ctype string
}

// assets serves files of an fs.FS under a URL prefix with one cache policy.
type assets struct {
	files fs.FS
	// cache is the Cache-Control of every answer: vendored files live at
	// versioned paths and never change, the apps' own files revalidate.
	cache string
	mu    sync.Mutex
	ready map[string]*asset
}

func newAssets(files fs.FS, cache string) *assets {
	return &assets{files: files, cache: cache, ready: map[string]*asset{}}
}

func (a *assets) load(name string) (*asset, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if x, ok := a.ready[name]; ok {
		return x, nil
	}
	body, err := fs.ReadFile(a.files, name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	x := &asset{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: mime.TypeByExtension(path.Ext(name))}
	if x.ctype == "" {
		x.ctype = "application/octet-stream"
	}
	if compressible(x.ctype) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		if buf.Len() < len(body) {
			x.gz = buf.Bytes()
		}
	}
	a.ready[name] = x
	return x, nil
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

// serve answers GET/HEAD for the file named by the route's wildcard; a
// missing file is the API's 404 error shape.
func (a *assets) serve(c *fiber.Ctx) error {
	return a.serveName(c, c.Params("*"))
}

// serveName answers with the named file of the tree.
func (a *assets) serveName(c *fiber.Ctx, name string) error {
	if a == nil {
		return fiber.ErrNotFound
	}
	name = path.Clean(name)
	if name == "." || strings.HasPrefix(name, "..") || strings.HasPrefix(name, "/") {
		return fiber.ErrNotFound
	}
	x, err := a.load(name)
	if err != nil {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderCacheControl, a.cache)
	c.Set(fiber.HeaderETag, x.etag)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderContentType, x.ctype)
	if c.Get(fiber.HeaderIfNoneMatch) == x.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	if x.gz != nil && strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(x.gz)
	}
	return c.Send(x.body)
}

// mountStatic serves the embedded front-end files: /vendor/ for a year
// (versioned paths), /lib/ revalidated on every load.
func mountStatic(app *fiber.App, files fs.FS) {
	if sub, err := fs.Sub(files, "vendor"); err == nil {
		app.Get("/vendor/*", newAssets(sub, "public, max-age=31536000, immutable").serve)
	}
	if sub, err := fs.Sub(files, "lib"); err == nil {
		app.Get("/lib/*", newAssets(sub, "no-cache").serve)
	}
}
