package ledger

// Budget lines (预算项目): fiscal year × sub-district × catalog item ×
// project name. A line document carries its own totals, its reservations
// and the adjustments applied to it, so every money movement is one
// conditional single-document update and `Check` can recompute the totals
// from the document alone (docs/ARCHITECTURE.md, engine defects).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/budgetlink/catalog"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
	"minsheng/internal/org"
	"minsheng/internal/page"
	"minsheng/internal/store"
)

// Collections and the indexes their queries need.
const (
	linesCollection       = "budget_lines"
	adjustmentsCollection = "budget_adjustments"
	auditCollection       = "budget_audit"
)

// Indexes are the indexes budgetlink's queries need; cmd creates them at start.
var Indexes = []store.Index{
	{Collection: linesCollection, Name: "line_unique", Keys: bson.D{{Key: "fiscal_year", Value: 1}, {Key: "sub_district", Value: 1}, {Key: "item_code", Value: 1}, {Key: "project_name", Value: 1}}, Unique: true},
	{Collection: linesCollection, Name: "batch", Keys: bson.D{{Key: "import_batch", Value: 1}}, Sparse: true},
	{Collection: linesCollection, Name: "item", Keys: bson.D{{Key: "fiscal_year", Value: 1}, {Key: "item_code", Value: 1}}},
	{Collection: linesCollection, Name: "reservation_case", Keys: bson.D{{Key: "reservations.case_id", Value: 1}}},
	{Collection: adjustmentsCollection, Name: "state", Keys: bson.D{{Key: "state", Value: 1}, {Key: "created_at", Value: 1}}},
	{Collection: adjustmentsCollection, Name: "scope", Keys: bson.D{{Key: "fiscal_year", Value: 1}, {Key: "sub_districts", Value: 1}, {Key: "created_at", Value: 1}}},
	{Collection: adjustmentsCollection, Name: "idempotency_key", Keys: bson.D{{Key: "idempotency_key", Value: 1}}, Unique: true, Sparse: true},
	{Collection: importBatchesCollection, Name: "state", Keys: bson.D{{Key: "state", Value: 1}, {Key: "created_at", Value: 1}}},
	{Collection: auditCollection, Name: "line", Keys: bson.D{{Key: "line_id", Value: 1}, {Key: "at", Value: 1}}},
	{Collection: auditCollection, Name: "case", Keys: bson.D{{Key: "case_id", Value: 1}, {Key: "at", Value: 1}}},
	{Collection: auditCollection, Name: "scope", Keys: bson.D{{Key: "sub_district", Value: 1}, {Key: "at", Value: 1}}},
	// case_budget_claims: by _id only (claim.go).
	{Collection: ledgerClaimsCollection, Name: "state", Keys: bson.D{{Key: "state", Value: 1}}},
}

// Reservation states. Only reserved and spent entries are live; a released
// entry stays on the line for history with its case id moved aside, so the
// same case can be linked again.
const (
	StateReserved = "reserved" // 已预留
	StateSpent    = "spent"    // 已支出
	StateReleased = "released" // 已释放
)

// Review stages (事前、事中、事后评审).
const (
	ReviewBefore = "before" // 事前
	ReviewDuring = "during" // 事中
	ReviewAfter  = "after"  // 事后
)

var reviewLabels = map[string]string{ReviewBefore: "事前评审", ReviewDuring: "事中评审", ReviewAfter: "事后评审"}

