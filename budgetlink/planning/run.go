package planning

// Allocation runs. A committed run is stored before any money moves, with
// every decision the engine made, so the reservations it applies are the
// stored decisions and never a fresh computation:
//
//  1. insert the run (_id = the client's run id, state applying);
//  2. link each funded need to its line through the ledger (LinkCase: one
//     conditional update on the line per case, idempotent for the same case
//     and amount, then the case's copy) and record the outcome in
//     allocation_run_items (_id = run id/case id);
//  3. set the run's state to done.
//
// A crash anywhere leaves the run applying; POSTing the same run id again
// skips the recorded outcomes and re-reserves the rest, and the ledger
// answers a reservation it already made with the existing one, so nothing
// is reserved twice and the totals come out exact.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/budgetlink/allocation"
	"minsheng/budgetlink/ledger"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
)

// Run states.
const (
	RunPreview  = "preview"  // dry run: computed and stored, no money moved (previews.go)
	RunApplying = "applying" // stored, reservations being applied
	RunDone     = "done"     // every funded need reserved or refused
)

// Outcomes of one funded need in a committed run.
const (
	ItemApplied = "applied" // reserved on the line
	ItemFailed  = "failed"  // the ledger refused (the case or line changed since the decision)
)

// RunRequest asks for an allocation run of one sub-district and year.
type RunRequest struct {
	// RunID is a client-generated UUID; repeating it repeats the run's
	// result instead of running again.
	RunID       string `json:"run_id"`
	FiscalYear  int    `json:"fiscal_year"`
	SubDistrict string `json:"sub_district"`
	// DryRun previews the run: it is stored as a preview (state preview)
	// that can be fetched later, and no money moves.
	DryRun bool `json:"dry_run"`
	// FromPreview commits a stored preview (its run id): the run is
	// decided again from the store as of the preview's time and goes ahead
	// only if nothing it depends on moved since (ECONFLICT otherwise: the
	// console then previews again). Only with DryRun false.
	FromPreview string `json:"from_preview,omitempty"`
}

// RunLine is one line's outcome with the names staff know it by.
type RunLine struct {
	allocation.LineResult `bson:"result"`
	SubDistrict           string `json:"sub_district" bson:"sub_district"`
	ItemCode              string `json:"item_code" bson:"item_code"`
	ItemName              string `json:"item_name" bson:"item_name"`
	Area                  string `json:"area" bson:"area"`
	ProjectName           string `json:"project_name" bson:"project_name"`
}

// RunFailure is a funded need the ledger refused when the run applied it.
type RunFailure struct {
	CaseID    string `json:"case_id"`
	LineID    string `json:"line_id"`
	AmountFen int64  `json:"amount_fen"`
	Message   string `json:"message"`
}

