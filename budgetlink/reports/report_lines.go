package reports

// The lines the district-wide reports read, cached per fiscal year on the
// embedded engine. A line query on fiscal_year is not pushed down
// (third_party/ferretdb/PATCHES: only string and ObjectID equality), so
// every report decoded every line of every year with all its reservations
// in the engine: at 50,000 cases that was most of a district-wide
// report's time. The cache is valid while the collection's write
// generation (internal/store) is unchanged; every write to budget_lines
// through the store bumps it after the write returns, and a fill reads the
// generation before its query, so a write landing during a fill makes the
// next read fill again. Only on FerretDB, which one process owns
// (docs/ARCHITECTURE.md); on MongoDB every call reads the store.

import (
	"context"
	"slices"
	"strings"
	"sync"

	"minsheng/budgetlink/ledger"
	"minsheng/internal/auth"
)

// linesCache holds each fiscal year's lines as last read, in the store's
// natural order (what an unsorted query returns): the whole district's for
// district-wide reports, and apart each sub-district's for its staff, read
// through the pushed-down sub_district equality, so a staff report after a
// write reads its own lines, not the district's. The zero value is ready.
type linesCache struct {
	mu    sync.Mutex
	fill  sync.Mutex // one fill at a time: concurrent misses read once
	years map[linesKey]*linesEntry
}

// linesKey is a fiscal year and a sub-district ("" = all).
type linesKey struct {
	year int
	sub  string
}

// linesEntry is one year's lines; never changed once stored (readers share
// the lines, which nobody may modify).
type linesEntry struct {
	gen   uint64
	lines []*ledger.BudgetLine
}

// linesOf returns every line of fiscalYear in sub ("" = every
// sub-district), entries included, in the store's natural order. The
// lines are shared: callers must not modify them (the slice is the
// caller's).
func (s *Reporter) linesOf(ctx context.Context, fiscalYear int, sub string) ([]*ledger.BudgetLine, error) {
	// Streamed, bounded by the request's context rather than the store's
	// per-call 10 s, as the reports always read lines.
	read := func() ([]*ledger.BudgetLine, error) { return s.ledger.ReadLines(ctx, fiscalYear, sub) }
	if _, ok := s.ledger.LinesGeneration(); !ok {
		return read()
	}
	c := &s.reportLines
	c.fill.Lock()
	defer c.fill.Unlock()
	g, _ := s.ledger.LinesGeneration()
	c.mu.Lock()
	e := c.years[linesKey{fiscalYear, sub}]
	c.mu.Unlock()
	if e != nil && e.gen == g {
		return slices.Clone(e.lines), nil
	}
	out, err := read()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.years == nil {
		c.years = map[linesKey]*linesEntry{}
	}
	c.years[linesKey{fiscalYear, sub}] = &linesEntry{gen: g, lines: out}
	c.mu.Unlock()
	return slices.Clone(out), nil
}

// WarmReportLines reads fiscalYear's lines of the whole district into the
// reports' cache (the server runs it in the background at start, for the
// current year) and returns how many there are. Nothing is cached on
// MongoDB.
func (s *Reporter) WarmReportLines(ctx context.Context, fiscalYear int) (int, error) {
	if _, ok := s.ledger.LinesGeneration(); !ok {
		return 0, nil
	}
	ls, err := s.linesOf(ctx, fiscalYear, "")
	return len(ls), err
}

// LinesForReports is LinesWithEntries for the reports and the priority
// list: the same lines in the same order (by id), the same scope checks,
// read from the report cache. The lines are shared and must not be
// modified. Errors: EFORBIDDEN, EINVALID.
func (s *Reporter) LinesForReports(ctx context.Context, p auth.Principal, fiscalYear int, sub string) ([]*ledger.BudgetLine, error) {
	sub, err := s.ledger.ReaderScope(p, sub)
	if err != nil {
		return nil, err
	}
	out, err := s.linesOf(ctx, fiscalYear, sub)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *ledger.BudgetLine) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
