package cases

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/cases/casedb"
	"minsheng/internal/auth"
	"minsheng/internal/page"
	"minsheng/internal/store"
)

const (
	casesCollection = casedb.CasesCollection
	// cosignsCollection holds co-signature claims, found only by _id.
	cosignsCollection = "case_cosigns"
)

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

// Sort orders of Find.
const (
	SortFiled    = "filed"    // newest first
	SortDeadline = "deadline" // most urgent first
)

// Filter selects cases for a queue. Zero fields do not filter.
type Filter struct {
	Status      Status
	Area        string
	SubDistrict string
	Community   string
	// Overdue keeps open cases whose current deadline has passed.
	Overdue bool
	// Text matches the title, case-insensitively, literally.
	Text string
	// HasBudget keeps only cases that carry a copy of a budget link
	// (budgetlink's checker and reports), so they need not read them all.
	HasBudget bool
	// FiledFrom and FiledTo bound the filing time, FiledFrom ≤ filed_at <
	// FiledTo (a fiscal year, say); a zero time leaves that side open.
	FiledFrom, FiledTo time.Time
	// Sort is SortFiled (default) or SortDeadline.
	Sort string
	// Cursor is the opaque next-page token Find returned.
	Cursor string
	// Limit is 1..100, default 20.
	Limit int
}

// Page size limits: the one rule of every list (internal/page).
const (
	DefaultLimit = page.DefaultLimit
	MaxLimit     = page.MaxLimit
)

// cursorList names the case lists' cursors, one per sort order: a cursor
// is a position in one order only.
func cursorList(sort string) string { return "cases:" + sort }

// check validates f and fills defaults.
func (f *Filter) check() error {
	fields := map[string]string{}
	if f.Status != "" && !f.Status.Valid() {
		fields["status"] = "状态不存在"
	}
	if f.Area != "" && AreaName(f.Area) == "" {
		fields["area"] = "领域不存在"
	}
	if utf8Len(f.Text) > maxTitle {
		fields["text"] = fmt.Sprintf("不能超过%d字", maxTitle)
	}
	if f.Text != "" {
		lineText(fields, "text", f.Text)
	}
	if !f.FiledFrom.IsZero() && !f.FiledTo.IsZero() && !f.FiledTo.After(f.FiledFrom) {
		fields["filed_to"] = "须晚于起始时间"
	}
	switch f.Sort {
	case "":
		f.Sort = SortFiled
	case SortFiled, SortDeadline:
	default:
		fields["sort"] = "只能是 filed 或 deadline"
	}
	f.Limit = page.Limit(f.Limit, fields)
	if len(fields) > 0 {
		return minsheng.Invalid("查询条件无效", fields)
	}
	return nil
}

// query turns f into a Mongo filter (without scope or cursor).
func (f Filter) query(now time.Time) bson.D {
	q := bson.D{}
	if f.Status != "" {
		q = append(q, bson.E{Key: "status", Value: f.Status})
	}
	if f.Area != "" {
		q = append(q, bson.E{Key: "area", Value: f.Area})
	}
	if f.SubDistrict != "" {
		q = append(q, bson.E{Key: "location.sub_district", Value: f.SubDistrict})
	}
	if f.Community != "" {
		q = append(q, bson.E{Key: "location.community", Value: f.Community})
	}
	if f.Overdue {
		// DueAt of a case without a running deadline is far in the
		// future, so this alone selects overdue open cases.
		q = append(q, bson.E{Key: "due_at", Value: bson.D{{Key: "$lt", Value: now}}})
	}
	if f.HasBudget {
		// A copy always names its line. $gt "" rather than $exists: an
		// ordinary index serves it as a range, where $exists:true would
		// walk the whole index on MongoDB.
		q = append(q, bson.E{Key: "budget.line_id", Value: bson.D{{Key: "$gt", Value: ""}}})
	}
	if !f.FiledFrom.IsZero() || !f.FiledTo.IsZero() {
		r := bson.D{}
		if !f.FiledFrom.IsZero() {
			r = append(r, bson.E{Key: "$gte", Value: f.FiledFrom.UTC()})
		}
		if !f.FiledTo.IsZero() {
			r = append(r, bson.E{Key: "$lt", Value: f.FiledTo.UTC()})
		}
		q = append(q, bson.E{Key: "filed_at", Value: r})
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		q = append(q, bson.E{Key: "title", Value: bson.D{
			{Key: "$regex", Value: regexp.QuoteMeta(t)}, {Key: "$options", Value: "i"}}})
	}
	return q
}

