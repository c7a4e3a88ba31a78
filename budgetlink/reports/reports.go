// Package reports is every report on the budget and its caches: execution
// and adjustments per sub-district (report.go), demand per catalog item and
// classification consistency (report_cases.go), the completion and 12345
// rate reports (completion.go), the public board (board.go), the lines
// export (xlsx.go), and the cache of a year's lines the reports and the
// priority list read (report_lines.go).
//
// It reads the ledger and the cases and writes nothing. Errors: EFORBIDDEN
// for a caller outside the roles or scope that may see budget figures,
// EINVALID for a bad year, sub-district, period or threshold, EINTERNAL
// when the store fails.
package reports

import (
	"time"

	"minsheng/budgetlink/ledger"
	"minsheng/internal/org"
)

// Reporter computes the reports from one ledger (and the case service
// given to it). Its caches live as long as it does.
type Reporter struct {
	ledger *ledger.Service
	org    *org.Directory
	zone   *time.Location
	now    func() time.Time

	reportLines linesCache // the reports' lines (report_lines.go)
	boards      boardCache // the public boards (board.go)
}

// New returns the reports of l, in l's district, zone and clock.
func New(l *ledger.Service) *Reporter {
	return &Reporter{ledger: l, org: l.Org(), zone: l.Zone(), now: l.Now,
		boards: boardCache{entries: map[string]boardEntry{}}}
}
