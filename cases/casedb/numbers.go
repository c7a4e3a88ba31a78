package casedb

import (
	"context"
	"fmt"
	"sync"
	"time"

	"minsheng/internal/store"
)

// TakeNumbers returns the first of n consecutive values of the counter of
// prefix (the number prefix and the year, "XC2026"), for case numbers
// (FormatNumber). holder, when not "", is the id of the case filed with
// the number, which holds its block's mark until the case's summary is
// written or the filing fails (Release).
func (db *DB[C, F]) TakeNumbers(ctx context.Context, prefix string, n int64, holder string) (int64, error) {
	return db.numbers.take(ctx, db.st, prefix, n, holder)
}

// Release ends the hold of a filing that stored nothing (or whose outcome
// its caller handles otherwise); once is enough, more do nothing.
func (db *DB[C, F]) Release(id string) { db.later.releaseFiling(id) }

// NumberBlock is how many case numbers one counter increment reserves.
// Filing takes its number from the reserved block in memory instead of a
// guarded findAndModify each time. A process that stops leaves the rest
// of its block unused: a gap, never a duplicate (the counter only grows,
// and number carries a unique index), so several instances on MongoDB
// each draw from their own blocks.
const NumberBlock = 64

// numbers hands out case numbers per counter from reserved blocks. Each
// counter keeps a spare block, reserved (and marked) in the background
// once half its block is used, so a filing that empties a block goes on
// with the spare instead of waiting for the increment and the mark
// (together about two lone filings' inserts on the embedded engine).
type numbers[F any] struct {
	mu       sync.Mutex
	blocks   map[string]*reserved
	spares   map[string]*reserved
	fetching map[string]bool
	fetches  sync.WaitGroup
	// later, where one process owns the store (store.OneProcess), marks
	// every new block before its first number is used (later.go);
	// nil elsewhere.
	later *laterSummaries[F]
}

// reserved is the unused rest [next, end) of a counter's block, and the
// block's mark ("" when unmarked).
type reserved struct {
	next, end int64
	mark      string
}

// FormatNumber is the case number seq of the counter of prefix (the number
// prefix and the year, "XC2026"): XC2026-000123.
func FormatNumber(prefix string, seq int64) string { return fmt.Sprintf("%s-%06d", prefix, seq) }

// take returns the first of n consecutive values of prefix's counter,
// from its block when enough remain, else from the spare block or, when
// none is ready or it is too small, a new block reserved now (the old
// block's rest is skipped, so the n stay consecutive, as Import needs).
// holder, when not "", is the id of the case filed with the number: it
// holds the block's mark until its summary is written or the filing
// fails (laterSummaries.hold).
func (ns *numbers[F]) take(ctx context.Context, st *store.Store, prefix string, n int64, holder string) (int64, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	b := ns.blocks[prefix]
	if b == nil || b.end-b.next < n {
		next := ns.spares[prefix]
		if next != nil && next.end-next.next >= n {
			delete(ns.spares, prefix)
		} else {
			var err error
			if next, err = ns.reserve(ctx, st, prefix, max(n, NumberBlock)); err != nil {
				return 0, err // the block is skipped: a gap
			}
		}
		if b != nil {
			ns.later.closeBlock(b.mark)
		}
		if ns.blocks == nil {
			ns.blocks = map[string]*reserved{}
		}
		b = next
		ns.blocks[prefix] = b
	}
	first := b.next
	b.next += n
	if b.end-b.next <= NumberBlock/2 {
		ns.prefetch(st, prefix)
	}
	ns.later.hold(b.mark, holder)
	return first, nil
}

// reserve increments prefix's counter by size and marks the block.
func (ns *numbers[F]) reserve(ctx context.Context, st *store.Store, prefix string, size int64) (*reserved, error) {
	first, err := st.ReserveSequence(ctx, "case_number_"+prefix, size)
	if err != nil {
		return nil, err
	}
	mark, err := ns.later.markBlock(ctx, prefix, first, size)
	if err != nil {
		return nil, err
	}
	return &reserved{next: first, end: first + size, mark: mark}, nil
}

// prefetch reserves prefix's spare block in the background unless one is
// ready or on its way; the caller holds ns.mu. A failure leaves no spare:
// the filing that needs the next block reserves it itself.
func (ns *numbers[F]) prefetch(st *store.Store, prefix string) {
	if ns.spares[prefix] != nil || ns.fetching[prefix] {
		return
	}
	if ns.fetching == nil {
		ns.fetching, ns.spares = map[string]bool{}, map[string]*reserved{}
	}
	ns.fetching[prefix] = true
	ns.fetches.Go(func() {
		// No request's context: the spare serves the filings after it.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b, err := ns.reserve(ctx, st, prefix, NumberBlock)
		ns.mu.Lock()
		defer ns.mu.Unlock()
		delete(ns.fetching, prefix)
		if err == nil {
			ns.spares[prefix] = b
		}
	})
}
