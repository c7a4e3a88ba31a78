package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
)

// App is one front end: the URL prefix it owns and its directory in the
// embedded tree. Its index.html carries the marker <!--importmap-->, which
// the server replaces with the one import map every app shares
// (lib/importmap.json), so a library version changes in one place.
type App struct {
	Prefix string // "/", "/m/", "/console/"
	Dir    string // "site", "m", "console"
}

// apiPrefixes are never pages: an unknown path under them is the API's
// JSON 404, not an app's index.html.
var apiPrefixes = []string{"/api/", "/mobile/", "/open311/", "/vendor/", "/lib/", "/metrics", "/healthz", "/readyz"}

// pages serves the apps: their own files (revalidated) and, for every
// other path under a prefix, index.html (client-side routes), with a CSP
// that admits exactly the inline import map by its hash.
type pages struct {
	files  fs.FS
	apps   []App // longest prefix first
	assets map[string]*assets
	demo   bool

	once    sync.Once
	mapTag  []byte
	csp     string
	indexes map[string][]byte
	err     error
}

func newPages(files fs.FS, apps []App, demo bool) *pages {
	p := &pages{files: files, demo: demo, assets: map[string]*assets{}, indexes: map[string][]byte{}}
	for _, a := range apps {
		if sub, err := fs.Sub(files, a.Dir); err == nil {
			p.assets[a.Dir] = newAssets(sub, "no-cache")
		}
		p.apps = append(p.apps, a)
	}
	// "/m/" must win over "/".
	for i := range p.apps {
		for j := i + 1; j < len(p.apps); j++ {
			if len(p.apps[j].Prefix) > len(p.apps[i].Prefix) {
				p.apps[i], p.apps[j] = p.apps[j], p.apps[i]
			}
		}
	}
	return p
}

// prepare reads the import map and every index.html once.
func (p *pages) prepare() {
	raw, err := fs.ReadFile(p.files, "lib/importmap.json")
	if err != nil {
		p.err = err
		return
	}
	raw = bytes.TrimSpace(raw)
	sum := sha256.Sum256(raw)
	p.mapTag = append(append([]byte(`<script type="importmap">`), raw...), []byte(`</script>`)...)
	// 'unsafe-eval': Vue's browser build compiles the apps' templates at
	// run time (there is no build step); scripts still load only from
	// this origin, and the one inline script is the import map's hash.
	p.csp = "default-src 'self'; script-src 'self' 'unsafe-eval' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: http: https:; font-src 'self' data:; connect-src 'self'; " +
		"worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
	for _, a := range p.apps {
		html, err := fs.ReadFile(p.files, path.Join(a.Dir, "index.html"))
		if err != nil {
			continue
		}
		html = bytes.Replace(html, []byte("<!--importmap-->"), p.mapTag, 1)
		if p.demo {
			html = bytes.Replace(html, []byte("<html"), []byte(`<html data-demo="1"`), 1)
			html = bytes.Replace(html, []byte("</head>"), []byte(demoRibbon+"</head>"), 1)
		}
		p.indexes[a.Dir] = html
	}
}

func (p *pages) serve(c *fiber.Ctx) error {
	urlPath := c.Path()
	for _, pre := range apiPrefixes {
		if strings.HasPrefix(urlPath, pre) {
			return c.Next()
		}
	}
	p.once.Do(p.prepare)
	if p.err != nil {
		return p.err
	}
	for _, a := range p.apps {
		if urlPath+"/" == a.Prefix {
			return c.Redirect(a.Prefix, fiber.StatusMovedPermanently)
		}
		if !strings.HasPrefix(urlPath, a.Prefix) {
			continue
		}
		rest := strings.TrimPrefix(urlPath, a.Prefix)
		if rest != "" && rest != "index.html" && path.Ext(rest) != "" {
			// A file of the app (module, style, icon, manifest, worker);
			// a missing one is a 404, never the index page.
			return p.assets[a.Dir].serveName(c, rest)
		}
		html, ok := p.indexes[a.Dir]
		if !ok {
			return c.Next()
		}
		c.Set(fiber.HeaderContentSecurityPolicy, p.csp)
		c.Set(fiber.HeaderCacheControl, "no-cache")
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(html)
	}
	return c.Next()
}

// demoRibbon marks every page of a demo server (serve --demo), whatever
// the app draws, so nobody mistakes the demo district for production.
// It is a thin strip above the page, which moves down by its height, so
// it covers none of the app's own controls.
const demoRibbon = `<style>html[data-demo="1"] body{margin-top:0;padding-top:18px}` +
	`html[data-demo="1"] .van-nav-bar--fixed{top:18px}` +
	`html[data-demo="1"] body::after{content:"演示数据 · 非正式环境";position:fixed;z-index:2147483647;` +
	`left:0;right:0;top:0;height:18px;font:12px/18px sans-serif;text-align:center;color:#fff;background:#e65a00;` +
	`pointer-events:none}</style>`

// mountApps serves the front ends; call it after every API route.
func mountApps(app *fiber.App, files fs.FS, apps []App, demo bool) {
	p := newPages(files, apps, demo)
	app.Get("/*", p.serve)
}