// BudgetLine is one approved budget project of a sub-district.
//
// The invariant, kept by every update and restored by Check:
// available = approved + adjusted − committed − spent ≥ 0, where committed
// is the sum of the reserved entries, spent the sum of the spent entries and
// adjusted the sum of the applied adjustments.
type BudgetLine struct {
	ID          string `bson:"_id" json:"id"`
	FiscalYear  int    `bson:"fiscal_year" json:"fiscal_year"`
	SubDistrict string `bson:"sub_district" json:"sub_district"`
	ItemCode    string `bson:"item_code" json:"item_code"`
	ItemName    string `bson:"item_name" json:"item_name"`
	Area        string `bson:"area" json:"area"`
	ProjectName string `bson:"project_name" json:"project_name"`

	ApprovedFen  int64 `bson:"approved_fen" json:"approved_fen"` // 年初批复
	AdjustedFen  int64 `bson:"adjusted_fen" json:"adjusted_fen"` // net of applied adjustments
	CommittedFen int64 `bson:"committed_fen" json:"committed_fen"`
	SpentFen     int64 `bson:"spent_fen" json:"spent_fen"`
	AvailableFen int64 `bson:"available_fen" json:"available_fen"`
	// AdjustmentCount counts applied adjustments, so reports can tell a line
	// executed as approved from an adjusted one without reading the entries.
	AdjustmentCount int64 `bson:"adjustment_count" json:"adjustment_count"`

	Reservations []Reservation `bson:"reservations" json:"reservations,omitempty"`
	Adjustments  []LineDelta   `bson:"adjustments" json:"adjustments,omitempty"`
	// Payments are the line's direct expenditures without a case
	// (payment.go): wages, running costs. They count in SpentFen.
	Payments []Payment `bson:"payments,omitempty" json:"payments,omitempty"`
	// Applied holds the marker of every claimed movement applied to the
	// line (ledgerclaim.go), keyed by markKey(claim id), valued by the
	// movement's audit id: the exact guard against applying one twice.
	Applied map[string]string `bson:"applied,omitempty" json:"-"`
	// Frozen is why Check froze the line: stored figures it cannot add up
	// within MaxAmountFen (data written before the bounds, or by hand).
	// No money moves on a frozen line until finance corrects it.
	Frozen      string       `bson:"frozen,omitempty" json:"frozen,omitempty"`
	ReviewStage string       `bson:"review_stage,omitempty" json:"review_stage,omitempty"`
	ReviewNotes []ReviewNote `bson:"review_notes,omitempty" json:"review_notes,omitempty"`
	Version     int64        `bson:"version" json:"version"`
	ImportBatch string       `bson:"import_batch,omitempty" json:"import_batch,omitempty"`
	CreatedAt   time.Time    `bson:"created_at" json:"created_at"`
	CreatedBy   string       `bson:"created_by" json:"created_by"`
	UpdatedAt   time.Time    `bson:"updated_at" json:"updated_at"`
}

// BudgetFen is what the line may spend in all: approved plus adjustments.
func (l *BudgetLine) BudgetFen() int64 { return l.ApprovedFen + l.AdjustedFen }

// Reservation is a case's claim on a line: an estimate while reserved, the
// actual cost once spent.
type Reservation struct {
	CaseID string `bson:"case_id" json:"case_id"`
	// ReleasedCaseID holds the case id of a released entry, whose CaseID is
	// emptied so the case can be linked again.
	ReleasedCaseID string    `bson:"released_case_id,omitempty" json:"released_case_id,omitempty"`
	AmountFen      int64     `bson:"amount_fen" json:"amount_fen"`
	SpentFen       int64     `bson:"spent_fen" json:"spent_fen"`
	State          string    `bson:"state" json:"state"`
	LinkedAt       time.Time `bson:"linked_at" json:"linked_at"`
	LinkedBy       string    `bson:"linked_by" json:"linked_by"`
	// Movement is the id of the last money movement on this entry; its audit
	// entry carries the same id, so Check can write a missing one.
	Movement  string    `bson:"movement" json:"movement"`
	UpdatedAt time.Time `bson:"updated_at" json:"updated_at"`
	// Claim is the ledger claim the entry was reserved under; Check keys
	// duplicates by it (and by the case).
	Claim string `bson:"claim,omitempty" json:"-"`
	// ReleasedFen is, on a spent entry of a line's view (LineWithCases),
	// what the spending left of the reservation and gave back to the line
	// (reserved 48,000.00, spent 46,500.00: 1,500.00); never stored.
	ReleasedFen int64 `bson:"-" json:"released_fen,omitempty"`
}

// Live reports whether the entry still holds money (reserved or spent).
func (r Reservation) Live() bool { return r.State == StateReserved || r.State == StateSpent }

