package handlers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"minsheng/handlers"
)

func TestMapConfig(t *testing.T) {
	t.Run("no tile source: outline only", func(t *testing.T) {
		a := newTestApp(t)
		var got struct {
			Tiles   *handlers.MapTiles `json:"tiles"`
			Outline struct {
				Name         string `json:"name"`
				Datum        string `json:"datum"`
				Boundary     []struct{ Lat, Lng float64 }
				SubDistricts []struct{ Code, Name string } `json:"sub_districts"`
				Communities  []struct {
					Code, Name, Parent string
					Center             struct{ Lat, Lng float64 }
				} `json:"communities"`
			} `json:"outline"`
		}
		res := a.do(t, "GET", "/api/v1/map", "", nil, &got)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		if got.Tiles != nil {
			t.Errorf("tiles: got %+v, want null", got.Tiles)
		}
		if got.Outline.Name != "西城区" || got.Outline.Datum != "wgs84" || len(got.Outline.Boundary) < 3 ||
			len(got.Outline.SubDistricts) != 15 || len(got.Outline.Communities) < 200 {
			t.Fatalf("outline: got %s %s, %d boundary points, %d sub-districts, %d communities", got.Outline.Name,
				got.Outline.Datum, len(got.Outline.Boundary), len(got.Outline.SubDistricts), len(got.Outline.Communities))
		}
		if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=300" {
			t.Errorf("Cache-Control: got %q", cc)
		}
		etag := res.Header.Get("ETag")
		req := httptest.NewRequest("GET", "/api/v1/map", nil)
		req.Header.Set("If-None-Match", etag)
		again, err := a.app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		if etag == "" || again.StatusCode != http.StatusNotModified {
			t.Errorf("revalidation with ETag %q: got %d, want 304", etag, again.StatusCode)
		}
	})
	t.Run("no personal data or phones", func(t *testing.T) {
		a := newTestApp(t)
		res := a.do(t, "GET", "/api/v1/map", "", nil, nil)
		body, _ := io.ReadAll(res.Body)
		for _, field := range []string{"phone", "population", "010-"} {
			if strings.Contains(string(body), field) {
				t.Errorf("the map config carries %q", field)
			}
		}
	})
	t.Run("tile source", func(t *testing.T) {
		a := newTestAppWith(t, handlers.Config{Map: handlers.MapTiles{URL: "http://127.0.0.1:9/{z}/{x}/{y}.png", Attribution: "测试底图"}})
		var got struct {
			Tiles *handlers.MapTiles `json:"tiles"`
		}
		a.do(t, "GET", "/api/v1/map", "", nil, &got)
		want := handlers.MapTiles{URL: "http://127.0.0.1:9/{z}/{x}/{y}.png", Attribution: "测试底图", Datum: "wgs84"}
		if got.Tiles == nil || *got.Tiles != want {
			t.Fatalf("got %+v, want %+v", got.Tiles, want)
		}
	})
	t.Run("query refused", func(t *testing.T) {
		a := newTestApp(t)
		if res := a.do(t, "GET", "/api/v1/map?x=1", "", nil, nil); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("got %d, want 400", res.StatusCode)
		}
	})
}

// TestPagesAdmitTiles: a map tile from another origin that sends no
// Cross-Origin-Resource-Policy (天地图 does not) is not blocked by the
// pages' embedder policy.
func TestPagesAdmitTiles(t *testing.T) {
	a := newTestApp(t)
	res := a.do(t, "GET", "/healthz", "", nil, nil)
	if got := res.Header.Get("Cross-Origin-Embedder-Policy"); got == "require-corp" {
		t.Fatalf("Cross-Origin-Embedder-Policy: got %q, which blocks other origins' tiles", got)
	}
}
