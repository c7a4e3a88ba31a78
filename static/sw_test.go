package static

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestServiceWorkerShell: the cadre app's service worker lists every file
// of the app (a module left out would be missing offline) and nothing
// that does not exist.
func TestServiceWorkerShell(t *testing.T) {
	sw, err := fs.ReadFile(FS, "m/sw.js")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`'(/(?:m|lib|vendor)/[^']*)'`).FindAllStringSubmatch(string(sw), -1) {
		if strings.HasSuffix(m[1], "/") && m[1] != "/m/" {
			continue // a prefix in the code, not a file
		}
		listed[m[1]] = true
	}
	err = fs.WalkDir(FS, "m", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "m/sw.js" || p == "m/icons/icon-512.png" {
			return err
		}
		url := "/" + p
		if p == "m/index.html" {
			url = "/m/"
		}
		if !listed[url] {
			t.Errorf("%s is not in the service worker's SHELL", url)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for url := range listed {
		name := strings.TrimPrefix(url, "/")
		if url == "/m/" {
			name = "m/index.html"
		}
		if _, err := fs.Stat(FS, name); err != nil {
			t.Errorf("SHELL lists %s, which is not embedded", url)
		}
	}
}