// LineDelta is one adjustment as applied to one line.
type LineDelta struct {
	AdjustmentID string    `bson:"id" json:"adjustment_id"`
	Kind         string    `bson:"kind" json:"kind"`
	DeltaFen     int64     `bson:"delta_fen" json:"delta_fen"`
	At           time.Time `bson:"at" json:"at"`
}

// errFrozen refuses a money movement on a frozen line.
func errFrozen(l *BudgetLine) error {
	return minsheng.Errorf(minsheng.ECONFLICT, "预算项目「%s」的金额数据异常，已被数据核查冻结（%s），请财政部门核对后处理", l.ProjectName, l.Frozen)
}

// ReviewNote is one note of a 事前/事中/事后 review.
type ReviewNote struct {
	Stage  string    `bson:"stage" json:"stage"`
	Note   string    `bson:"note" json:"note"`
	By     string    `bson:"by" json:"by"`
	ByName string    `bson:"by_name" json:"by_name"`
	At     time.Time `bson:"at" json:"at"`
}

// Totals are a line's money figures at one moment; audit entries carry them
// before and after each movement.
type Totals struct {
	ApprovedFen  int64 `bson:"approved_fen" json:"approved_fen"`
	AdjustedFen  int64 `bson:"adjusted_fen" json:"adjusted_fen"`
	CommittedFen int64 `bson:"committed_fen" json:"committed_fen"`
	SpentFen     int64 `bson:"spent_fen" json:"spent_fen"`
	AvailableFen int64 `bson:"available_fen" json:"available_fen"`
}

// Totals returns the line's current figures.
func (l *BudgetLine) Totals() Totals {
	return Totals{ApprovedFen: l.ApprovedFen, AdjustedFen: l.AdjustedFen, CommittedFen: l.CommittedFen, SpentFen: l.SpentFen, AvailableFen: l.AvailableFen}
}

// Movements read the whole line back from findAndModify: FerretDB v1
// refuses a projection there ("support for field fields is not
// implemented"), measured against v1.24.2.

