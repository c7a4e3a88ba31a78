package ledger

// What the other budget rooms read of the ledger: its clock, district and
// case service, and the lines and adjustments of a fiscal year as the
// reports need them. Reads only; every movement stays behind the verbs in
// this package.

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng/cases"
	"minsheng/internal/org"
)

// Now is the ledger's clock (Config.Now), in UTC to the millisecond.
func (s *Service) Now() time.Time { return s.now() }

// Org is the district the ledger books for.
func (s *Service) Org() *org.Directory { return s.org }

// Cases is the case service given to SetCases; an error when none was.
func (s *Service) Cases() (*cases.Service, error) { return s.requireCases() }

// ReviewLabel is the Chinese label of a review stage (事前评审), "" for an
// unknown stage.
func ReviewLabel(stage string) string { return reviewLabels[stage] }

// LineOrder is the order EachLineFigures reads lines in.
type LineOrder int

const (
	// ByPlace orders by sub-district, item and project name.
	ByPlace LineOrder = iota
	// ByID orders by line id.
	ByID
)

// EachLineFigures calls fn for every line of fiscalYear in sub ("" = every
// sub-district) in order, streamed under ctx, with its figures and review
// notes but not its entries (reservations, adjustments).
func (s *Service) EachLineFigures(ctx context.Context, fiscalYear int, sub string, order LineOrder, fn func(*BudgetLine) error) error {
	sort := bson.D{{Key: "sub_district", Value: 1}, {Key: "item_code", Value: 1}, {Key: "project_name", Value: 1}}
	if order == ByID {
		sort = bson.D{{Key: "_id", Value: 1}}
	}
	return s.lines.Each(ctx, lineQuery(fiscalYear, sub), func(cur *mongo.Cursor) error {
		var l BudgetLine
		if err := cur.Decode(&l); err != nil {
			return fmt.Errorf("budgetlink: report: unable to decode line: %w", err)
		}
		return fn(&l)
	}, options.Find().SetProjection(bson.M{"reservations": 0, "adjustments": 0, "applied": 0}).SetSort(sort))
}

// EachAppliedAdjustment calls fn with the kind and amount of every applied
// adjustment of fiscalYear that touches sub ("" = any).
func (s *Service) EachAppliedAdjustment(ctx context.Context, fiscalYear int, sub string, fn func(kind string, amountFen int64) error) error {
	q := bson.M{"fiscal_year": fiscalYear, "state": AdjustmentApplied}
	if sub != "" {
		q["sub_districts"] = sub
	}
	return s.adjustments.Each(ctx, q, func(cur *mongo.Cursor) error {
		var a Adjustment
		if err := cur.Decode(&a); err != nil {
			return fmt.Errorf("budgetlink: report: unable to decode adjustment: %w", err)
		}
		return fn(a.Kind, a.AmountFen)
	}, options.Find().SetProjection(bson.M{"kind": 1, "amount_fen": 1}))
}

// ReadLines returns every line of fiscalYear in sub ("" = every
// sub-district), entries included, in the store's natural order, streamed
// under ctx rather than the store's per-call timeout.
func (s *Service) ReadLines(ctx context.Context, fiscalYear int, sub string) ([]*BudgetLine, error) {
	var out []*BudgetLine
	err := s.lines.Each(ctx, lineQuery(fiscalYear, sub), func(cur *mongo.Cursor) error {
		l := &BudgetLine{}
		out = append(out, l)
		return cur.Decode(l)
	})
	if err != nil {
		return nil, fmt.Errorf("budgetlink: unable to read lines: %w", err)
	}
	return out, nil
}

// LinesGeneration is the lines' write generation (internal/store) and
// whether a cache of lines may trust it: only when one process owns the
// store.
func (s *Service) LinesGeneration() (gen uint64, ok bool) {
	if s.store == nil || !s.store.OneProcess() {
		return 0, false
	}
	return s.lines.WriteGeneration(), true
}
