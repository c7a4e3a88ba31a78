// Package budgetlink joins the budget rooms into the one service the API
// surfaces and planning hold; it has no rules of its own. The rooms, in
// the one direction they import each other:
//
//   - planning (allocation runs, priorities, shortfalls, factor allocation)
//     and allocation (the pure engine: score, run, factor, rates);
//   - reports: every report and its caches;
//   - ledger: lines, reservations, adjustments, money effects, claims,
//     void, case links, import and Check — where money moves;
//   - catalog: the expenditure catalog, its labels, data and CSV.
//
// Errors are those of the room a method comes from.
package budgetlink

import (
	"minsheng/budgetlink/ledger"
	"minsheng/budgetlink/reports"
	"minsheng/internal/store"
)

// Service is the ledger with its reports: the ledger's verbs and the
// reports' methods on one value.
type Service struct {
	*ledger.Service
	*reports.Reporter
}

// Config is the ledger's configuration (district, logger, clock, zone).
type Config = ledger.Config

// Indexes are the ledger's indexes; the reports keep no collection.
var Indexes = ledger.Indexes

// NewService returns the ledger over st and the reports that read it.
func NewService(st *store.Store, cfg Config) *Service {
	l := ledger.NewService(st, cfg)
	return &Service{Service: l, Reporter: reports.New(l)}
}