// Config is what the service needs.
type Config struct {
	Org    *org.Directory
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Zone is where fiscal years are counted (a case's filing year, a
	// report's year); nil: calendar.Zone.
	Zone *time.Location
	// StaleAfter is how old a pending adjustment must be before Check
	// finishes it, so Check does not race a request still applying it.
	// Zero means one minute.
	StaleAfter time.Duration
}

// Service keeps the budget ledger: lines, adjustments, reservations and
// their audit trail, and links cases to lines.
type Service struct {
	store       *store.Store
	lines       *store.Collection
	adjustments *store.Collection
	audit       *store.Collection
	claims      *store.Collection
	// ledgerClaims decide which request applies a movement (ledgerclaim.go).
	ledgerClaims *store.Collection
	// boot identifies this process in the claims it takes; holding counts
	// this process's requests holding each claim (ledgerclaim.go).
	boot    string
	holdMu  sync.Mutex
	holding map[string]int
	org     *org.Directory
	logger  *slog.Logger
	now     func() time.Time
	// zone is where fiscal years are counted (Config.Zone).
	zone       *time.Location
	staleAfter time.Duration

	catalogMu sync.Mutex
	catalogs  map[int]*catalog.Catalog

	// claimsComplete is set once Check has given every live reservation
	// its case claim (claim.go), so a link need not scan the lines for
	// reservations made before claims.
	claimsComplete atomic.Bool

	cases    caseBook       // nil until SetCases
	casesSvc *cases.Service // nil until SetCases

	// Fault hooks, set only by tests, simulate a crash at the named step:
	// a non-nil error returned by one aborts the operation right there.
	faultAfterClaim      func() error // case claimed, line not yet reserved
	faultAfterReserve    func() error // line reserved, case copy not yet written
	faultAfterRelease    func() error // line released, case copy not yet written
	faultBeforeClaimDrop func() error // line released, case's claim not yet dropped
	faultBeforeEffect    func() error // case transition decided, its money effect not yet applied (effects.go)
	faultAfterDebit      func() error // first line of a transfer applied, second not
	faultBeforeAuditFn   func() error // line updated, audit entry not yet written
}

// NewService returns the ledger over st.
func NewService(st *store.Store, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Org == nil {
		cfg.Org = org.Xicheng()
	}
	if cfg.StaleAfter == 0 {
		cfg.StaleAfter = time.Minute
	}
	return &Service{
		store:        st,
		lines:        st.Collection(linesCollection),
		adjustments:  st.Collection(adjustmentsCollection),
		audit:        st.Collection(auditCollection),
		claims:       st.Collection(claimsCollection),
		ledgerClaims: st.Collection(ledgerClaimsCollection),
		boot:         newID("P"),
		org:          cfg.Org,
		logger:       cfg.Logger,
		now:          func() time.Time { return cfg.Now().UTC().Truncate(time.Millisecond) },
		staleAfter:   cfg.StaleAfter,
		zone:         calendar.Or(cfg.Zone),
		catalogs:     map[int]*catalog.Catalog{},
	}
}

// Catalog returns the standard catalog of a fiscal year, loaded once.
// An unknown year is ENOTFOUND.
func (s *Service) Catalog(fiscalYear int) (*catalog.Catalog, error) {
	s.catalogMu.Lock()
	defer s.catalogMu.Unlock()
	if c, ok := s.catalogs[fiscalYear]; ok {
		return c, nil
	}
	c, err := catalog.LoadCatalog(fiscalYear)
	if err != nil {
		return nil, err
	}
	s.catalogs[fiscalYear] = c
	return c, nil
}

// CatalogAt returns the catalog in force at t (CatalogYearAt, in the
// service's zone).
func (s *Service) CatalogAt(t time.Time) (*catalog.Catalog, error) {
	y := catalog.CatalogYearAt(t, s.zone)
	if y == 0 {
		return nil, errors.New("budgetlink: no catalog embedded")
	}
	return s.Catalog(y)
}

// Zone is the zone the service counts fiscal years in.
func (s *Service) Zone() *time.Location { return s.zone }

// NewLine is the input for creating a line.
type NewLine struct {
	FiscalYear  int    `json:"fiscal_year"`
	SubDistrict string `json:"sub_district"`
	ItemCode    string `json:"item_code"`
	ProjectName string `json:"project_name"`
	ApprovedFen int64  `json:"approved_fen"`
}

// validate checks one new line against the catalog and the org and returns
// per-field messages (empty when valid) plus the catalog item.
func (s *Service) validateNewLine(in NewLine) (map[string]string, catalog.CatalogItem) {
	fields := map[string]string{}
	var item catalog.CatalogItem
	cat, err := s.Catalog(in.FiscalYear)
	if err != nil {
		fields["fiscal_year"] = fmt.Sprintf("没有 %d 财年的街道支出分类", in.FiscalYear)
	} else if it, ok := cat.Item(strings.TrimSpace(in.ItemCode)); !ok {
		fields["item_code"] = fmt.Sprintf("支出分类编码不存在：%s", in.ItemCode)
	} else {
		item = it
	}
	if _, err := s.org.SubDistrict(strings.TrimSpace(in.SubDistrict)); err != nil {
		fields["sub_district"] = fmt.Sprintf("街道不存在：%s", in.SubDistrict)
	}
	name := strings.TrimSpace(in.ProjectName)
	switch {
	case name == "":
		fields["project_name"] = "必填"
	case utf8.RuneCountInString(name) > 100:
		fields["project_name"] = "不能超过 100 个字"
	}
	if in.ApprovedFen < 0 {
		fields["approved_fen"] = "批复金额不能为负数"
	} else if msg := minsheng.FenProblem(in.ApprovedFen); msg != "" {
		fields["approved_fen"] = msg
	}
	return fields, item
}

func (s *Service) lineDoc(in NewLine, item catalog.CatalogItem, by, batch string) *BudgetLine {
	now := s.now()
	return &BudgetLine{
		ID:           newID("BL"),
		FiscalYear:   in.FiscalYear,
		SubDistrict:  strings.TrimSpace(in.SubDistrict),
		ItemCode:     item.Code,
		ItemName:     item.Name,
		Area:         item.Area,
		ProjectName:  strings.TrimSpace(in.ProjectName),
		ApprovedFen:  in.ApprovedFen,
		AvailableFen: in.ApprovedFen,
		Reservations: []Reservation{},
		Adjustments:  []LineDelta{},
		ImportBatch:  batch,
		CreatedAt:    now,
		CreatedBy:    by,
		UpdatedAt:    now,
	}
}

// CreateLine adds an approved budget line. Finance and admin may create
// lines anywhere, sub-district staff only in their own sub-district.
// Errors: EFORBIDDEN, EINVALID (with fields), ECONFLICT when a line with the
// same year, sub-district, item and project name exists.
func (s *Service) CreateLine(ctx context.Context, p auth.Principal, in NewLine) (*BudgetLine, error) {
	if err := p.RequireRole(auth.RoleSubdistrict, auth.RoleFinance, auth.RoleAdmin); err != nil {
		return nil, err
	}
	fields, item := s.validateNewLine(in)
	if len(fields) > 0 {
		return nil, minsheng.Invalid("预算项目信息有误", fields)
	}
	if err := p.RequireAccess(strings.TrimSpace(in.SubDistrict), ""); err != nil {
		return nil, err
	}
	l := s.lineDoc(in, item, p.UserID, "")
	if err := s.lines.InsertOne(ctx, l); err != nil {
		if minsheng.ErrorCode(err) == minsheng.ECONFLICT {
			return nil, minsheng.Errorf(minsheng.ECONFLICT, "%d 年度该街道已有同名预算项目：%s", l.FiscalYear, l.ProjectName)
		}
		return nil, fmt.Errorf("budgetlink: unable to create line: %w", err)
	}
	return l, nil
}

// FindLineByID returns a line without any scope check (for internal callers
// and Check). ENOTFOUND when absent.
func (s *Service) FindLineByID(ctx context.Context, id string) (*BudgetLine, error) {
	var l BudgetLine
	if err := s.lines.FindOne(ctx, bson.M{"_id": id}, &l); err != nil {
		if minsheng.ErrorCode(err) == minsheng.ENOTFOUND {
			return nil, &minsheng.Error{Code: minsheng.ENOTFOUND, Message: "预算项目不存在：" + id, Err: err}
		}
		return nil, fmt.Errorf("budgetlink: unable to read line %s: %w", id, err)
	}
	return &l, nil
}

// Line returns a line with its reservations and adjustments, if p may see
// its sub-district. Errors: EFORBIDDEN, ENOTFOUND.
func (s *Service) Line(ctx context.Context, p auth.Principal, id string) (*BudgetLine, error) {
	if err := requireLedgerReader(p); err != nil {
		return nil, err
	}
	l, err := s.FindLineByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := p.RequireAccess(l.SubDistrict, ""); err != nil {
		return nil, err
	}
	return l, nil
}

// requireLedgerReader admits the roles that may see budget figures.
func requireLedgerReader(p auth.Principal) error {
	return p.RequireRole(auth.RoleSubdistrict, auth.RoleFinance, auth.RoleAdmin)
}

// RequireReader admits the roles that may see budget figures (the reports
// check it first). Errors: EFORBIDDEN.
func RequireReader(p auth.Principal) error { return requireLedgerReader(p) }

// ReaderScope is the sub-district a ledger read by p covers: staff of a
// sub-district get their own, finance and admin the one asked for ("" for
// all); p must read the ledger and may read only what p may see.
// Errors: EFORBIDDEN, EINVALID (unknown sub-district).
func (s *Service) ReaderScope(p auth.Principal, sub string) (string, error) {
	if err := requireLedgerReader(p); err != nil {
		return "", err
	}
	sub, err := p.SubDistrictScope(s.org, sub)
	if err != nil {
		return "", err
	}
	if sub != "" {
		if err := p.RequireAccess(sub, ""); err != nil {
			return "", err
		}
	}
	return sub, nil
}

// LineFilter selects lines. Zero fields do not filter.
type LineFilter struct {
	FiscalYear  int
	SubDistrict string
	ItemCode    string
	// Sort orders the list (ParseLineSort: "sub_district,-spent_fen");
	// empty lists in id order.
	Sort []string
	// Cursor is the next_cursor of the previous page; Limit is 1..100
	// (default 20: internal/page).
	Cursor string
	Limit  int
}

// lineListFields is what a list of lines leaves out: the entries
// (reservations, payments, adjustments, review notes, applied marks), which
// only a line's own page shows.
func lineListFields() bson.M {
	return bson.M{"reservations": 0, "adjustments": 0, "payments": 0, "review_notes": 0, "applied": 0}
}

// Lines lists lines in id order (or f.Sort's) without their reservation, payment and adjustment
// entries, scoped to p: sub-district staff see only their own sub-district.
// It returns the page and the cursor of the next one ("" at the end).
func (s *Service) Lines(ctx context.Context, p auth.Principal, f LineFilter) ([]*BudgetLine, string, error) {
	var err error
	if f.SubDistrict, err = s.ReaderScope(p, f.SubDistrict); err != nil {
		return nil, "", err
	}
	if len(f.Sort) > 0 {
		return s.sortedLines(ctx, f)
	}
	after, limit, err := page.Read(lineCursors, f.Cursor, f.Limit)
	if err != nil {
		return nil, "", err
	}
	f.Limit = limit
	q := lineQuery(f.FiscalYear, f.SubDistrict)
	if f.ItemCode != "" {
		q["item_code"] = f.ItemCode
	}
	if f.Cursor != "" {
		q["_id"] = bson.M{"$gt": after.ID}
	}
	var out []*BudgetLine
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(f.Limit) + 1).
		SetProjection(lineListFields())
	if err := s.lines.FindAll(ctx, q, &out, opts); err != nil {
		return nil, "", fmt.Errorf("budgetlink: unable to list lines: %w", err)
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = page.Encode(lineCursors, page.Cursor{ID: out[len(out)-1].ID})
	}
	return out, next, nil
}

