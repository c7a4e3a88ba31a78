// Package planning is the stateful side of allocation (issue 5): it loads
// budget lines from the reports' cache and needs from the cases, hands them
// to the pure engine in budgetlink/allocation, and stores what must outlive
// a request — each fiscal year's priority weights, stored previews and
// committed allocation runs, whose reservations it makes through the
// ledger's verbs. It also serves the shortfall queue and the district's
// factor allocation (因素法); the completion and 12345-rate reports are in
// budgetlink/reports.
//
// Every figure is summed in Go over streamed cases and lines (docs/ARCHITECTURE.md:
// FerretDB has no trustworthy $group), money is int64 fen, and every method
// takes the caller's auth.Principal and checks role and scope itself, so
// the HTTP layer stays thin.
//
// Errors: EINVALID (a year, weights, run or factor request out of range),
// EFORBIDDEN (role or scope), ENOTFOUND (a run), ECONFLICT (a run id
// reused, a preview out of date, a run still applying), EINTERNAL.
package planning

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/budgetlink"
	"minsheng/budgetlink/allocation"
	"minsheng/budgetlink/ledger"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
	"minsheng/internal/org"
	"minsheng/internal/store"
)

// Collections.
const (
	weightsCollection  = "allocation_weights"
	runsCollection     = "allocation_runs"
	runItemsCollection = "allocation_run_items"
)

// Indexes are the indexes planning's queries need; cmd creates them at start.
// Weights and runs are read by _id only; a run's outcomes by run id.
var Indexes = []store.Index{
	{Collection: runItemsCollection, Name: "run", Keys: bson.D{{Key: "run_id", Value: 1}}},
}

// Config is what the service needs besides its collaborators.
type Config struct {
	Org    *org.Directory
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Zone is where a fiscal year and a report's dates begin; nil:
	// calendar.Zone.
	Zone *time.Location
}

// Service plans and reports on the allocation of budget money to needs.
type Service struct {
	ledger   *budgetlink.Service
	cases    *cases.Service
	org      *org.Directory
	logger   *slog.Logger
	now      func() time.Time
	zone     *time.Location
	weights  *store.Collection
	runs     *store.Collection
	runItems *store.Collection
	// transfers holds the claims of applied suggested transfers (transfers.go).
	transfers *store.Collection
	// appliers holds one lock per committed run id (runLock).
	appliers sync.Map

	// faultAfterReserve, set only by tests, simulates a crash in a
	// committed run: it is called after each reservation the ledger
	// confirmed and before the run records it, with the number of
	// reservations made by this call so far; an error aborts the run there.
	faultAfterReserve func(n int) error
}

