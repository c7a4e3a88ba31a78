package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"minsheng/internal/auth"
)

func TestSiteRoutes(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.staff(t, "cadre1", auth.RoleCadre, "xinjiekou-yude")
	f.resident(t, "zhang", "13811110000")
	filing := map[string]any{"area": "SQ", "title": "胡同旱厕改造", "description": "旱厕气味大", "community": "xinjiekou-yude",
		"address": "育德胡同", "contact_phone": "13811110000", "public": true}

	t.Run("my cases include one a cadre filed with my phone", func(t *testing.T) {
		var filed struct{ ID string }
		if got := f.call(t, "cadre1", "POST", "/api/v1/cases", filing, &filed); got != http.StatusCreated {
			t.Fatalf("file: status %d", got)
		}
		var mine struct {
			Items []struct{ ID string }
		}
		if got := f.call(t, "zhang", "GET", "/api/v1/me/cases", nil, &mine); got != http.StatusOK {
			t.Fatalf("status %d", got)
		}
		if len(mine.Items) != 1 || mine.Items[0].ID != filed.ID {
			t.Fatalf("items = %+v, want %s", mine.Items, filed.ID)
		}
		if got := f.call(t, "zhang", "GET", "/api/v1/me/cases?status=closed", nil, nil); got != http.StatusBadRequest {
			t.Fatalf("unknown query: status %d, want 400", got)
		}
	})
	t.Run("similar cases by a word, without signing in", func(t *testing.T) {
		var out struct {
			Items []map[string]any
		}
		if got := f.call(t, "", "GET", "/api/v1/public/similar?text=%E6%97%B1%E5%8E%95", nil, &out); got != http.StatusOK {
			t.Fatalf("status %d", got)
		}
		if len(out.Items) != 1 || out.Items[0]["title"] != "胡同旱厕改造" {
			t.Fatalf("items = %v", out.Items)
		}
		if _, leaked := out.Items[0]["location"]; leaked {
			t.Fatal("the preview carries the location")
		}
	})
	t.Run("the board is public, cached by browsers and strict about its query", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "/api/v1/public/board?sub_district=xinjiekou", nil)
		resp, err := f.app.Test(req, 30_000)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=60" {
			t.Fatalf("status %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		for _, q := range []string{"?foo=1", "?fiscal_year=abc", "?sub_district=nowhere"} {
			if got := f.call(t, "", "GET", "/api/v1/public/board"+q, nil, nil); got != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", q, got)
			}
		}
	})
	t.Run("a QR code of the tracking link", func(t *testing.T) {
		var png []byte
		if got := f.call(t, "", "GET", "/api/v1/qr?text=https%3A%2F%2Fexample.org%2Ftrack", nil, &png); got != http.StatusOK {
			t.Fatalf("status %d", got)
		}
		if !strings.HasPrefix(string(png), "\x89PNG") {
			t.Fatal("not a PNG")
		}
		if got := f.call(t, "", "GET", "/api/v1/qr?text=", nil, nil); got != http.StatusBadRequest {
			t.Fatalf("empty text: status %d, want 400", got)
		}
	})
	t.Run("the unauthenticated QR route is rate-limited per address", func(t *testing.T) {
		got := 0
		for i := 0; i < 125 && got != http.StatusTooManyRequests; i++ {
			got = f.call(t, "", "GET", "/api/v1/qr?text=x", nil, nil)
		}
		if got != http.StatusTooManyRequests {
			t.Fatalf("after 125 requests: status %d, want 429", got)
		}
	})
	t.Run("anonymous follow-up through the token", func(t *testing.T) {
		anon := map[string]any{"area": "CG", "title": "大件垃圾堆放", "description": "旧沙发", "community": "xinjiekou-yude", "address": "育德胡同"}
		var filed struct {
			Number        string `json:"number"`
			TrackingToken string `json:"tracking_token"`
			Version       int64  `json:"version"`
		}
		if got := f.call(t, "", "POST", "/api/v1/cases", anon, &filed); got != http.StatusCreated || filed.TrackingToken == "" {
			t.Fatalf("file: status %d, token %q", got, filed.TrackingToken)
		}
		body := map[string]any{"number": filed.Number, "token": "0000", "version": filed.Version, "verdict": "satisfied"}
		if got := f.call(t, "", "POST", "/api/v1/track/verdict", body, nil); got != http.StatusNotFound {
			t.Fatalf("wrong token: status %d, want 404", got)
		}
		body["token"] = filed.TrackingToken
		if got := f.call(t, "", "POST", "/api/v1/track/verdict", body, nil); got != http.StatusConflict {
			t.Fatalf("before completion: status %d, want 409", got)
		}
		body["extra"] = 1
		if got := f.call(t, "", "POST", "/api/v1/track/verdict", body, nil); got != http.StatusBadRequest {
			t.Fatalf("unknown field: status %d, want 400", got)
		}
	})
	t.Run("profile name, then delete my data", func(t *testing.T) {
		var me struct{ Name string }
		if got := f.call(t, "zhang", "PATCH", "/api/v1/me", map[string]any{"name": "张阿姨"}, &me); got != http.StatusOK || me.Name != "张阿姨" {
			t.Fatalf("status %d, name %q", got, me.Name)
		}
		if got := f.call(t, "zhang", "PATCH", "/api/v1/me", map[string]any{"name": "x", "role": "admin"}, nil); got != http.StatusBadRequest {
			t.Fatalf("unknown field: status %d, want 400", got)
		}
		if got := f.call(t, "cadre1", "PATCH", "/api/v1/me", map[string]any{"name": "x"}, nil); got != http.StatusForbidden {
			t.Fatalf("staff renaming themselves: status %d, want 403", got)
		}
		if got := f.call(t, "zhang", "DELETE", "/api/v1/me", nil, nil); got != http.StatusOK {
			t.Fatalf("delete: status %d", got)
		}
		if got := f.call(t, "zhang", "GET", "/api/v1/me", nil, nil); got != http.StatusNotFound {
			t.Fatalf("after deletion /me: status %d, want 404", got)
		}
		var mine struct{ Items []any }
		f.call(t, "zhang", "GET", "/api/v1/me/cases", nil, &mine)
		if len(mine.Items) != 0 {
			t.Fatalf("after deletion %d cases remain linked", len(mine.Items))
		}
	})
}
