package cases

// Report facts: what the reports, the priority list and the ledger check
// read of a case, kept on its summary (summary.Facts) so they read the
// ~400-byte summaries of a scope instead of decoding every 2 KB case
// (docs/ARCHITECTURE.md, engine defect 3: about 1 ms per case decoded).

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/store"
)

// factsVersion stamps the facts a summary carries. A summary written before
// them (a store from an older build, until `minsheng check` rewrites it;
// version 2 added the response times and the latest 问题是否解决 answer)
// has no stamp, and EachCaseFacts reads its case instead, so no report is
// ever computed from missing facts.
const factsVersion = 2

// caseFacts is the part of a case the reports read beyond the summary's own
// fields. Verdicts keeps the first and latest verdicts only: the 12345
// rates read nothing else of them.
type caseFacts struct {
	V               int         `bson:"v"`
	CatalogItem     string      `bson:"catalog_item,omitempty"`
	Address         string      `bson:"address,omitempty"`
	Households      int         `bson:"households,omitempty"`
	Cosigns         int         `bson:"cosigns,omitempty"`
	MergedFrom      []string    `bson:"merged_from,omitempty"`
	ResponseDueAt   time.Time   `bson:"response_due_at"`
	RespondedAt     *time.Time  `bson:"responded_at,omitempty"`
	AcceptedAt      *time.Time  `bson:"accepted_at,omitempty"`
	CompletionDueAt *time.Time  `bson:"completion_due_at,omitempty"`
	CompletedAt     *time.Time  `bson:"completed_at,omitempty"`
	Verdict         Verdict     `bson:"verdict,omitempty"`
	Verdicts        int         `bson:"verdicts,omitempty"`
	FirstVerdict    Verdict     `bson:"first_verdict,omitempty"`
	LastVerdict     Verdict     `bson:"last_verdict,omitempty"`
	LastResolved    *bool       `bson:"last_resolved,omitempty"`
	Assessment      *Assessment `bson:"assessment,omitempty"` // without its note
	Budget          *BudgetLink `bson:"budget,omitempty"`
}

func factsOf(c *Case) caseFacts {
	f := caseFacts{
		V: factsVersion, CatalogItem: c.CatalogItem, Address: c.Location.Address, Households: c.Households,
		Cosigns: len(c.Cosigners), MergedFrom: c.MergedFrom, ResponseDueAt: c.ResponseDueAt, RespondedAt: c.RespondedAt, AcceptedAt: c.AcceptedAt, CompletionDueAt: c.CompletionDueAt,
		CompletedAt: c.CompletedAt, Verdict: c.Verdict, Verdicts: len(c.Verdicts), Budget: c.Budget,
	}
	if n := len(c.Verdicts); n > 0 {
		f.FirstVerdict, f.LastVerdict = c.Verdicts[0].Verdict, c.Verdicts[n-1].Verdict
		f.LastResolved = c.Verdicts[n-1].Resolved
	}
	if c.Assessment != nil {
		a := *c.Assessment
		a.Note = ""
		f.Assessment = &a
	}
	return f
}

// sameFacts compares facts as stored (times at BSON's millisecond).
func sameFacts(a, b caseFacts) bool {
	x, errA := bson.Marshal(a)
	y, errB := bson.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}