// lineCursors names the line list's cursors (the last id).
const lineCursors = "budget-lines"

func lineQuery(year int, sub string) bson.M {
	q := bson.M{}
	if year != 0 {
		q["fiscal_year"] = year
	}
	if sub != "" {
		q["sub_district"] = sub
	}
	return q
}

// Review records a 事前/事中/事后 review note on a line and moves its review
// stage. Finance and admin anywhere, sub-district staff in their own.
// Errors: EFORBIDDEN, EINVALID, ENOTFOUND.
func (s *Service) Review(ctx context.Context, p auth.Principal, lineID, stage, note string) (*BudgetLine, error) {
	if err := p.RequireRole(auth.RoleSubdistrict, auth.RoleFinance, auth.RoleAdmin); err != nil {
		return nil, err
	}
	fields := map[string]string{}
	if _, ok := reviewLabels[stage]; !ok {
		fields["stage"] = "应为 before（事前）、during（事中）或 after（事后）"
	}
	note = strings.TrimSpace(note)
	if note == "" {
		fields["note"] = "必填"
	} else if utf8.RuneCountInString(note) > 2000 {
		fields["note"] = "不能超过 2000 个字"
	}
	if len(fields) > 0 {
		return nil, minsheng.Invalid("评审信息有误", fields)
	}
	l, err := s.FindLineByID(ctx, lineID)
	if err != nil {
		return nil, err
	}
	if err := p.RequireAccess(l.SubDistrict, ""); err != nil {
		return nil, err
	}
	now := s.now()
	n := ReviewNote{Stage: stage, Note: note, By: p.UserID, ByName: p.Name, At: now}
	// Review notes are not money: no version bump, so they never make a
	// concurrent money movement retry.
	if _, err := s.lines.UpdateOne(ctx, bson.M{"_id": lineID},
		bson.M{"$set": bson.M{"review_stage": stage}, "$push": bson.M{"review_notes": n}}); err != nil {
		return nil, fmt.Errorf("budgetlink: unable to record review: %w", err)
	}
	return s.FindLineByID(ctx, lineID)
}