// NewService returns the planning service over st, reading lines through
// ledger and cases through cs.
func NewService(st *store.Store, ledger *budgetlink.Service, cs *cases.Service, cfg Config) *Service {
	if cfg.Org == nil {
		cfg.Org = org.Xicheng()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Zone = calendar.Or(cfg.Zone)
	return &Service{
		ledger:    ledger,
		cases:     cs,
		org:       cfg.Org,
		logger:    cfg.Logger,
		now:       func() time.Time { return cfg.Now().UTC().Truncate(time.Millisecond) },
		zone:      cfg.Zone,
		weights:   st.Collection(weightsCollection),
		runs:      st.Collection(runsCollection),
		runItems:  st.Collection(runItemsCollection),
		transfers: st.Collection(transfersCollection),
	}
}

func checkYear(year int) error { return calendar.CheckFiscalYear("fiscal_year", year) }

// yearStart is 1 January of year, 00:00 in the service's zone.
func (s *Service) yearStart(year int) time.Time {
	return calendar.YearStart(year, s.zone).UTC()
}

// currentYear is the calendar (= fiscal) year of now in the service's zone.
func (s *Service) currentYear() int { return calendar.FiscalYear(s.now(), s.zone) }

// requireStaff admits the roles that see budget figures: the ledger's rule.
func requireStaff(p auth.Principal) error { return ledger.RequireReader(p) }

// scopeSubDistrict resolves the sub-district a request of p covers: sub-district
// staff get their own (asking for another is EFORBIDDEN), finance and admin
// what they asked for ("" = the whole district). An unknown code is EINVALID.
func (s *Service) scopeSubDistrict(p auth.Principal, sub string) (string, error) {
	if err := requireStaff(p); err != nil {
		return "", err
	}
	return p.SubDistrictScope(s.org, sub)
}

// YearWeights are the priority weights in force for a fiscal year.
type YearWeights struct {
	allocation.Weights
	// Default is true when finance has not set the year's weights and the
	// engine's defaults apply.
	Default   bool      `json:"default"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

type weightsDoc struct {
	ID        int                `bson:"_id"`
	Weights   allocation.Weights `bson:"weights"`
	UpdatedBy string             `bson:"updated_by"`
	UpdatedAt time.Time          `bson:"updated_at"`
}

// Weights returns a fiscal year's priority weights: the stored ones or
// allocation.DefaultWeights. Any staff member may read them (finance
// publishes them so a rank can be recomputed). Errors: EFORBIDDEN, EINVALID.
func (s *Service) Weights(ctx context.Context, p auth.Principal, year int) (YearWeights, error) {
	if !p.IsStaff() {
		return YearWeights{}, minsheng.Errorf(minsheng.EFORBIDDEN, "当前角色（%s）无权查看优先级权重", p.Role.Label())
	}
	if err := checkYear(year); err != nil {
		return YearWeights{}, err
	}
	return s.yearWeights(ctx, year)
}

func (s *Service) yearWeights(ctx context.Context, year int) (YearWeights, error) {
	var d weightsDoc
	err := s.weights.FindOne(ctx, bson.M{"_id": year}, &d)
	if errors.Is(err, minsheng.ErrNotFound) {
		return YearWeights{Weights: allocation.DefaultWeights(year), Default: true}, nil
	} else if err != nil {
		return YearWeights{}, fmt.Errorf("planning: unable to read weights of %d: %w", year, err)
	}
	d.Weights.FiscalYear = year
	return YearWeights{Weights: d.Weights, UpdatedBy: d.UpdatedBy, UpdatedAt: d.UpdatedAt}, nil
}

// WeightsBody is the body that sets a fiscal year's priority weights. Every
// weight is required: a body that names one weight must not zero the others
// (the engine treats a missing weight as 0). It also accepts what Weights
// returns — default, updated_by and updated_at are read and ignored — so a
// GET's output can be PUT back as is. FiscalYear may be left out.
type WeightsBody struct {
	FiscalYear       *int   `json:"fiscal_year"`
	Sanbao           *int64 `json:"sanbao"`
	SafetyPerLevel   *int64 `json:"safety_per_level"`
	Households       *int64 `json:"households"`
	CoSigners        *int64 `json:"co_signers"`
	Elderly          *int64 `json:"elderly"`
	Disabled         *int64 `json:"disabled"`
	VulnerableCap    *int64 `json:"vulnerable_cap"`
	WaitingPerDay    *int64 `json:"waiting_per_day"`
	WaitingCapDays   *int64 `json:"waiting_cap_days"`
	RepeatComplaints *int64 `json:"repeat_complaints"`
	CostPerHousehold *int64 `json:"cost_per_household"`
	CostReferenceFen *int64 `json:"cost_reference_fen"`

	// Read-only fields of YearWeights, accepted so GET → PUT round-trips.
	Default   *bool      `json:"default,omitempty"`
	UpdatedBy *string    `json:"updated_by,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// BodyOf is the complete body that sets w.
func BodyOf(w allocation.Weights) WeightsBody {
	return WeightsBody{
		FiscalYear: &w.FiscalYear, Sanbao: &w.Sanbao, SafetyPerLevel: &w.SafetyPerLevel, Households: &w.Households,
		CoSigners: &w.CoSigners, Elderly: &w.Elderly, Disabled: &w.Disabled, VulnerableCap: &w.VulnerableCap,
		WaitingPerDay: &w.WaitingPerDay, WaitingCapDays: &w.WaitingCapDays, RepeatComplaints: &w.RepeatComplaints,
		CostPerHousehold: &w.CostPerHousehold, CostReferenceFen: &w.CostReferenceFen,
	}
}

// weights checks that b names every weight and returns them for year; each
// missing weight is a field error.
func (b WeightsBody) weights(year int) (allocation.Weights, error) {
	w := allocation.Weights{FiscalYear: year}
	fields := map[string]string{}
	for _, f := range []struct {
		name string
		in   *int64
		out  *int64
	}{
		{"sanbao", b.Sanbao, &w.Sanbao},
		{"safety_per_level", b.SafetyPerLevel, &w.SafetyPerLevel},
		{"households", b.Households, &w.Households},
		{"co_signers", b.CoSigners, &w.CoSigners},
		{"elderly", b.Elderly, &w.Elderly},
		{"disabled", b.Disabled, &w.Disabled},
		{"vulnerable_cap", b.VulnerableCap, &w.VulnerableCap},
		{"waiting_per_day", b.WaitingPerDay, &w.WaitingPerDay},
		{"waiting_cap_days", b.WaitingCapDays, &w.WaitingCapDays},
		{"repeat_complaints", b.RepeatComplaints, &w.RepeatComplaints},
		{"cost_per_household", b.CostPerHousehold, &w.CostPerHousehold},
		{"cost_reference_fen", b.CostReferenceFen, &w.CostReferenceFen},
	} {
		if f.in == nil {
			fields[f.name] = "必填（须给出全部权重）"
			continue
		}
		*f.out = *f.in
	}
	if b.FiscalYear != nil && *b.FiscalYear != 0 && *b.FiscalYear != year {
		fields["fiscal_year"] = fmt.Sprintf("应为%d", year)
	}
	if len(fields) == 0 {
		return w, w.Validate()
	}
	// Report the given weights that are out of range too, so one answer
	// names everything to fix.
	for name, msg := range minsheng.ErrorFields(w.Validate()) {
		if fields[name] == "" {
			fields[name] = msg
		}
	}
	return allocation.Weights{}, minsheng.Invalid("优先级权重不完整或无效", fields)
}

// RequireWeightsEditor admits the roles that may set priority weights
// (finance and admin), so the HTTP layer can refuse anyone else before it
// reads a body. Errors: EFORBIDDEN.
func RequireWeightsEditor(p auth.Principal) error {
	return p.RequireRole(auth.RoleFinance, auth.RoleAdmin)
}

// SetWeights replaces a fiscal year's priority weights. Finance and admin
// only. The body must name every weight; its fiscal_year must be absent, 0
// or the year. Errors: EFORBIDDEN, EINVALID (with a message per missing or
// bad weight).
func (s *Service) SetWeights(ctx context.Context, p auth.Principal, year int, body WeightsBody) (YearWeights, error) {
	if err := RequireWeightsEditor(p); err != nil {
		return YearWeights{}, err
	}
	if err := checkYear(year); err != nil {
		return YearWeights{}, err
	}
	w, err := body.weights(year)
	if err != nil {
		return YearWeights{}, err
	}
	d := weightsDoc{ID: year, Weights: w, UpdatedBy: p.UserID, UpdatedAt: s.now()}
	if _, err := s.weights.ReplaceOne(ctx, bson.M{"_id": year}, d, options.Replace().SetUpsert(true)); err != nil {
		return YearWeights{}, fmt.Errorf("planning: unable to store weights of %d: %w", year, err)
	}
	return YearWeights{Weights: w, UpdatedBy: d.UpdatedBy, UpdatedAt: d.UpdatedAt}, nil
}
