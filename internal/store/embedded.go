package store

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// maxUnixPath is the portable limit of a Unix socket path (sun_path is 108
// bytes on Linux, 104 on macOS, including the terminating NUL).
const maxUnixPath = 100

// Embedded is a FerretDB engine running inside this process on SQLite files.
type Embedded struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// StartEmbedded starts FerretDB with the SQLite handler on dataDir/db. It has
// no authentication, so it listens on a Unix socket inside dataDir (made
// 0700) where other local users cannot reach it; only when that path is too
// long for a socket does it fall back to a loopback port, and says so.
func StartEmbedded(dataDir string, logger *slog.Logger) (*Embedded, error) {
	if dataDir == "" {
		dataDir = "."
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("store: unable to resolve data dir: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("store: unable to create data dir: %w", err)
	}
	// MkdirAll leaves an existing directory's mode alone; the socket's safety
	// depends on this one being private.
	if err := os.Chmod(abs, 0o700); err != nil {
		return nil, fmt.Errorf("store: unable to protect data dir: %w", err)
	}
	dbDir := filepath.Join(abs, "db")
	if err := os.MkdirAll(dbDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: unable to create db dir: %w", err)
	}

	listener := ferretdb.ListenerConfig{}
	socket := filepath.Join(abs, "ferretdb.sock")
	if len(socket) <= maxUnixPath {
		// A socket left by a killed process would make the listen fail.
		_ = os.Remove(socket)
		listener.Unix = socket
	} else {
		logger.Warn("data dir path too long for a Unix socket; embedded database listens on a loopback port instead, reachable by other local users",
			"socket", socket)
		listener.TCP = "127.0.0.1:0"
	}

	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  listener,
		Logger:    quiet,
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Opaque: dbDir + "/"}).String(),
	})
	if err != nil {
		return nil, fmt.Errorf("store: unable to start embedded FerretDB: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Embedded{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = f.Run(ctx)
	}()
	// MongoDBURI blocks until the listener is up.
	uri := f.MongoDBURI()
	if listener.Unix != "" {
		// The driver wants the socket path percent-encoded in the host part.
		uri = "mongodb://" + url.PathEscape(socket) + "/"
	}
	e.uri = uri
	logger.Info("embedded FerretDB started", "dir", dbDir, "listen", listenerName(listener))
	return e, nil
}

func listenerName(l ferretdb.ListenerConfig) string {
	if l.Unix != "" {
		return "unix:" + l.Unix
	}
	return "tcp:" + l.TCP
}

// URI returns the connection string of the running engine.
func (e *Embedded) URI() string { return e.uri }

// Stop shuts the engine down and waits for it to close its files.
func (e *Embedded) Stop() {
	e.cancel()
	<-e.done
}