// RunReport is a run's result: per line funded, waitlisted and shortfall,
// suggested adjustments, next year's requests and, once committed, what
// was applied.
type RunReport struct {
	RunID       string                           `json:"run_id"`
	FiscalYear  int                              `json:"fiscal_year"`
	SubDistrict string                           `json:"sub_district"`
	DryRun      bool                             `json:"dry_run"`
	State       string                           `json:"state"`
	AsOf        time.Time                        `json:"as_of"`
	Weights     allocation.Weights               `json:"weights"`
	Lines       []RunLine                        `json:"lines"`
	Adjustments []allocation.SuggestedAdjustment `json:"adjustments"`
	NextYear    []allocation.BudgetRequest       `json:"next_year"`
	Unplaced    []Unplaced                       `json:"unplaced"`

	FundedCases     int   `json:"funded_cases"`
	FundedFen       int64 `json:"funded_fen"`
	WaitlistedCases int   `json:"waitlisted_cases"`
	ShortfallFen    int64 `json:"shortfall_fen"`
	// Applied counts funded needs reserved so far; Failed those refused.
	Applied int          `json:"applied"`
	Failed  []RunFailure `json:"failed"`

	// Cases names every case the run decided on (number and title) for
	// people reading it; filled by StartRunNamed and RunNamed, not stored.
	Cases map[string]ledger.CaseName `json:"cases,omitempty" bson:"-"`

	CreatedBy  string     `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at,omitzero"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// FromPreview is the preview a committed run was made from;
	// CommittedAs the committed run a preview became.
	FromPreview string `json:"from_preview,omitempty"`
	CommittedAs string `json:"committed_as,omitempty"`
	// CreatedByName is who made the run, as named then.
	CreatedByName string `json:"created_by_name,omitempty"`
}

type runDoc struct {
	ID          string                           `bson:"_id"`
	FiscalYear  int                              `bson:"fiscal_year"`
	SubDistrict string                           `bson:"sub_district"`
	State       string                           `bson:"state"`
	AsOf        time.Time                        `bson:"as_of"`
	Weights     allocation.Weights               `bson:"weights"`
	Lines       []RunLine                        `bson:"lines"`
	Adjustments []allocation.SuggestedAdjustment `bson:"adjustments"`
	NextYear    []allocation.BudgetRequest       `bson:"next_year"`
	Unplaced    []Unplaced                       `bson:"unplaced"`
	CreatedBy   string                           `bson:"created_by"`
	CreatedAt   time.Time                        `bson:"created_at"`
	FinishedAt  *time.Time                       `bson:"finished_at,omitempty"`
	// InputsDigest fingerprints what the run was decided from
	// (allocation.InputsDigest); FromPreview is the preview a committed
	// run was made from, CommittedAs the run a preview became.
	InputsDigest string `bson:"inputs_digest,omitempty"`
	// CreatedByName is the creator's name as the run was made, for the list.
	CreatedByName string `bson:"created_by_name,omitempty"`
	FromPreview   string `bson:"from_preview,omitempty"`
	CommittedAs   string `bson:"committed_as,omitempty"`
}

type runItem struct {
	ID        string    `bson:"_id"`
	RunID     string    `bson:"run_id"`
	CaseID    string    `bson:"case_id"`
	LineID    string    `bson:"line_id"`
	AmountFen int64     `bson:"amount_fen"`
	State     string    `bson:"state"`
	Message   string    `bson:"message,omitempty"`
	At        time.Time `bson:"at"`
}

func (r *RunRequest) validate() error {
	fields := map[string]string{}
	r.RunID = strings.TrimSpace(r.RunID)
	if r.RunID == "" {
		fields["run_id"] = "必填"
	} else if _, err := uuid.Parse(r.RunID); err != nil || len(r.RunID) != 36 {
		fields["run_id"] = "应为客户端生成的 UUID"
	}
	if !calendar.ValidFiscalYear(r.FiscalYear) {
		fields["fiscal_year"] = calendar.FiscalYearProblem
	}
	r.SubDistrict = strings.TrimSpace(r.SubDistrict)
	if r.SubDistrict == "" {
		fields["sub_district"] = "必填"
	}
	r.FromPreview = strings.ToLower(strings.TrimSpace(r.FromPreview))
	if r.FromPreview != "" && r.DryRun {
		fields["from_preview"] = "预览不能基于另一预览"
	}
	if len(fields) > 0 {
		return minsheng.Invalid("分配测算请求有误", fields)
	}
	r.RunID = strings.ToLower(r.RunID)
	return nil
}

// StartRun runs the allocation of one sub-district's lines for a year:
// each line funds its needs in priority order, skipping one that does not
// fit (allocation.Run). A dry run returns the preview and stores nothing;
// otherwise the run is stored and its funded needs are reserved on their
// lines. Repeating a run id returns the stored run, finishing it first if a
// crash interrupted it; the same id with another year, sub-district or as a
// dry run is ECONFLICT.
// Errors: EFORBIDDEN (role; sub-district staff of another sub-district),
// EINVALID, ENOTFOUND (no catalog for the year), ECONFLICT.
func (s *Service) StartRun(ctx context.Context, p auth.Principal, req RunRequest) (RunReport, error) {
	if err := requireStaff(p); err != nil {
		return RunReport{}, err
	}
	if err := req.validate(); err != nil {
		return RunReport{}, err
	}
	if _, err := s.scopeSubDistrict(p, req.SubDistrict); err != nil {
		return RunReport{}, err
	}
	existing, err := s.findRun(ctx, req.RunID)
	if err != nil && !errors.Is(err, minsheng.ErrNotFound) {
		return RunReport{}, err
	}
	if existing != nil {
		return s.repeat(ctx, p, existing, req)
	}
	doc, err := s.decideRun(ctx, p, req)
	if err != nil {
		return RunReport{}, err
	}
	if req.DryRun {
		doc.State = RunPreview
		return s.storePreview(ctx, p, doc, req)
	}
	return s.commitRun(ctx, p, doc, req)
}

// decideRun collects the demand of req and runs the allocation on it,
// as of now or of the preview it commits, and returns the run to store.
func (s *Service) decideRun(ctx context.Context, p auth.Principal, req RunRequest) (*runDoc, error) {
	yw, err := s.yearWeights(ctx, req.FiscalYear)
	if err != nil {
		return nil, err
	}
	asOf := s.now()
	var prev *runDoc
	if req.FromPreview != "" {
		// Decide as of the preview's time, so equal inputs give the
		// preview's decisions exactly (days waiting included).
		if prev, err = s.previewToCommit(ctx, p, req); err != nil {
			return nil, err
		}
		asOf = prev.AsOf
	}
	d, err := s.collect(ctx, p, req.FiscalYear, req.SubDistrict, asOf)
	if err != nil {
		return nil, err
	}
	res, err := allocation.Run(d.lines, d.needs, yw.Weights, asOf)
	if err != nil {
		return nil, err
	}
	digest := inputsDigest(d, yw.Weights)
	if prev != nil {
		if err := s.claimPreview(ctx, prev, req.RunID, digest); err != nil {
			return nil, err
		}
	}
	doc := &runDoc{
		ID: req.RunID, FiscalYear: req.FiscalYear, SubDistrict: req.SubDistrict, State: RunApplying,
		AsOf: asOf, Weights: yw.Weights, Adjustments: res.Adjustments, NextYear: withUnplaced(res.NextYear, d.unplaced), Unplaced: d.unplaced,
		CreatedBy: p.UserID, CreatedByName: p.Name, CreatedAt: s.now(), InputsDigest: digest, FromPreview: req.FromPreview,
	}
	for _, lr := range res.Lines {
		li := d.lineInfo[lr.LineID]
		doc.Lines = append(doc.Lines, RunLine{LineResult: lr, SubDistrict: li.SubDistrict, ItemCode: li.ItemCode, ItemName: li.ItemName, Area: li.Area, ProjectName: li.ProjectName})
	}
	if doc.Lines == nil {
		doc.Lines = []RunLine{}
	}
	return doc, nil
}

// commitRun stores a committed run and reserves its funded needs, under
// the run's lock; a run stored first by another request is repeated.
func (s *Service) commitRun(ctx context.Context, p auth.Principal, doc *runDoc, req RunRequest) (RunReport, error) {
	unlock, err := s.runLock(ctx, doc.ID)
	if err != nil {
		return RunReport{}, err
	}
	if err := s.runs.InsertOne(ctx, doc); errors.Is(err, minsheng.ErrDuplicate) {
		// Another request with the same run id stored it first.
		unlock()
		existing, ferr := s.findRun(ctx, req.RunID)
		if ferr != nil {
			return RunReport{}, ferr
		}
		return s.repeat(ctx, p, existing, req)
	} else if err != nil {
		unlock()
		return RunReport{}, fmt.Errorf("planning: unable to store run %s: %w", doc.ID, err)
	}
	err = s.apply(ctx, p, doc)
	unlock()
	if err != nil {
		return RunReport{}, err
	}
	return s.reportOf(ctx, doc)
}

// runLock admits one applier of a committed run in this process at a
// time. Copies of a re-POSTed run then wait for the first and return its
// result, instead of racing it case by case: the ledger's claims keep such
// a race correct (and do so across instances), but every lost race waits
// for the winner, and eight copies of a 30-case run took longer than a
// phone's timeout. Waiting ends with the request.
func (s *Service) runLock(ctx context.Context, id string) (unlock func(), err error) {
	v, _ := s.appliers.LoadOrStore(id, make(chan struct{}, 1))
	ch := v.(chan struct{})
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, minsheng.Errorf(minsheng.ECONFLICT, "相同的分配正在执行，请稍后重试")
	}
}

// repeat answers a run id seen before: the same request finishes the run
// if it is still applying and returns it; another request is ECONFLICT.
func (s *Service) repeat(ctx context.Context, p auth.Principal, doc *runDoc, req RunRequest) (RunReport, error) {
	if !p.CanAccess(doc.SubDistrict, "") {
		// Another sub-district's run: say only that the id is taken, as
		// for any used id, and nothing of whose run it is.
		return RunReport{}, minsheng.Errorf(minsheng.ECONFLICT, "运行编号已被使用，请使用新的运行编号")
	}
	if doc.State == RunPreview {
		return s.repeatPreview(ctx, doc, req)
	}
	if req.DryRun || doc.FiscalYear != req.FiscalYear || doc.SubDistrict != req.SubDistrict {
		return RunReport{}, minsheng.Errorf(minsheng.ECONFLICT, "运行编号 %s 已用于 %d 年度%s的正式分配，请使用新的运行编号", doc.ID, doc.FiscalYear, s.subName(doc.SubDistrict))
	}
	if doc.State == RunApplying {
		unlock, err := s.runLock(ctx, doc.ID)
		if err != nil {
			return RunReport{}, err
		}
		defer unlock()
		// Whoever held the lock may have finished the run meanwhile.
		cur, err := s.findRun(ctx, doc.ID)
		if err != nil {
			return RunReport{}, err
		}
		doc = cur
		if doc.State == RunApplying {
			if err := s.apply(ctx, p, doc); err != nil {
				return RunReport{}, err
			}
		}
	}
	return s.reportOf(ctx, doc)
}

func (s *Service) subName(code string) string {
	if sd, err := s.org.SubDistrict(code); err == nil {
		return sd.Name
	}
	return code
}

// apply reserves every funded need of doc that has no recorded outcome,
// then marks the run done. An internal error (the store failing) stops it
// with the run still applying, to be resumed by a repeated request.
func (s *Service) apply(ctx context.Context, p auth.Principal, doc *runDoc) error {
	outcomes, err := s.itemsOf(ctx, doc.ID)
	if err != nil {
		return err
	}
	reserved := 0
	for _, ln := range doc.Lines {
		for _, d := range ln.Funded {
			if _, ok := outcomes[d.CaseID]; ok {
				continue
			}
			it := runItem{ID: doc.ID + "/" + d.CaseID, RunID: doc.ID, CaseID: d.CaseID, LineID: ln.LineID, AmountFen: d.EstimateFen, State: ItemApplied}
			if err := s.reserveOne(ctx, p, &ln, d); err != nil {
				switch minsheng.ErrorCode(err) {
				case minsheng.EINTERNAL, minsheng.EFORBIDDEN, minsheng.EUNAUTHORIZED:
					// Not the need's fault: stop, the run stays applying.
					return err
				}
				it.State, it.Message = ItemFailed, minsheng.ErrorMessage(err)
			} else {
				reserved++
				if s.faultAfterReserve != nil {
					if err := s.faultAfterReserve(reserved); err != nil {
						return err
					}
				}
			}
			it.At = s.now()
			if err := s.runItems.InsertOne(ctx, it); err != nil && !errors.Is(err, minsheng.ErrDuplicate) {
				return fmt.Errorf("planning: unable to record outcome of case %s in run %s: %w", d.CaseID, doc.ID, err)
			}
		}
	}
	s.notifyWaitlisted(ctx, doc) // waitlist_notify.go
	now := s.now()
	if _, err := s.runs.UpdateOne(ctx, bson.M{"_id": doc.ID, "state": RunApplying},
		bson.M{"$set": bson.M{"state": RunDone, "finished_at": now}}); err != nil {
		return fmt.Errorf("planning: unable to finish run %s: %w", doc.ID, err)
	}
	doc.State, doc.FinishedAt = RunDone, &now
	return nil
}

// reserveOne links a funded need to its line for the decided amount
// through the ledger, which reserves on the line (one conditional update,
// idempotent for the same case and amount) and writes the case's copy of
// the link. The ledger refuses, with ECONFLICT, a case that has changed
// since the decision: closed, reclassified, moved or linked elsewhere.
func (s *Service) reserveOne(ctx context.Context, p auth.Principal, ln *RunLine, d allocation.Decision) error {
	_, err := s.ledger.LinkCase(ctx, p, d.CaseID, ln.LineID, d.EstimateFen)
	return err
}

func (s *Service) findRun(ctx context.Context, id string) (*runDoc, error) {
	var d runDoc
	if err := s.runs.FindOne(ctx, bson.M{"_id": id}, &d); err != nil {
		if errors.Is(err, minsheng.ErrNotFound) {
			return nil, &minsheng.Error{Code: minsheng.ENOTFOUND, Message: "分配测算不存在：" + id, Err: err}
		}
		return nil, fmt.Errorf("planning: unable to read run %s: %w", id, err)
	}
	return &d, nil
}

func (s *Service) itemsOf(ctx context.Context, runID string) (map[string]runItem, error) {
	var items []runItem
	if err := s.runItems.FindAll(ctx, bson.M{"run_id": runID}, &items); err != nil {
		return nil, fmt.Errorf("planning: unable to read outcomes of run %s: %w", runID, err)
	}
	out := make(map[string]runItem, len(items))
	for _, it := range items {
		out[it.CaseID] = it
	}
	return out, nil
}

// Run returns a stored run. Sub-district staff see their own sub-district's
// runs, finance and admin all. Errors: EFORBIDDEN, ENOTFOUND.
func (s *Service) Run(ctx context.Context, p auth.Principal, id string) (RunReport, error) {
	if err := requireStaff(p); err != nil {
		return RunReport{}, err
	}
	doc, err := s.findRun(ctx, strings.ToLower(strings.TrimSpace(id)))
	if err != nil {
		return RunReport{}, err
	}
	if err := p.RequireAccess(doc.SubDistrict, ""); err != nil {
		return RunReport{}, err
	}
	return s.reportOf(ctx, doc)
}

func (s *Service) reportOf(ctx context.Context, doc *runDoc) (RunReport, error) {
	items, err := s.itemsOf(ctx, doc.ID)
	if err != nil {
		return RunReport{}, err
	}
	return report(doc, items, doc.State == RunPreview), nil
}

func report(doc *runDoc, items map[string]runItem, dryRun bool) RunReport {
	r := RunReport{
		RunID: doc.ID, FiscalYear: doc.FiscalYear, SubDistrict: doc.SubDistrict, DryRun: dryRun, State: doc.State,
		AsOf: doc.AsOf, Weights: doc.Weights, Lines: doc.Lines, Adjustments: doc.Adjustments, NextYear: doc.NextYear,
		Unplaced: doc.Unplaced, Failed: []RunFailure{}, CreatedBy: doc.CreatedBy, CreatedAt: doc.CreatedAt, FinishedAt: doc.FinishedAt,
		FromPreview: doc.FromPreview, CommittedAs: doc.CommittedAs, CreatedByName: doc.CreatedByName,
	}
	// Stored empty lists come back as nil; the API shows [].
	r.Lines = nonNil(r.Lines)
	r.Adjustments = nonNil(r.Adjustments)
	r.NextYear = nonNil(r.NextYear)
	r.Unplaced = nonNil(r.Unplaced)
	for i := range r.Lines {
		l := &r.Lines[i]
		l.Funded, l.Waitlisted = nonNil(l.Funded), nonNil(l.Waitlisted)
		r.FundedCases += len(l.Funded)
		r.FundedFen += l.FundedFen
		r.WaitlistedCases += len(l.Waitlisted)
		r.ShortfallFen += l.ShortfallFen
	}
	for _, it := range items {
		switch it.State {
		case ItemApplied:
			r.Applied++
		case ItemFailed:
			r.Failed = append(r.Failed, RunFailure{CaseID: it.CaseID, LineID: it.LineID, AmountFen: it.AmountFen, Message: it.Message})
		}
	}
	slices.SortFunc(r.Failed, func(a, b RunFailure) int { return strings.Compare(a.CaseID, b.CaseID) })
	return r
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
