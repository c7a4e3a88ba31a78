package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// maxGroup bounds how many items one group commit writes.
const maxGroup = 100

// Group writes items with group commit. On the embedded engine an insert
// costs about the same for one document as for many (most of it is the
// command and its SQLite transaction), so items arriving while a batch is
// being written queue up and the next batch writes them all at once.
// There is no timer: the first item to find nobody writing leads at once
// and writes what is queued (one item alone is written as One writes it);
// the next batch forms while it writes, and the leader hands the lead to
// the first item queued behind it. Each item is answered with its own
// outcome once its batch is written, so success is only ever reported
// for what is stored. An item whose context ends before its batch is
// written is not written; a batch is written for all its items, without
// their cancellation, so one client going away fails no other.
type Group[T any] struct {
	// One writes a single item; Many a batch of several, returning each
	// item's own outcome (errs[i] for items[i]).
	One  func(ctx context.Context, item T) error
	Many func(ctx context.Context, items []T) []error
	// BeforeWrite, when set (tests), runs in the leader before it writes a
	// batch of n items.
	BeforeWrite func(n int)

	mu    sync.Mutex
	queue []*groupItem[T]
	busy  bool // a leader is writing; items queue
}

type groupItem[T any] struct {
	ctx  context.Context
	item T
	out  chan error // its outcome, or errLead: write the next batch
}

var errLead = errors.New("store: lead the next batch")

// Do writes item, together with the items that arrive meanwhile, and
// returns its own outcome.
func (g *Group[T]) Do(ctx context.Context, item T) error {
	it := &groupItem[T]{ctx: ctx, item: item, out: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, it)
	if g.busy {
		g.mu.Unlock()
		if err := <-it.out; err != errLead {
			return err
		}
		g.mu.Lock()
	}
	g.busy = true
	n := min(len(g.queue), maxGroup)
	batch := slices.Clone(g.queue[:n])
	g.queue = slices.Delete(g.queue, 0, n)
	g.mu.Unlock()
	g.lead(batch)
	return <-it.out
}

// Queued is how many items wait for the next batch (tests).
func (g *Group[T]) Queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

// lead writes batch, then passes the lead on to the first item queued
// meanwhile, or ends it.
func (g *Group[T]) lead(batch []*groupItem[T]) {
	defer func() {
		g.mu.Lock()
		if len(g.queue) > 0 {
			g.queue[0].out <- errLead
		} else {
			g.busy = false
		}
		g.mu.Unlock()
	}()
	defer func() {
		// A panic while writing answers every item of the batch still
		// waiting (its outcome unknown), then goes on up the leader's stack.
		if r := recover(); r != nil {
			for _, it := range batch {
				select {
				case it.out <- fmt.Errorf("store: group write failed: %v", r):
				default:
				}
			}
			panic(r)
		}
	}()
	if g.BeforeWrite != nil {
		g.BeforeWrite(len(batch))
	}
	var live []*groupItem[T]
	for _, it := range batch {
		if err := it.ctx.Err(); err != nil {
			it.out <- fmt.Errorf("store: abandoned before it was written: %w", err)
			continue
		}
		live = append(live, it)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		live[0].out <- g.One(live[0].ctx, live[0].item)
		return
	}
	items := make([]T, len(live))
	for i, it := range live {
		items[i] = it.item
	}
	errs := g.Many(context.WithoutCancel(live[0].ctx), items)
	for i, it := range live {
		it.out <- errs[i]
	}
}
