// Package export holds what every spreadsheet export shares: the rule that
// keeps a text cell from running as a formula when Excel, LibreOffice or
// WPS opens a CSV (CSV or formula injection).
//
// The console's CSVs apply the same rule in static/lib/csv.js. XLSX needs
// none: excelize writes a Go string as an inline string cell, which a
// spreadsheet shows as text and never evaluates (budgetlink's
// TestExportKeepsFormulaTextAsText checks it), and no export here writes a
// formula.
package export

import (
	"regexp"
	"strings"
)

// plainNumber is a whole cell that is a decimal number: a spreadsheet reads
// it as a number constant, never a formula, so a negative amount stays a
// number. "-2+3" or "-1e3" are not plain.
var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// Cell returns s as a CSV field safe to open in a spreadsheet: when it
// starts with a character that begins a formula — OWASP's = + - @ tab CR,
// NUL (ASVS 1.2.10), LF, and the full-width ＝＋－＠ a Chinese input method
// types — it gets a leading ' (the spreadsheet's "this is text" marker).
// encoding/csv then quotes it as RFC 4180 asks.
func Cell(s string) string {
	if s == "" || plainNumber.MatchString(s) {
		return s
	}
	if strings.ContainsRune("=+-@\t\r\n\x00", rune(s[0])) ||
		strings.HasPrefix(s, "＝") || strings.HasPrefix(s, "＋") ||
		strings.HasPrefix(s, "－") || strings.HasPrefix(s, "＠") {
		return "'" + s
	}
	return s
}

// Row applies Cell to every field of a record, in place, and returns it.
func Row(fields []string) []string {
	for i, f := range fields {
		fields[i] = Cell(f)
	}
	return fields
}
