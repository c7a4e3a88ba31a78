package casedb

// The report facts' cache: what the reports, the priority list and the
// ledger check read of a case is kept on its summary (Summary.Facts), so
// they read the ~400-byte summaries of a scope instead of decoding every
// 2 KB case (docs/ARCHITECTURE.md, engine defect 3: about 1 ms per case
// decoded); on the embedded engine this cache keeps them in memory.

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng/internal/store"
)

// Cached reports whether the report facts are cached in this process
// (Ordered); false off FerretDB, where several processes may write.
func (db *DB[C, F]) Cached() bool { return db.facts != nil }

// Ordered returns the summaries of the sub-districts subs, oldest first
// (filing time, then id), from the cache; only where Cached. The summaries
// are shared with other readers and must not be changed.
func (db *DB[C, F]) Ordered(ctx context.Context, subs []string) ([]*Summary[F], error) {
	if err := db.later.sync(ctx); err != nil {
		return nil, err
	}
	return db.facts.ordered(ctx, db.sums, subs)
}

// Warm fills the cache for the sub-districts subs, one after the other,
// and returns how many summaries it holds for them; nothing where not
// Cached.
func (db *DB[C, F]) Warm(ctx context.Context, subs []string) (int, error) {
	if db.facts == nil {
		return 0, nil
	}
	if err := db.later.sync(ctx); err != nil {
		return 0, err
	}
	n := 0
	for _, sub := range subs {
		e, err := db.facts.load(ctx, db.sums, sub)
		if err != nil {
			return n, err
		}
		n += len(e.sums)
	}
	return n, nil
}

// factsCache holds, on the embedded engine, each sub-district's summaries as
// last read, so a report repeated over an unchanged sub-district decodes
// nothing (at 50,000 cases one sub-district's 3,300 summaries took the
// engine most of a second, the district's 50,000 many seconds). Every
// summary write bumps the generation of the case's sub-district — and of
// the one the cache last saw it in — after the write lands; an entry read
// under an older generation is read again. A fill reads the generation
// before its query, so a write landing during the fill invalidates it.
// Only on FerretDB: it runs in one process (docs/ARCHITECTURE.md), so this process
// sees every write; with several instances on MongoDB it would not, and
// MongoDB reads the summaries through real indexes anyway.
type factsCache[F any] struct {
	mu      sync.Mutex
	gen     map[string]uint64
	where   map[string]string // case id → the sub-district it is cached in
	subs    map[string]*factsEntry[F]
	filling map[string]*sync.Mutex
	merged  map[string]*mergedEntry[F] // key: the sub-districts' codes
	// dirty holds, per sub-district, the ids written since its entry was
	// read, each with the generation of its latest write; full the
	// generation of the latest reset, before which an entry is read whole.
	dirty map[string]map[string]uint64
	full  map[string]uint64
	// inflight holds the sub-districts being read (load), for changed.
	inflight map[string]bool
}

// factsEntry is one sub-district's summaries, oldest first; never changed
// once stored (readers share it).
type factsEntry[F any] struct {
	gen  uint64
	sums []Summary[F]
	once sync.Once
	p    []*Summary[F]
}

// ptrs is the entry's summaries as pointers, made once.
func (e *factsEntry[F]) ptrs() []*Summary[F] {
	e.once.Do(func() {
		e.p = make([]*Summary[F], len(e.sums))
		for i := range e.sums {
			e.p[i] = &e.sums[i]
		}
	})
	return e.p
}

func newFactsCache[F any](st *store.Store) *factsCache[F] {
	if !st.OneProcess() {
		return nil
	}
	return &factsCache[F]{gen: map[string]uint64{}, where: map[string]string{}, subs: map[string]*factsEntry[F]{}, filling: map[string]*sync.Mutex{},
		merged: map[string]*mergedEntry[F]{}, dirty: map[string]map[string]uint64{}, full: map[string]uint64{},
		inflight: map[string]bool{}}
}

