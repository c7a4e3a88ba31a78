package cases

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/cases/casedb"
	"minsheng/cases/caselist"
	"minsheng/internal/auth"
	"minsheng/internal/store"
)

const casesCollection = casedb.CasesCollection

// Indexes are the indexes the service's queries need, one per query shape
// (scope × filter × sort); EnsureIndexes creates them at start.
var Indexes = append([]store.Index{
	{Collection: casesCollection, Name: "number_unique", Keys: keys("number"), Unique: true},
	{Collection: casesCollection, Name: "idempotency_unique", Keys: keys("idempotency_key"), Unique: true, Sparse: true},
	// Residents' own cases and co-signed ones.
	{Collection: casesCollection, Name: "filer_filed", Keys: keys("filer_id", "-filed_at", "-_id")},
	{Collection: casesCollection, Name: "cosigners", Keys: keys("cosigners")},
	// Queues, similar-case search and EachCase read the summaries (see
	// casedb.Indexes): the embedded engine never pushes down the nested
	// location fields these cases' queue indexes were on, and every index
	// costs every filing a write.
	// Retention sweep.
	{Collection: casesCollection, Name: "closed_purged", Keys: keys("closed_at", "purged_at")},
}, casedb.Indexes...)

// keys builds an index key; a leading "-" means descending.
var keys = casedb.Keys

func byID(id string) bson.D         { return bson.D{{Key: "_id", Value: id}} }
func byNumber(number string) bson.D { return bson.D{{Key: "number", Value: number}} }

// load reads one case; ENOTFOUND when it does not exist.
func (s *Service) load(ctx context.Context, id string) (*Case, error) {
	if id == "" || len(id) > 64 {
		return nil, caseNotFound()
	}
	var c Case
	if err := s.cases.FindOne(ctx, byID(id), &c); err != nil {
		if errors.Is(err, minsheng.ErrNotFound) {
			return nil, caseNotFound()
		}
		return nil, fmt.Errorf("cases: unable to load case %s: %w", id, err)
	}
	return &c, nil
}

func caseNotFound() error {
	return &minsheng.Error{Code: minsheng.ENOTFOUND, Message: "案件不存在", Err: minsheng.ErrNotFound}
}

func (s *Service) byIdempotencyKey(ctx context.Context, key string) (*Case, error) {
	var c Case
	if err := s.cases.FindOne(ctx, bson.D{{Key: "idempotency_key", Value: key}}, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// apply performs a versioned update of one case and returns it as stored
// after the update. The filter includes the version the caller read, and
// the update bumps it, so of two concurrent writers exactly one wins; the
// other gets ECONFLICT.
func (s *Service) apply(ctx context.Context, id string, version int64, set bson.D, ev Event) (*Case, error) {
	return s.applyChange(ctx, id, version, change{set: set}, ev)
}

// change is what a versioned update does besides bumping the version and
// recording its timeline event.
type change struct {
	set   bson.D
	unset []string
	push  bson.D
}

func (s *Service) applyChange(ctx context.Context, id string, version int64, ch change, ev Event) (*Case, error) {
	push := append(bson.D{{Key: "timeline", Value: ev}}, ch.push...)
	update := bson.D{
		{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}},
		{Key: "$push", Value: push},
	}
	if len(ch.set) > 0 {
		update = append(update, bson.E{Key: "$set", Value: ch.set})
	}
	if len(ch.unset) > 0 {
		unset := bson.D{}
		for _, k := range ch.unset {
			unset = append(unset, bson.E{Key: k, Value: ""})
		}
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	out, err := s.cases.UpdateAndGet(ctx, casedb.Change{ID: id, If: bson.D{{Key: "version", Value: version}}, Update: update})
	if errors.Is(err, minsheng.ErrNotFound) {
		return nil, errStale()
	}
	if err != nil {
		return nil, fmt.Errorf("cases: unable to update case %s: %w", id, err)
	}
	s.notifyAfter(ctx, out, ev) // notify.go: the cadre's notifications
	s.notify(ctx, out, ev)      // sms.go: the resident's text messages
	return out, nil
}

// The lists' filter, scope, pages and streams are package caselist's; what
// a filter reads of a case is listFields.

// Sort orders of Find.
const (
	SortFiled    = caselist.SortFiled    // newest first
	SortDeadline = caselist.SortDeadline // most urgent first
)

// Filter selects cases for a queue. Zero fields do not filter.
type Filter = caselist.Filter[Status]

// Page size limits: the one rule of every list (internal/page).
const (
	DefaultLimit = caselist.DefaultLimit
	MaxLimit     = caselist.MaxLimit
)

// list is the cases as package caselist reads them.
func (s *Service) list() caselist.Source[Case, caseFacts, Status] {
	return caselist.Source[Case, caseFacts, Status]{DB: s.cases, Fields: listFields, Ready: readyForStream, OnCases: s.listOnCases}
}

// listFields is what a filter, a cursor and a resident's list read of c.
func listFields(c *Case) caselist.Fields[Status] {
	return caselist.Fields[Status]{ID: c.ID, Status: c.Status, Area: c.Area, SubDistrict: c.Location.SubDistrict,
		Community: c.Location.Community, Title: c.Title, FiledAt: c.FiledAt, DueAt: c.DueAt,
		HasBudget: c.Budget != nil && c.Budget.LineID != "", FilerID: c.FilerID, Cosigners: c.Cosigners}
}

// readyForStream fills what a streamed case derives from its stored fields.
func readyForStream(c *Case) {
	c.CosignCount = len(c.Cosigners)
	c.StatusLabel = c.Status.Label()
}

// Find returns one page of the cases p may see that match f, redacted for
// p, and the cursor of the next page ("" on the last one).
// Errors: EINVALID for a bad filter, EFORBIDDEN for a scope outside p's,
// EUNAUTHORIZED without an account.
func (s *Service) Find(ctx context.Context, p auth.Principal, f Filter) ([]*Case, string, error) {
	if err := f.Check(AreaName); err != nil {
		return nil, "", err
	}
	scoped, err := f.Scope(p, s.dir)
	if err != nil {
		return nil, "", err
	}
	found, next, err := s.list().Page(ctx, p, f, scoped, s.now())
	if err != nil {
		return nil, "", err
	}
	out := make([]*Case, len(found))
	for i, c := range found {
		if out[i], err = s.view(ctx, p, c); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// EachCase streams every case matching f to fn, oldest first, without scope
// or redaction: for reports, budgetlink and the checker, which sum in Go
// (docs/ARCHITECTURE.md: no $group). Cursor and Limit are ignored. fn's error stops
// the scan and is returned.
func (s *Service) EachCase(ctx context.Context, f Filter, fn func(*Case) error) error {
	f.Cursor, f.Limit = "", 1
	if err := f.Check(AreaName); err != nil {
		return err
	}
	return s.list().Each(ctx, f, s.now(), fn)
}
