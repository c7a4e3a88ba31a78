package handlers_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"minsheng/handlers"
	"minsheng/static"
)

func TestStaticFiles(t *testing.T) {
	js := strings.Repeat("export const x = 1;\n", 200)
	files := fstest.MapFS{
		"vendor/vue@3.5.45/dist/vue.esm-browser.prod.js": {Data: []byte(js)},
		"vendor/lib@1.0.0/index.esm.mjs":                 {Data: []byte(js)},
		"lib/api.js":                                     {Data: []byte(js)},
	}
	a := newTestAppWith(t, handlers.Config{Static: files})
	get := func(t *testing.T, path string, header ...string) (int, map[string]string, []byte) {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := a.app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		h := map[string]string{}
		for _, k := range []string{"Content-Type", "Content-Encoding", "Cache-Control", "Etag"} {
			h[k] = res.Header.Get(k)
		}
		return res.StatusCode, h, body
	}

	t.Run("vendored files are immutable and gzipped once", func(t *testing.T) {
		status, h, body := get(t, "/vendor/vue@3.5.45/dist/vue.esm-browser.prod.js", "Accept-Encoding", "gzip")
		if status != 200 || h["Content-Encoding"] != "gzip" || !strings.Contains(h["Cache-Control"], "immutable") {
			t.Fatalf("got %d %v, want 200 gzip immutable", status, h)
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		if string(plain) != js {
			t.Fatalf("gunzipped body differs from the file (%d vs %d bytes)", len(plain), len(js))
		}
		if !strings.HasPrefix(h["Content-Type"], "text/javascript") {
			t.Fatalf("Content-Type = %q, want text/javascript", h["Content-Type"])
		}
	})
	t.Run(".mjs is a JavaScript module", func(t *testing.T) {
		_, h, body := get(t, "/vendor/lib@1.0.0/index.esm.mjs")
		if !strings.HasPrefix(h["Content-Type"], "text/javascript") || string(body) != js {
			t.Fatalf("Content-Type = %q, %d bytes; want text/javascript and the file", h["Content-Type"], len(body))
		}
	})
	t.Run("app code revalidates with its ETag", func(t *testing.T) {
		status, h, _ := get(t, "/lib/api.js")
		if status != 200 || h["Cache-Control"] != "no-cache" || h["Etag"] == "" {
			t.Fatalf("got %d %v, want 200 no-cache with an ETag", status, h)
		}
		if status, _, _ := get(t, "/lib/api.js", "If-None-Match", h["Etag"]); status != 304 {
			t.Fatalf("revalidation got %d, want 304", status)
		}
	})
	for _, path := range []string{"/vendor/missing.js", "/vendor/../lib/api.js", "/lib/", "/vendor/%2e%2e/lib/api.js"} {
		t.Run("404 "+path, func(t *testing.T) {
			status, h, body := get(t, path)
			if status != 404 || !strings.Contains(string(body), `"code":"not_found"`) {
				t.Fatalf("got %d %v %s, want 404 in the error shape", status, h, body)
			}
		})
	}
}

// The committed vendor tree is what the browser loads: every package in
// versions.json is there and the two packages that contain
// process.env.NODE_ENV upstream were patched (docs/ARCHITECTURE.md).
func TestEmbeddedVendorTree(t *testing.T) {
	versions, err := fs.ReadFile(static.FS, "vendor/versions.json")
	if err != nil {
		t.Fatalf("vendor/versions.json: %v (run node static/vendor.mjs)", err)
	}
	for _, name := range []string{"vue", "vant", "@vant/use", "@vant/popperjs", "@vue/shared", "element-plus", "echarts", "vue-router", "idb-keyval", "compressorjs"} {
		if !strings.Contains(string(versions), `"`+name+`"`) {
			t.Errorf("versions.json lacks %s", name)
		}
	}
	err = fs.WalkDir(static.FS, "vendor", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".mjs")) {
			return err
		}
		if !strings.Contains(p, "element-plus") { // guards with typeof process
			b, _ := fs.ReadFile(static.FS, p)
			if bytes.Contains(b, []byte("process.env")) {
				t.Errorf("%s still contains process.env", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
