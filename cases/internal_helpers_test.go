package cases

import (
	"context"
	"testing"

	"minsheng/internal/org"
	"minsheng/internal/store/storetest"
)

// internalService is a service with its indexes on a fresh test store, for
// the tests inside the package.
func internalService(t *testing.T) *Service {
	t.Helper()
	st := storetest.New(t)
	if err := st.EnsureIndexes(context.Background(), Indexes); err != nil {
		t.Fatal(err)
	}
	return NewService(st, org.Xicheng(), nil, Config{Logger: storetest.Logger()})
}