// caseOfFacts is the case as EachCaseFacts gives it: the summary's fields
// and the facts, nothing else.
func caseOfFacts(sm *summary) *Case {
	f := sm.Facts // copied: sm may be shared by the cache's readers
	c := &Case{
		ID: sm.ID, Number: sm.Number, Area: sm.Area, Title: sm.Title,
		Location: Location{SubDistrict: sm.SubDistrict, Community: sm.Community, Address: f.Address},
		Status:   sm.Status, StatusLabel: sm.Status.Label(), FiledAt: sm.FiledAt, DueAt: sm.DueAt, AssignedTo: sm.AssignedTo,
		Version: sm.Version, CatalogItem: f.CatalogItem, Households: f.Households, CosignCount: f.Cosigns,
		MergedFrom: slices.Clone(f.MergedFrom), ResponseDueAt: f.ResponseDueAt, RespondedAt: clonePtr(f.RespondedAt), AcceptedAt: clonePtr(f.AcceptedAt), CompletionDueAt: clonePtr(f.CompletionDueAt),
		CompletedAt: clonePtr(f.CompletedAt), Verdict: f.Verdict, Assessment: clonePtr(f.Assessment), Budget: clonePtr(f.Budget),
	}
	switch {
	case f.Verdicts == 1:
		c.Verdicts = []VerdictRecord{{Verdict: f.FirstVerdict, Resolved: clonePtr(f.LastResolved)}}
	case f.Verdicts > 1:
		c.Verdicts = []VerdictRecord{{Verdict: f.FirstVerdict}, {Verdict: f.LastVerdict, Resolved: clonePtr(f.LastResolved)}}
	}
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// EachCaseFacts streams the cases matching f to fn, oldest first, as
// EachCase does, but read from their summaries: each Case carries only the
// fields reports use — id, number, area, title, location, status, filing,
// deadlines, response and completion times, assignee, version, catalog item,
// households, CosignCount, MergedFrom, the assessment (without its note),
// the first and latest verdicts (Verdicts holds at most those two, the latest
// with its 问题是否解决 answer) and the
// budget link copy. Timeline, photos, description and contacts are empty.
// A summary without facts (written by an older build) is answered from its
// case. fn's error stops the scan and is returned.
func (s *Service) EachCaseFacts(ctx context.Context, f Filter, fn func(*Case) error) error {
	if s.listOnCases {
		return s.EachCase(ctx, f, fn)
	}
	f.Cursor, f.Limit = "", 1
	if err := f.check(); err != nil {
		return err
	}
	// The cache holds whole sub-districts: a filter on the linked cases
	// (the ledger check at every start) reads only those, through the
	// has_budget index, instead of filling the cache with every summary
	// of the district (5.8 s at 50,000 cases when the cache is cold).
	if s.cases.facts != nil && !f.HasBudget {
		return s.eachCachedFacts(ctx, f, fn)
	}
	if err := s.cases.later.sync(ctx); err != nil {
		return err
	}
	opts := options.Find().SetSort(bson.D{{Key: "filed_at", Value: 1}, {Key: "_id", Value: 1}})
	return s.cases.sums.Each(ctx, f.summaryQuery(s.now()), func(cur *mongo.Cursor) error {
		var sm summary
		if err := cur.Decode(&sm); err != nil {
			return fmt.Errorf("cases: unable to decode summary: %w", err)
		}
		c, err := s.caseOfSummary(ctx, &sm)
		if err != nil || c == nil {
			return err
		}
		return fn(c)
	}, opts)
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
type factsCache struct {
	mu      sync.Mutex
	gen     map[string]uint64
	where   map[string]string // case id → the sub-district it is cached in
	subs    map[string]*factsEntry
	filling map[string]*sync.Mutex
	merged  map[string]*mergedEntry // key: the sub-districts' codes
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
type factsEntry struct {
	gen  uint64
	sums []summary
	once sync.Once
	p    []*summary
}

// ptrs is the entry's summaries as pointers, made once.
func (e *factsEntry) ptrs() []*summary {
	e.once.Do(func() {
		e.p = make([]*summary, len(e.sums))
		for i := range e.sums {
			e.p[i] = &e.sums[i]
		}
	})
	return e.p
}

func newFactsCache(st *store.Store) *factsCache {
	if !st.OneProcess() {
		return nil
	}
	return &factsCache{gen: map[string]uint64{}, where: map[string]string{}, subs: map[string]*factsEntry{}, filling: map[string]*sync.Mutex{},
		merged: map[string]*mergedEntry{}, dirty: map[string]map[string]uint64{}, full: map[string]uint64{},
		inflight: map[string]bool{}}
}

// changed records that id's summary was written (now in sub) or removed
// (sub ""), marking id dirty in sub and in the sub-district the cache last
// saw it in. Safe on a nil cache.
func (fc *factsCache) changed(id, sub string) {
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
func (fc *factsCache) mark(sub, id string) {
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

// changedCases records the summaries of docs (cases) as written.
func (fc *factsCache) changedCases(docs []any) {
	for _, d := range docs {
		if c, ok := asCase(d); ok {
			fc.changed(c.ID, c.Location.SubDistrict)
		}
	}
}

// reset drops every entry (a full summary repair rewrote any of them): the
// next load of each sub-district reads it whole.
func (fc *factsCache) reset() {
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
func (fc *factsCache) load(ctx context.Context, sums *store.Collection, sub string) (*factsEntry, error) {
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
	var out []summary
	var err error
	if patch {
		var changed []summary
		if err = sums.FindAll(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, &changed); err != nil {
			err = fmt.Errorf("cases: unable to read the changed summaries of %s: %w", sub, err)
		} else {
			out = patched(old.sums, ids, changed, sub)
		}
	} else {
		// Streamed, bounded by the request's context, not by the store's
		// per-call 10 s: a loaded engine took longer for 3,300 summaries.
		err = sums.Each(ctx, bson.D{{Key: "sub_district", Value: sub}}, func(cur *mongo.Cursor) error {
			out = append(out, summary{})
			return cur.Decode(&out[len(out)-1])
		}, options.Find().SetSort(bson.D{{Key: "filed_at", Value: 1}, {Key: "_id", Value: 1}}))
		if err != nil {
			err = fmt.Errorf("cases: unable to read the summaries of %s: %w", sub, err)
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
	e := &factsEntry{gen: g, sums: out}
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
func patched(sums []summary, ids []string, changed []summary, sub string) []summary {
	drop := make(map[string]bool, len(ids))
	for _, id := range ids {
		drop[id] = true
	}
	out := make([]summary, 0, len(sums)+len(changed))
	for i := range sums {
		if !drop[sums[i].ID] {
			out = append(out, sums[i])
		}
	}
	for i := range changed {
		if changed[i].SubDistrict != sub {
			continue // moved away
		}
		at, _ := slices.BinarySearchFunc(out, &changed[i], func(a summary, b *summary) int { return compareSummaries(&a, b) })
		out = slices.Insert(out, at, changed[i])
	}
	return out
}

// WarmFacts fills the reports' facts cache for every sub-district of the
// directory, one after the other, so the first district-wide report after
// a start does not pay for reading every summary (about 50,000 at a
// pilot's size) within its own request. The server runs it in the
// background once it listens; a report arriving meanwhile waits for the
// sub-district being read, never reads it twice. Nothing on MongoDB,
// where there is no cache.
func (s *Service) WarmFacts(ctx context.Context) (int, error) {
	if s.cases.facts == nil {
		return 0, nil
	}
	if err := s.cases.later.sync(ctx); err != nil {
		return 0, err
	}
	n := 0
	for _, sd := range s.dir.District().SubDistricts {
		e, err := s.cases.facts.load(ctx, s.cases.sums, sd.Code)
		if err != nil {
			return n, err
		}
		n += len(e.sums)
	}
	return n, nil
}

// eachCachedFacts is EachCaseFacts from the cache: the summaries of f's
// sub-district, or of every sub-district of the directory for the whole
// district (a case is always filed in one of them), filtered in Go on the
// summaries' own fields (summaryMatcher, the twin of f.matches) before a
// Case is built for the ones that match.
func (s *Service) eachCachedFacts(ctx context.Context, f Filter, fn func(*Case) error) error {
	var subs []string
	if f.SubDistrict != "" {
		subs = []string{f.SubDistrict}
	} else {
		for _, sd := range s.dir.District().SubDistricts {
			subs = append(subs, sd.Code)
		}
	}
	if err := s.cases.later.sync(ctx); err != nil {
		return err
	}
	all, err := s.cases.facts.ordered(ctx, s.cases.sums, subs)
	if err != nil {
		return err
	}
	now := s.now()
	match := f.summaryMatcher(now)
	for _, sm := range all {
		var c *Case
		if sm.Facts.V == factsVersion {
			if !match(sm) {
				continue
			}
			c = caseOfFacts(sm)
		} else {
			// No facts (an older build's summary): the case as stored
			// decides, as it always did.
			if c, err = s.caseOfSummary(ctx, sm); err != nil {
				return err
			}
			if c == nil || !f.matches(c, now) {
				continue
			}
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// summaryMatcher is f.matches on a summary with facts: caseOfFacts copies
// every field f.matches reads (status, area, sub-district, community, due
// and filing times, budget copy, title) from the summary unchanged, so it
// decides the same without building the Case. The text's pattern is
// compiled once, not per case.
func (f Filter) summaryMatcher(now time.Time) func(*summary) bool {
	var text *regexp.Regexp
	if t := strings.TrimSpace(f.Text); t != "" {
		text = regexp.MustCompile("(?i)" + regexp.QuoteMeta(t))
	}
	return func(sm *summary) bool {
		switch {
		case f.Status != "" && sm.Status != f.Status,
			f.Area != "" && sm.Area != f.Area,
			f.SubDistrict != "" && sm.SubDistrict != f.SubDistrict,
			f.Community != "" && sm.Community != f.Community,
			f.Overdue && !sm.DueAt.Before(now),
			f.HasBudget && (sm.Facts.Budget == nil || sm.Facts.Budget.LineID == ""),
			!f.FiledFrom.IsZero() && sm.FiledAt.Before(f.FiledFrom),
			!f.FiledTo.IsZero() && !sm.FiledAt.Before(f.FiledTo):
			return false
		}
		return text == nil || text.MatchString(sm.Title)
	}
}

// ordered returns the summaries of subs, oldest first (filing time, then
// id), from the cache. For several sub-districts the merged order is kept
// beside the entries it was built from and reused while none of them
// changed, so a district-wide report sorts nothing when nothing was
// written; it holds pointers into those entries, which are never changed.
func (fc *factsCache) ordered(ctx context.Context, sums *store.Collection, subs []string) ([]*summary, error) {
	entries := make([]*factsEntry, len(subs))
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
	out := make([]*summary, 0, n)
	for _, e := range entries {
		out = append(out, e.ptrs()...)
	}
	slices.SortFunc(out, compareSummaries)
	fc.mu.Lock()
	fc.merged[key] = &mergedEntry{from: entries, sums: out}
	fc.mu.Unlock()
	return out, nil
}

// compareSummaries orders summaries oldest first, then by id, as the
// summaries' query sorts them.
func compareSummaries(a, b *summary) int {
	return cmp.Or(a.FiledAt.Compare(b.FiledAt), strings.Compare(a.ID, b.ID))
}

// mergedEntry is the merged order of several sub-districts' entries.
type mergedEntry struct {
	from []*factsEntry
	sums []*summary
}

// caseOfSummary is the case as EachCaseFacts gives it: from the summary's
// facts, or read in full when the summary has none; nil when the case is
// gone (an orphan summary, which lists skip and check removes).
func (s *Service) caseOfSummary(ctx context.Context, sm *summary) (*Case, error) {
	if sm.Facts.V == factsVersion {
		return caseOfFacts(sm), nil
	}
	var c Case
	err := s.cases.Collection.FindOne(ctx, byID(sm.ID), &c)
	if errors.Is(err, minsheng.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cases: unable to read %s for its facts: %w", sm.ID, err)
	}
	c.CosignCount = len(c.Cosigners)
	c.StatusLabel = c.Status.Label()
	return &c, nil
}
