// Package static holds the front ends' files, embedded into the binary so
// `go run` serves the real UI with no build step (docs/ARCHITECTURE.md): vendor/ is
// written by vendor.mjs from the npm packages in package.json, lib/ is the
// code the apps share (the API client), site/ the resident site.
package static

import "embed"

// FS is the embedded tree: vendor/<package>@<version>/… and lib/….
//
//go:embed vendor lib m site console
var FS embed.FS
