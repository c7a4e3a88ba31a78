// Package httpkit holds the request rules both HTTP APIs share, so /api/v1
// (package handlers) and /mobile/v1 (package mobileapi) are thin route sets
// on one kit and never import each other (docs/ARCHITECTURE.md, conventions):
//
//   - error rendering: StatusOf, the one code→status map, and RenderError,
//     the {"error":{…}} body every failure gets;
//   - strict JSON decoding (BindJSON);
//   - query rules (RouteQuery, ListQuery, QueryInt, BadQuery, OnlyQuery),
//     paging by internal/page's one rule (QueryPage) and the version a
//     request states it read (RequireVersion);
//   - the Idempotency-Key: the header (IdempotencyKey,
//     RequireIdempotencyKey), the one request hash (RequestHash) and
//     running a request once on internal/idem (Once, SendAnswer);
//   - the principal: Authenticate reads the Bearer token, Principal and
//     OptionalPrincipal give the caller to a handler;
//   - rate limits (Throttle, ThrottleBy, ThrottleSearch) and Retry-After;
//   - RouteGroup, the way an API plugs into the server.
//
// Nothing here knows a route or a domain rule.
package httpkit

import (
	"github.com/gofiber/fiber/v2"

	"minsheng/internal/auth"
	"minsheng/internal/org"
)

// Kit is what the shared middleware and the route groups need from the
// server: the accounts (sign-in, limits) and the organisation directory.
type Kit struct {
	Auth *auth.Service
	Org  *org.Directory
}

// RouteGroup is a part of an API that registers its own routes; domain
// APIs (cases, budget) and the cadre app's /mobile/v1 plug in this way, so
// cmd decides what is served.
type RouteGroup interface {
	Routes(api fiber.Router, k *Kit)
}
