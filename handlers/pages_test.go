package handlers_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"minsheng/handlers"
)

func TestAppPages(t *testing.T) {
	importMap := `{"imports":{"vue":"/vendor/vue@3.5.45/dist/vue.esm-browser.prod.js"}}`
	files := fstest.MapFS{
		"lib/importmap.json":     {Data: []byte(importMap + "\n")},
		"site/index.html":        {Data: []byte(`<html lang="zh-CN"><head><!--importmap--></head><body>居民</body></html>`)},
		"m/index.html":           {Data: []byte(`<html lang="zh-CN"><head><!--importmap--></head><body>干部</body></html>`)},
		"m/app.js":               {Data: []byte(`export const app = 1;`)},
		"m/manifest.webmanifest": {Data: []byte(`{"name":"民生"}`)},
	}
	a := newTestAppWith(t, handlers.Config{Static: files, Apps: []handlers.App{{Prefix: "/", Dir: "site"}, {Prefix: "/m/", Dir: "m"}}})
	get := func(t *testing.T, method, path string) (int, map[string]string, string) {
		t.Helper()
		res, err := a.app.Test(httptest.NewRequest(method, path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		h := map[string]string{}
		for _, k := range []string{"Content-Type", "Content-Security-Policy", "Cache-Control", "Location"} {
			h[k] = res.Header.Get(k)
		}
		return res.StatusCode, h, string(body)
	}
	sum := sha256.Sum256([]byte(importMap))
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"

	for _, tc := range []struct{ path, want string }{
		{"/", "居民"}, {"/my/cases", "居民"}, {"/m/", "干部"}, {"/m/cases/XC2026-000001", "干部"},
	} {
		t.Run("page "+tc.path, func(t *testing.T) {
			status, h, body := get(t, "GET", tc.path)
			if status != 200 || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %q, want 200 with %q", status, body, tc.want)
			}
			if !strings.Contains(body, `<script type="importmap">`+importMap+`</script>`) {
				t.Fatalf("import map not injected: %s", body)
			}
			if !strings.Contains(h["Content-Security-Policy"], hash) {
				t.Fatalf("CSP %q lacks the import map's hash %s", h["Content-Security-Policy"], hash)
			}
			if strings.Contains(h["Content-Security-Policy"], "script-src 'self' 'unsafe-inline'") {
				t.Fatalf("CSP admits every inline script: %q", h["Content-Security-Policy"])
			}
			if h["Cache-Control"] != "no-cache" || !strings.HasPrefix(h["Content-Type"], "text/html") {
				t.Fatalf("headers %v, want no-cache text/html", h)
			}
		})
	}
	t.Run("an app's own files", func(t *testing.T) {
		status, h, body := get(t, "GET", "/m/app.js")
		if status != 200 || body != `export const app = 1;` || !strings.HasPrefix(h["Content-Type"], "text/javascript") {
			t.Fatalf("got %d %v %q", status, h, body)
		}
		if _, h, _ := get(t, "GET", "/m/manifest.webmanifest"); h["Content-Type"] != "application/manifest+json" {
			t.Fatalf("manifest Content-Type %q", h["Content-Type"])
		}
	})
	t.Run("a demo server marks every page", func(t *testing.T) {
		d := newTestAppWith(t, handlers.Config{Static: files, Demo: true, Apps: []handlers.App{{Prefix: "/", Dir: "site"}}})
		res, err := d.app.Test(httptest.NewRequest("GET", "/", nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		if res.Header.Get("X-Minsheng-Demo") != "1" || !strings.Contains(string(body), `data-demo="1"`) || !strings.Contains(string(body), "演示数据") {
			t.Fatalf("demo page: header %q, body %s", res.Header.Get("X-Minsheng-Demo"), body)
		}
		if _, h, body := get(t, "GET", "/"); h["Content-Type"] == "" || strings.Contains(body, "演示数据") {
			t.Fatalf("a real server's page says demo: %s", body)
		}
	})
	t.Run("/m redirects to /m/", func(t *testing.T) {
		if status, h, _ := get(t, "GET", "/m"); status != 301 || h["Location"] != "/m/" {
			t.Fatalf("got %d %v, want 301 to /m/", status, h)
		}
	})
	for _, tc := range []struct{ method, path string }{
		{"GET", "/m/missing.js"}, {"GET", "/api/v1/nothing"}, {"GET", "/mobile/v1/nothing"}, {"POST", "/"},
	} {
		t.Run("404 "+tc.method+" "+tc.path, func(t *testing.T) {
			status, _, body := get(t, tc.method, tc.path)
			if status != 404 || !strings.Contains(body, `"not_found"`) {
				t.Fatalf("got %d %q, want the JSON 404", status, body)
			}
		})
	}
}
