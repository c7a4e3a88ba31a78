package idem

import (
	"context"
	"errors"
	"slices"
	"sync"

	"minsheng/internal/store"
)

// maxInsertBatch bounds how many records one group insert writes.
const maxInsertBatch = 100

// inserts writes records with group commit: a request's claim and its
// answer are an insert each, which on the embedded engine cost about the
// same for one document as for a hundred, so the inserts of concurrent
// requests queue while one is written and the next command writes them
// all (unordered), each getting its own outcome (a duplicate _id: the key
// is claimed already). There is no timer: an insert with nobody writing
// is written at once, alone, as before.
type inserts struct {
	coll  *store.Collection
	mu    sync.Mutex
	queue []*pendingInsert
	busy  bool
	// beforeWrite, when set (tests), runs in the leader before it writes
	// a batch of n records.
	beforeWrite func(n int)
}

type pendingInsert struct {
	ctx context.Context
	doc any
	out chan error // its outcome, or errLead
}

var errLead = errors.New("idem: lead the next insert")

// insert stores doc and returns its own outcome (minsheng.ErrDuplicate
// when a record with its _id is there).
func (b *inserts) insert(ctx context.Context, doc any) error {
	p := &pendingInsert{ctx: ctx, doc: doc, out: make(chan error, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if b.busy {
		b.mu.Unlock()
		if err := <-p.out; err != errLead {
			return err
		}
		b.mu.Lock()
	}
	b.busy = true
	n := min(len(b.queue), maxInsertBatch)
	batch := slices.Clone(b.queue[:n])
	b.queue = slices.Delete(b.queue, 0, n)
	b.mu.Unlock()
	b.lead(batch)
	return <-p.out
}

// queued is how many inserts wait for the next batch (tests).
func (b *inserts) queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// lead writes batch, then hands the lead to the first insert queued
// meanwhile, or ends it.
func (b *inserts) lead(batch []*pendingInsert) {
	defer func() {
		b.mu.Lock()
		if len(b.queue) > 0 {
			b.queue[0].out <- errLead
		} else {
			b.busy = false
		}
		b.mu.Unlock()
	}()
	if b.beforeWrite != nil {
		b.beforeWrite(len(batch))
	}
	var live []*pendingInsert
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.out <- err
			continue
		}
		live = append(live, p)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		live[0].out <- b.coll.InsertOne(live[0].ctx, live[0].doc)
		return
	}
	docs := make([]any, len(live))
	for i, p := range live {
		docs[i] = p.doc
	}
	// Written for every request in it: one client going away must not
	// fail the others'.
	errs, _ := b.coll.InsertEach(context.WithoutCancel(live[0].ctx), docs)
	for i, p := range live {
		p.out <- errs[i]
	}
}
