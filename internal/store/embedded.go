package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"syscall"

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
	lock   *os.File
}

// ErrDataDirInUse is returned when another process (a running `minsheng
// serve`, say) holds the data directory's lock. One process per data
// directory: two engines on one set of SQLite files would lose updates,
// and a `check` beside a live server would repair what the server is
// still writing.
var ErrDataDirInUse = errors.New("数据目录正被另一个 minsheng 进程使用（例如正在运行的 serve）；请先停止该进程再运行此命令 / data directory in use by another minsheng process")

// lockFile is the name of the lock file in the data directory; the lock is
// an flock(2), released by the kernel when the process ends, even by SIGKILL.
const lockFile = "minsheng.lock"

// lockDataDir takes the data directory's exclusive lock without waiting.
func lockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: unable to open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("store: %s: %w", dir, ErrDataDirInUse)
		}
		return nil, fmt.Errorf("store: unable to lock data dir: %w", err)
	}
	// The holder's pid, for a person looking at the directory.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
	return f, nil
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
	lock, err := lockDataDir(abs)
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			lock.Close()
		}
	}()
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
	e := &Embedded{cancel: cancel, done: make(chan struct{}), lock: lock}
	started = true
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

// Stop shuts the engine down, waits for it to close its files and
// releases the data directory.
func (e *Embedded) Stop() {
	e.cancel()
	<-e.done
	if e.lock != nil {
		e.lock.Close()
	}
}
