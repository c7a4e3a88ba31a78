package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"minsheng/internal/httpkit"
	"minsheng/internal/org"
)

// MapTiles is the deployment's tile source for every map of the three
// front ends (MINSHENG_MAP_*). An empty URL means no tiles: the maps draw
// the district's outline and reference points instead (offline default).
type MapTiles struct {
	// URL is a Leaflet URL template with {z} {x} {y} and optionally {s}.
	URL         string `json:"url"`
	Attribution string `json:"attribution"`
	// Datum is the tiles' datum, wgs84 or gcj02: the front ends shift
	// positions into it before drawing (static/lib/datum.js).
	Datum      string `json:"datum"`
	Subdomains string `json:"subdomains,omitempty"`
}

// mapConfig is GET /api/v1/map's answer: the tile source (null without
// one) and the district's outline. Neither holds personal data.
type mapConfig struct {
	Tiles   *MapTiles   `json:"tiles"`
	Outline org.Outline `json:"outline"`
}

// mapRoute serves the maps' configuration, public and cached: it changes
// only with a restart, so the answer is made once and tagged.
func mapRoute(api fiber.Router, tiles MapTiles, dir *org.Directory) {
	if dir == nil {
		return
	}
	out := mapConfig{Outline: dir.Outline()}
	if tiles.URL != "" {
		if tiles.Datum == "" {
			tiles.Datum = org.OutlineDatum
		}
		out.Tiles = &tiles
	}
	body, err := json.Marshal(out)
	if err != nil {
		panic("handlers: map config does not encode: " + err.Error())
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	api.Get("/map", func(c *fiber.Ctx) error {
		if err := httpkit.NoQuery(c); err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
		c.Set(fiber.HeaderETag, etag)
		if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && strings.Contains(inm, etag) {
			return c.SendStatus(fiber.StatusNotModified)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(body)
	})
}
