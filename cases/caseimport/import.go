// Package caseimport brings historical cases in bulk, for seeding scale
// tests and benchmarks (minsheng seed --cases): the import record, the
// checks every record passes before anything is written (one bad record
// imports nothing; what a record must hold is casework's Build), the order
// of filing, one counter reservation per year
// of filing and the numbers drawn from it, the timeline's clock (one
// StepGap per step) and the insert in one batch. What each step sets on a
// case is casework's (package cases), through Build.
//
// Errors: EINVALID naming the bad record's index; the store's errors,
// wrapped with the action that failed.
package caseimport

import (
	"context"
	"fmt"
	"slices"
	"time"

	"minsheng"
	"minsheng/cases/casedb"
	"minsheng/cases/caseinput"
)

// Case is one historical case: what was filed, when, and how far it got
// along the lifecycle's main path; S and V are casework's status and
// verdict types.
type Case[S, V ~string] struct {
	caseinput.NewCase
	FiledAt time.Time
	// Status is the state reached: submitted, accepted, assigned, assessed,
	// in_progress, completed, closed, rejected or cancelled (merged needs a
	// kept case and is not imported).
	Status S
	// StepGap is the time between consecutive steps (one hour when zero).
	StepGap time.Duration
	// AssignedTo and AssignedName are the cadre, from assigned on.
	AssignedTo, AssignedName string
	// CatalogItem and SLADays classify the case at acceptance (optional).
	CatalogItem string
	SLADays     int
	// Assessment is the on-site assessment, from assessed on (required there).
	Assessment *caseinput.Assessment
	// ActualCostFen is the cost reported at completion.
	ActualCostFen int64
	// Verdict closes a closed case (satisfied when empty).
	Verdict V
}

// Batch is one import: the store, how a record becomes a stored case, and
// how cases are numbered.
type Batch[S, V ~string, C, F any] struct {
	DB *casedb.DB[C, F]
	// Build is the stored case for one record, its fields set as the
	// transitions would have set them; EINVALID naming what is wrong.
	Build func(in *Case[S, V]) (*C, error)
	// FiledAt is when c was filed; SetNumber gives it its number.
	FiledAt   func(c *C) time.Time
	SetNumber func(c *C, number string)
	// Prefix starts every number (XC); the year of filing in Zone follows.
	Prefix string
	Zone   *time.Location
}

// Run builds every record, then numbers the cases in filing order and
// inserts them, and returns how many it imported.
func (b Batch[S, V, C, F]) Run(ctx context.Context, in []Case[S, V]) (int, error) {
	docs := make([]*C, 0, len(in))
	for i := range in {
		c, err := b.Build(&in[i])
		if err != nil {
			return 0, minsheng.Invalid(fmt.Sprintf("第 %d 条案件有误：%s", i+1, minsheng.ErrorMessage(err)), minsheng.ErrorFields(err))
		}
		docs = append(docs, c)
	}
	slices.SortStableFunc(docs, func(x, y *C) int { return b.FiledAt(x).Compare(b.FiledAt(y)) })
	// One counter reservation per year of filing.
	perYear := map[string]int64{}
	for _, c := range docs {
		perYear[b.FiledAt(c).In(b.Zone).Format("2006")]++
	}
	next := map[string]int64{}
	for year, n := range perYear {
		first, err := b.DB.TakeNumbers(ctx, b.Prefix+year, n, "")
		if err != nil {
			return 0, fmt.Errorf("cases: unable to number imported cases: %w", err)
		}
		next[year] = first
	}
	for _, c := range docs {
		year := b.FiledAt(c).In(b.Zone).Format("2006")
		b.SetNumber(c, casedb.FormatNumber(b.Prefix+year, next[year]))
		next[year]++
	}
	if err := b.DB.InsertMany(ctx, docs); err != nil {
		return 0, fmt.Errorf("cases: unable to import cases: %w", err)
	}
	return len(docs), nil
}

// Clock times an imported case's steps: one gap apart from its filing.
type Clock struct {
	at  time.Time // the time of the last step
	gap time.Duration
}

// NewClock starts at filed; a gap of zero is one hour.
func NewClock(filed time.Time, gap time.Duration) *Clock {
	if gap <= 0 {
		gap = time.Hour
	}
	return &Clock{at: filed, gap: gap}
}

// Step returns the time of the next step.
func (k *Clock) Step() time.Time {
	k.at = k.at.Add(k.gap)
	return k.at
}

// Now is the time of the last step.
func (k *Clock) Now() time.Time { return k.at }
