// Package store owns the connection to the database: MongoDB through the
// official driver, or an embedded FerretDB started in the data directory when
// no MONGODB_URI is given. It also guards writes on FerretDB, creates the
// indexes the domain packages declare, and translates driver errors into the
// project's error codes so no caller has to import the driver for that.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"minsheng"
)

// DefaultTimeout bounds a store call whose context carries no deadline, so a
// stuck database never holds a request forever.
const DefaultTimeout = 10 * time.Second

// Config says where the database is. With URI empty, Open starts the
// embedded engine under DataDir.
type Config struct {
	URI      string // MONGODB_URI; empty means embedded FerretDB
	Database string // MONGODB_DB
	DataDir  string // MINSHENG_DATA; the embedded engine keeps its files in DataDir/db
	Logger   *slog.Logger
	// Monitor, when set, sees every command the driver sends (tests count
	// the commands one request issues).
	Monitor *event.CommandMonitor
	// Shared makes a FerretDB store behave as shared with other processes,
	// as a MongoDB store always may be (OneProcess is false): tests set it
	// (MINSHENG_TEST_SHARED=1) to run the code paths of MongoDB's several
	// instances on the embedded engine.
	Shared bool
}

// Store is an open database. It is safe for concurrent use.
type Store struct {
	client   *mongo.Client
	db       *mongo.Database
	ferret   bool
	shared   bool      // Config.Shared
	embedded *Embedded // nil when connected to an external server
	logger   *slog.Logger
	// guard serialises writes on FerretDB; nil on MongoDB.
	guard *sync.Mutex

	localMu sync.Mutex
	local   map[any]any // Local's values
}

// Local returns the value kept under key with this Store, made by mk the
// first time: state that must be one per store in a process however many
// services use it (the cases' locks and the summaries waiting to be
// written). It lives as long as the Store.
func (s *Store) Local(key any, mk func() any) any {
	s.localMu.Lock()
	defer s.localMu.Unlock()
	if v, ok := s.local[key]; ok {
		return v
	}
	if s.local == nil {
		s.local = map[any]any{}
	}
	v := mk()
	s.local[key] = v
	return v
}

// writeGuard is process-wide on purpose: FerretDB v1 applies updateOne and
// findAndModify as read-modify-write without concurrency control (docs/ARCHITECTURE.md,
// defect 1), so two Store values in one process talking to the same engine
// must share one lock, not one each.
var writeGuard sync.Mutex

// Open connects to the configured database, starting the embedded engine if
// needed, and detects which engine answers.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.Database == "" {
		cfg.Database = "minsheng"
	}
	s := &Store{logger: logger, shared: cfg.Shared}
	uri := cfg.URI
	if uri == "" {
		emb, err := StartEmbedded(cfg.DataDir, logger)
		if err != nil {
			return nil, err
		}
		s.embedded = emb
		uri = emb.URI()
	}
	copts := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(15 * time.Second).
		SetTimeout(DefaultTimeout * 3)
	if cfg.Monitor != nil {
		copts.SetMonitor(cfg.Monitor)
	}
	client, err := mongo.Connect(copts)
	if err != nil {
		s.closeEmbedded()
		return nil, fmt.Errorf("store: unable to connect: %w", err)
	}
	s.client = client
	s.db = client.Database(cfg.Database)
	if err := s.detectEngine(ctx); err != nil {
		_ = client.Disconnect(ctx)
		s.closeEmbedded()
		return nil, err
	}
	if s.ferret {
		s.guard = &writeGuard
	}
	return s, nil
}

// detectEngine asks buildInfo which engine this is: FerretDB answers with a
// ferretdbVersion field (its value is "unknown" in the embedded build).
func (s *Store) detectEngine(ctx context.Context) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var info bson.M
	err := s.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info)
	if err != nil {
		return fmt.Errorf("store: unable to read buildInfo: %w", err)
	}
	_, s.ferret = info["ferretdbVersion"]
	return nil
}

// IsFerretDB reports whether the engine is FerretDB, whose defects the
// domain code must respect (no multi-accumulator $group, scans).
func (s *Store) IsFerretDB() bool { return s.ferret }

// OneProcess reports whether this process is the store's only writer, as
// on FerretDB, whose write guard assumes it: per-process state (caches of
// what the store holds, writes made later, counters kept in memory) is
// then safe. False on MongoDB, where several instances may share the
// store, and on a FerretDB store opened with Config.Shared.
func (s *Store) OneProcess() bool { return s.ferret && !s.shared }

// Embedded reports whether this process runs the database itself.
func (s *Store) Embedded() bool { return s.embedded != nil }

// DatabaseName returns the database in use.
func (s *Store) DatabaseName() string { return s.db.Name() }

// Ping checks that the database answers; /readyz uses it.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Drop removes the whole database; tests use it to clean up.
func (s *Store) Drop(ctx context.Context) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	return s.db.Drop(ctx)
}

// Close disconnects and stops the embedded engine, if any.
func (s *Store) Close(ctx context.Context) error {
	err := s.client.Disconnect(ctx)
	s.closeEmbedded()
	if err != nil {
		return fmt.Errorf("store: unable to disconnect: %w", err)
	}
	return nil
}

func (s *Store) closeEmbedded() {
	if s.embedded != nil {
		s.embedded.Stop()
		s.embedded = nil
	}
}

// lock takes the FerretDB write guard; it is a no-op on MongoDB.
func (s *Store) lock() func() {
	if s.guard == nil {
		return func() {}
	}
	s.guard.Lock()
	return s.guard.Unlock
}

func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, DefaultTimeout)
}

// translate maps driver errors onto the project's sentinels at the store's
// edge, keeping the original as the cause for the log.
func translate(action string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("store: %s: %w", action, minsheng.ErrNotFound)
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("store: %s: %w", action, minsheng.ErrDuplicate)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &minsheng.Error{Code: minsheng.EINTERNAL, Message: "数据库繁忙，请稍后重试", Err: fmt.Errorf("store: %s: %w", action, err)}
	default:
		return fmt.Errorf("store: %s: %w", action, err)
	}
}
