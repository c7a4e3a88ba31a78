// Package ledger is where money moves: budget lines (预算项目) and their
// review notes, reservations of a line's money for a case, re-estimates and
// releases, direct payments of personnel and running-cost lines without a
// case (payment.go), adjustments (调增、调减、调剂), the money effect of a case's
// completion, the claims that make every movement happen at most once, void
// lines, a case's link to a line and its catalog item, the XLSX import of
// approved lines, the audit trail, and Check, which recomputes every line
// from its entries and repairs what a crash left half done. Service is its
// one owner: no other package updates a line.
//
// The reports read it through its read methods (reads.go); planning moves
// money only through its verbs (LinkCase, Release).
//
// Errors: EINVALID for bad input (an amount outside minsheng's bound, an
// unknown item or sub-district, a malformed import), EFORBIDDEN for a
// caller outside the roles or scope of a line, ENOTFOUND for a missing line,
// case or adjustment, ECONFLICT for a movement the line cannot take (not
// enough available money, a frozen or void line, a stale version, a case
// linked elsewhere, the same request still in progress), EINTERNAL when
// the store fails.
package ledger
