package handlers

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"

	"minsheng/internal/httpkit"
)

// openAPI describes /api/v1, /healthz and /readyz (OpenAPI 3.1). A test
// (TestAPIOpenAPIMatchesRoutes) checks it against the routes both ways, so
// a route added without documentation fails the build.
//
//go:embed openapi.json
var openAPI []byte

// openapi serves the document; it takes no query parameters.
func openapi(c *fiber.Ctx) error {
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(openAPI)
}
