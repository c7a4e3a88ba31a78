package ledger

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng/internal/auth"
)

// LinesWithEntries returns every line of a fiscal year in sub ("" = every
// sub-district p may see) with its reservations and adjustments, in id
// order, scoped as Lines is. It is one query: planning read a page of Lines
// and then each line by _id, which at 270 lines decoded every line of the
// year once per page plus once more each.
// Errors: EFORBIDDEN.
func (s *Service) LinesWithEntries(ctx context.Context, p auth.Principal, fiscalYear int, sub string) ([]*BudgetLine, error) {
	sub, err := s.ReaderScope(p, sub)
	if err != nil {
		return nil, err
	}
	var out []*BudgetLine
	if err := s.lines.FindAll(ctx, lineQuery(fiscalYear, sub), &out, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})); err != nil {
		return nil, fmt.Errorf("budgetlink: unable to read lines: %w", err)
	}
	return out, nil
}