// changed records that id's summary was written (now in sub) or removed
// (sub ""), marking id dirty in sub and in the sub-district the cache last
// saw it in. Safe on a nil cache.
func (fc *factsCache[F]) changed(id, sub string) {
	if fc == nil {
		return
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.mark(sub, id)
	old, ok := fc.where[id]
	if ok && old != sub {
		fc.mark(old, id)
	}
	// A fill in flight may have read id where it was before this write
	// and not yet recorded it there (where): it must not store that as
	// current.
	for f := range fc.inflight {
		if f != sub && (!ok || f != old) {
			fc.mark(f, id)
		}
	}
}

// mark bumps sub's generation and records id as changed at it; fc.mu held.
// Without an entry or a fill in flight the next load reads sub whole, so
// nothing is recorded (the marks stay bounded by what is cached).
func (fc *factsCache[F]) mark(sub, id string) {
	fc.gen[sub]++
	if fc.subs[sub] == nil && !fc.inflight[sub] {
		return
	}
	d := fc.dirty[sub]
	if d == nil {
		d = map[string]uint64{}
		fc.dirty[sub] = d
	}
	d[id] = fc.gen[sub]
}

// reset drops every entry (a full summary repair rewrote any of them): the
// next load of each sub-district reads it whole.
func (fc *factsCache[F]) reset() {
	if fc == nil {
		return
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for sub := range fc.subs {
		fc.gen[sub]++
		fc.full[sub] = fc.gen[sub]
	}
}

// maxPatch is how many changed summaries a load reads by id to patch an
// entry; beyond it the sub-district is read again whole.
const maxPatch = 256

// load returns sub's summaries, from the cache when no write touched the
// sub-district since they were read. When some did, and the entry was not
// reset, only the changed summaries are read (by id, which the engine
// pushes down) and a patched copy of the entry replaces it: one write no
// longer costs the next report the whole sub-district (3,300 summaries at
// 50,000 cases). Every write marks its id after it lands, and a load reads
// the generation and the marks before its query, so what it reads is at
// least as new as the generation it stores; a write landing meanwhile
// leaves a newer mark, which the next load reads. Concurrent misses of one
// sub-district read once.
func (fc *factsCache[F]) load(ctx context.Context, sums *store.Collection, sub string) (*factsEntry[F], error) {
	fc.mu.Lock()
	fill := fc.filling[sub]
	if fill == nil {
		fill = &sync.Mutex{}
		fc.filling[sub] = fill
	}
	fc.mu.Unlock()
	fill.Lock()
	defer fill.Unlock()
	fc.mu.Lock()
	g := fc.gen[sub]
	old := fc.subs[sub]
	if old != nil && old.gen == g {
		fc.mu.Unlock()
		return old, nil
	}
	var ids []string
	patch := old != nil && fc.full[sub] <= old.gen
	if patch {
		for id, at := range fc.dirty[sub] {
			if at > old.gen {
				ids = append(ids, id)
			}
		}
		patch = len(ids) <= maxPatch
	}
	fc.inflight[sub] = true
	fc.mu.Unlock()
	var out []Summary[F]
	var err error
	if patch {
		var changed []Summary[F]
		if err = sums.FindAll(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, &changed); err != nil {
			err = fmt.Errorf("casedb: unable to read the changed summaries of %s: %w", sub, err)
		} else {
			out = patched(old.sums, ids, changed, sub)
		}
	} else {
		// Streamed, bounded by the request's context, not by the store's
		// per-call 10 s: a loaded engine took longer for 3,300 summaries.
		err = sums.Each(ctx, bson.D{{Key: "sub_district", Value: sub}}, func(cur *mongo.Cursor) error {
			out = append(out, Summary[F]{})
			return cur.Decode(&out[len(out)-1])
		}, options.Find().SetSort(bson.D{{Key: "filed_at", Value: 1}, {Key: "_id", Value: 1}}))
		if err != nil {
			err = fmt.Errorf("casedb: unable to read the summaries of %s: %w", sub, err)
		}
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	delete(fc.inflight, sub)
	if err != nil {
		return nil, err
	}
	if old != nil {
		for i := range old.sums {
			if fc.where[old.sums[i].ID] == sub {
				delete(fc.where, old.sums[i].ID)
			}
		}
	}
	e := &factsEntry[F]{gen: g, sums: out}
	fc.subs[sub] = e
	for i := range out {
		fc.where[out[i].ID] = sub
	}
	for id, at := range fc.dirty[sub] {
		if at <= g {
			delete(fc.dirty[sub], id) // the stored entry covers it
		}
	}
	return e, nil
}

// patched is sums (sorted as compareSummaries) without the summaries of
// ids, plus those of changed that are in sub, at their place: a new slice,
// sums is shared by readers.
func patched[F any](sums []Summary[F], ids []string, changed []Summary[F], sub string) []Summary[F] {
	drop := make(map[string]bool, len(ids))
	for _, id := range ids {
		drop[id] = true
	}
	out := make([]Summary[F], 0, len(sums)+len(changed))
	for i := range sums {
		if !drop[sums[i].ID] {
			out = append(out, sums[i])
		}
	}
	for i := range changed {
		if changed[i].SubDistrict != sub {
			continue // moved away
		}
		at, _ := slices.BinarySearchFunc(out, &changed[i], func(a Summary[F], b *Summary[F]) int { return compareSummaries(&a, b) })
		out = slices.Insert(out, at, changed[i])
	}
	return out
}

// ordered returns the summaries of subs, oldest first (filing time, then
// id), from the cache. For several sub-districts the merged order is kept
// beside the entries it was built from and reused while none of them
// changed, so a district-wide report sorts nothing when nothing was
// written; it holds pointers into those entries, which are never changed.
func (fc *factsCache[F]) ordered(ctx context.Context, sums *store.Collection, subs []string) ([]*Summary[F], error) {
	entries := make([]*factsEntry[F], len(subs))
	for i, sub := range subs {
		e, err := fc.load(ctx, sums, sub)
		if err != nil {
			return nil, err
		}
		entries[i] = e
	}
	if len(entries) == 1 {
		return entries[0].ptrs(), nil
	}
	key := strings.Join(subs, "\x00")
	fc.mu.Lock()
	m := fc.merged[key]
	fc.mu.Unlock()
	if m != nil && slices.Equal(m.from, entries) {
		return m.sums, nil
	}
	n := 0
	for _, e := range entries {
		n += len(e.sums)
	}
	out := make([]*Summary[F], 0, n)
	for _, e := range entries {
		out = append(out, e.ptrs()...)
	}
	slices.SortFunc(out, compareSummaries[F])
	fc.mu.Lock()
	fc.merged[key] = &mergedEntry[F]{from: entries, sums: out}
	fc.mu.Unlock()
	return out, nil
}

// compareSummaries orders summaries oldest first, then by id, as the
// summaries' query sorts them.
func compareSummaries[F any](a, b *Summary[F]) int {
	return cmp.Or(a.FiledAt.Compare(b.FiledAt), strings.Compare(a.ID, b.ID))
}

// mergedEntry is the merged order of several sub-districts' entries.
type mergedEntry[F any] struct {
	from []*factsEntry[F]
	sums []*Summary[F]
}