// scope narrows f to what p may list: a resident their own and co-signed
// cases, a cadre their community, subdistrict staff their sub-district.
// Asking explicitly for another scope is EFORBIDDEN rather than an empty
// page, so a misconfigured console shows why.
func (s *Service) scope(p auth.Principal, f *Filter) (bson.D, error) {
	switch p.Role {
	case auth.RoleResident:
		if p.UserID == "" {
			return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
		}
		return bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "filer_id", Value: p.UserID}},
			bson.D{{Key: "cosigners", Value: p.UserID}},
		}}}, nil
	case auth.RoleCadre:
		if f.Community != "" && f.Community != p.Community {
			return nil, minsheng.Errorf(minsheng.EFORBIDDEN, "无权查看其他社区的案件")
		}
		if _, err := p.SubDistrictScope(s.dir, f.SubDistrict); err != nil {
			return nil, err
		}
		f.Community = p.Community
		return nil, nil
	case auth.RoleSubdistrict:
		if _, err := p.SubDistrictScope(s.dir, f.SubDistrict); err != nil {
			return nil, err
		}
		if f.Community != "" && !s.dir.Contains(p.SubDistrict, f.Community) {
			return nil, minsheng.Errorf(minsheng.EFORBIDDEN, "无权查看其他街道的案件")
		}
		f.SubDistrict = p.SubDistrict
		return nil, nil
	case auth.RoleFinance, auth.RoleAdmin:
		_, err := p.SubDistrictScope(s.dir, f.SubDistrict) // an unknown code is EINVALID
		return nil, err
	}
	return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
}

