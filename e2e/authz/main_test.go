// Package authz_test keeps the authorization sweep as a test (issue 21): a
// matrix of every /api/v1 and /mobile/v1 route, read from the router,
// against every role in and out of its scope, on the real services.
package authz_test

import (
	"testing"

	"minsheng/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }
