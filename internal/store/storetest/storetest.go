// Package storetest runs one embedded FerretDB per test package and hands
// each test a fresh database on it, dropped when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"

	"minsheng/internal/store"
)

var uri string

// Main starts the package's engine, runs its tests and stops the engine.
// Call it from TestMain. With MINSHENG_TEST_MONGODB_URI set, tests run
// against that server instead (a real MongoDB, for instance). With
// MINSHENG_TEST_SHARED=1 the stores of New behave as shared with other
// processes (store.Config.Shared): the embedded engine then runs the code
// paths of MongoDB's several instances.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if External() {
		uri = os.Getenv("MINSHENG_TEST_MONGODB_URI")
		return m.Run()
	}
	// Short path: the socket must fit in sun_path.
	dir, err := os.MkdirTemp("", "mstest")
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	emb, err := store.StartEmbedded(dir, Logger())
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	defer emb.Stop()
	uri = emb.URI()
	return m.Run()
}

// External reports whether the tests run against a server named by
// MINSHENG_TEST_MONGODB_URI rather than the embedded engine in this process.
func External() bool { return os.Getenv("MINSHENG_TEST_MONGODB_URI") != "" }

// Shared reports whether MINSHENG_TEST_SHARED=1 asks the tests' stores to
// behave as shared with other processes; a test opening a store of its own
// on the tests' engine passes it as store.Config.Shared.
func Shared() bool { return os.Getenv("MINSHENG_TEST_SHARED") == "1" }

// New returns a Store on a new, empty database.
func New(tb testing.TB) *store.Store {
	tb.Helper()
	if uri == "" {
		tb.Fatal("storetest: call storetest.Main from TestMain")
	}
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{URI: uri, Database: "t_" + randomHex(6), Logger: Logger(), Shared: Shared()})
	if err != nil {
		tb.Fatalf("storetest: open: %v", err)
	}
	tb.Cleanup(func() {
		_ = s.Drop(ctx)
		_ = s.Close(ctx)
	})
	return s
}

// URI returns the engine's connection string, for tests that open their
// own Store (a restart after a simulated crash, say).
func URI() string { return uri }

// Logger returns a logger that stays quiet unless MINSHENG_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("MINSHENG_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
