package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"minsheng/internal/store"
)

// Commands records the commands a Store from NewCounted sends, so a test
// can pin how many store commands one request issues (a count, never a
// time: times are only logged).
type Commands struct {
	mu      sync.Mutex
	on      bool
	started map[int64]string
	list    []Command
}

// Command is one command sent: its name and collection, as "update
// cases", and how long the engine took to answer it.
type Command struct {
	Name string
	Took time.Duration
}

// NewCounted returns a Store on a new, empty database whose commands are
// recorded between Start and Stop.
func NewCounted(tb testing.TB) (*store.Store, *Commands) {
	tb.Helper()
	if uri == "" {
		tb.Fatal("storetest: call storetest.Main from TestMain")
	}
	c := &Commands{started: map[int64]string{}}
	mon := &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			name := e.CommandName
			if v, err := e.Command.LookupErr(e.CommandName); err == nil {
				if coll, ok := v.StringValueOK(); ok {
					name += " " + coll
				}
			}
			c.mu.Lock()
			if c.on {
				c.started[e.RequestID] = name
			}
			c.mu.Unlock()
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) { c.done(e.RequestID, e.Duration) },
		Failed:    func(_ context.Context, e *event.CommandFailedEvent) { c.done(e.RequestID, e.Duration) },
	}
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{URI: uri, Database: "t_" + randomHex(6), Logger: Logger(), Monitor: mon, Shared: Shared()})
	if err != nil {
		tb.Fatalf("storetest: open: %v", err)
	}
	tb.Cleanup(func() {
		_ = s.Drop(ctx)
		_ = s.Close(ctx)
	})
	return s, c
}

func (c *Commands) done(id int64, took time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if name, ok := c.started[id]; ok {
		delete(c.started, id)
		c.list = append(c.list, Command{Name: name, Took: took})
	}
}

// Start forgets what was recorded and records from now on.
func (c *Commands) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on, c.list, c.started = true, nil, map[int64]string{}
}

// Stop stops recording and returns the commands recorded since Start.
func (c *Commands) Stop() []Command {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = false
	return append([]Command(nil), c.list...)
}

// Describe lists commands one a line, for a test's log.
func Describe(cmds []Command) string {
	var b strings.Builder
	var total time.Duration
	for i, x := range cmds {
		fmt.Fprintf(&b, "%2d %-40s %8s\n", i+1, x.Name, x.Took.Round(10*time.Microsecond))
		total += x.Took
	}
	fmt.Fprintf(&b, "   %d commands, %s", len(cmds), total.Round(10*time.Microsecond))
	return b.String()
}
