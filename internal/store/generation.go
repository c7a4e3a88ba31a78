package store

import (
	"sync"
	"sync/atomic"
)

// writeGens counts, per database and collection, the writes this process
// made through Collection, process-wide like writeGuard (two Store values
// on one engine share the count). A cache of a collection's documents
// reads WriteGeneration before its query and is valid while it is
// unchanged: every write bumps it after the write returns, so a write that
// lands during a fill invalidates what the fill read. Only meaningful on
// the embedded FerretDB, which one process owns (docs/ARCHITECTURE.md); other
// processes' writes to MongoDB are not counted.
var writeGens sync.Map // database + "\x00" + collection → *atomic.Uint64

func (c *Collection) gen() *atomic.Uint64 {
	key := c.s.db.Name() + "\x00" + c.c.Name()
	if g, ok := writeGens.Load(key); ok {
		return g.(*atomic.Uint64)
	}
	g, _ := writeGens.LoadOrStore(key, new(atomic.Uint64))
	return g.(*atomic.Uint64)
}

// WriteGeneration is the number of writes made to the collection through
// this process's Collection values so far.
func (c *Collection) WriteGeneration() uint64 { return c.gen().Load() }

// wrote records a write (successful or not: a failed one may have landed).
func (c *Collection) wrote() { c.gen().Add(1) }