// Find returns one page of the cases p may see that match f, redacted for
// p, and the cursor of the next page ("" on the last one).
// Errors: EINVALID for a bad filter, EFORBIDDEN for a scope outside p's,
// EUNAUTHORIZED without an account.
func (s *Service) Find(ctx context.Context, p auth.Principal, f Filter) ([]*Case, string, error) {
	if err := f.check(); err != nil {
		return nil, "", err
	}
	scoped, err := s.scope(p, &f)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	// Every scope reads the summaries, then the page's cases by _id; a
	// resident's scope, filed or co-signed ($or, which the engine does not
	// push down), is one equality query for each, merged (findMine).
	onSummaries := !s.listOnCases
	q := f.query(now)
	if onSummaries {
		q = f.summaryQuery(now)
	} else {
		q = append(q, scoped...)
	}
	if f.Cursor != "" {
		bad := map[string]string{}
		cur := page.Decode(cursorList(f.Sort), f.Cursor, bad)
		if len(bad) > 0 {
			return nil, "", page.Invalid(bad)
		}
		field, op := "filed_at", "$lt"
		if f.Sort == SortDeadline {
			field, op = "due_at", "$gt"
		}
		q = append(q, bson.E{Key: "$and", Value: bson.A{bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: field, Value: bson.D{{Key: op, Value: cur.At}}}},
			bson.D{{Key: field, Value: cur.At}, {Key: "_id", Value: bson.D{{Key: op, Value: cur.ID}}}},
		}}}}})
	}
	sort := bson.D{{Key: "filed_at", Value: -1}, {Key: "_id", Value: -1}}
	if f.Sort == SortDeadline {
		sort = bson.D{{Key: "due_at", Value: 1}, {Key: "_id", Value: 1}}
	}
	var found []*Case
	switch {
	case onSummaries && p.Role == auth.RoleResident:
		if found, err = s.findMine(ctx, p.UserID, q, sort, f.Limit+1); err != nil {
			return nil, "", err
		}
	case onSummaries:
		sums, err := s.cases.Summaries(ctx, q, sort, int64(f.Limit+1))
		if err != nil {
			return nil, "", err
		}
		ids := make([]string, len(sums))
		for i, sm := range sums {
			ids[i] = sm.ID
		}
		if found, err = s.cases.ByIDs(ctx, ids); err != nil {
			return nil, "", err
		}
	default:
		opts := options.Find().SetSort(sort).SetLimit(int64(f.Limit + 1))
		if err := s.cases.FindAll(ctx, q, &found, opts); err != nil {
			return nil, "", fmt.Errorf("cases: unable to list cases: %w", err)
		}
	}
	next := ""
	if len(found) > f.Limit {
		found = found[:f.Limit]
		last := found[len(found)-1]
		at := last.FiledAt
		if f.Sort == SortDeadline {
			at = last.DueAt
		}
		next = page.Encode(cursorList(f.Sort), page.Cursor{At: at, ID: last.ID})
	}
	out := make([]*Case, len(found))
	for i, c := range found {
		if out[i], err = s.view(ctx, p, c); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

// findMine returns the first n cases, in sort's order, whose summaries
// match q and name userID as their filer or a co-signer: one query on
// filer_id and one on cosigners, each pushed down by equality, merged.
// A case as read now must still be the resident's (a summary may lag
// behind a write that bypassed it, such as ForgetResident's).
func (s *Service) findMine(ctx context.Context, userID string, q, sort bson.D, n int) ([]*Case, error) {
	var sums []summary
	for _, field := range []string{"filer_id", "cosigners"} {
		part, err := s.cases.Summaries(ctx, append(slices.Clone(q), bson.E{Key: field, Value: userID}), sort, int64(n))
		if err != nil {
			return nil, err
		}
		sums = append(sums, part...)
	}
	byDue := sort[0].Key == "due_at"
	slices.SortFunc(sums, func(a, b summary) int {
		if byDue {
			return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.ID, b.ID))
		}
		return cmp.Or(b.FiledAt.Compare(a.FiledAt), cmp.Compare(b.ID, a.ID))
	})
	sums = slices.CompactFunc(sums, func(a, b summary) bool { return a.ID == b.ID })
	ids := make([]string, 0, n)
	for _, sm := range sums[:min(n, len(sums))] {
		ids = append(ids, sm.ID)
	}
	found, err := s.cases.ByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(found, func(c *Case) bool {
		return c.FilerID != userID && !slices.Contains(c.Cosigners, userID)
	}), nil
}

// EachCase streams every case matching f to fn, oldest first, without scope
// or redaction: for reports, budgetlink and the checker, which sum in Go
// (docs/ARCHITECTURE.md: no $group). Cursor and Limit are ignored. fn's error stops
// the scan and is returned.
func (s *Service) EachCase(ctx context.Context, f Filter, fn func(*Case) error) error {
	f.Cursor, f.Limit = "", 1
	if err := f.check(); err != nil {
		return err
	}
	// The matching ids come from the summaries (top-level fields the
	// engine pushes down), then the cases in batches by _id $in, so a
	// report on one sub-district decodes that sub-district's cases only.
	now := s.now()
	if s.listOnCases {
		opts := options.Find().SetSort(bson.D{{Key: "filed_at", Value: 1}, {Key: "_id", Value: 1}})
		var all []*Case
		if err := s.cases.FindAll(ctx, f.query(now), &all, opts); err != nil {
			return err
		}
		for _, c := range all {
			c.CosignCount = len(c.Cosigners)
			c.StatusLabel = c.Status.Label()
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	sums, err := s.cases.Summaries(ctx, f.summaryQuery(now),
		bson.D{{Key: "filed_at", Value: 1}, {Key: "_id", Value: 1}}, 0)
	if err != nil {
		return err
	}
	for start := 0; start < len(sums); start += eachBatch {
		ids := make([]string, 0, eachBatch)
		for _, sm := range sums[start:min(start+eachBatch, len(sums))] {
			ids = append(ids, sm.ID)
		}
		batch, err := s.cases.ByIDs(ctx, ids)
		if err != nil {
			return err
		}
		for _, c := range batch {
			if !f.matches(c, now) {
				continue
			}
			c.CosignCount = len(c.Cosigners)
			c.StatusLabel = c.Status.Label()
			if err := fn(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// eachBatch is how many cases EachCase fetches per _id $in.
const eachBatch = 200
