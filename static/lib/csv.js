// CSV as the console's exports write it, with no DOM or library imports so
// Node's test runner loads it too (e2e/browser/csv-lib.test.mjs).
//
// A spreadsheet opening a CSV treats a cell that begins with = + - @, a tab
// or a CR as a formula (CSV or formula injection), and anonymous residents
// choose case titles. Following OWASP's CSV-injection guidance, every such
// cell gets a leading ' (Excel's "this is text" marker) and is then quoted.
// budgetlink's Go CSV applies the same rule (internal/export.Cell).

// risky are the first characters that start a formula: OWASP's = + - @ tab
// CR, NUL (ASVS 1.2.10), LF, and the full-width ＝＋－＠ a Chinese input
// method types, defensively.
const risky = /^[=+\-@\t\r\n\0＝＋－＠]/;

// plainNumber is a whole cell that is a decimal number: a spreadsheet reads
// it as a number constant, never a formula, so the system's negative amounts
// (差额 -12.50) stay numbers Excel sums. "-2+3" or "-1e3" are not plain.
const plainNumber = /^-?\d+(\.\d+)?$/;

/** csvCell is one field: neutralised, then quoted when it must be (RFC 4180). */
export function csvCell(v) {
  let s = v === null || v === undefined ? '' : String(v);
  let quote = /[",\r\n]/.test(s);
  if (risky.test(s) && !plainNumber.test(s)) {
    s = `'${s}`;
    quote = true;
  }
  return quote ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * csvText is the whole file: a BOM so Excel reads the Chinese as UTF-8, the
 * header and rows (arrays of fields), CRLF line ends.
 */
export function csvText(header, rows) {
  return '\ufeff' + [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n');
}
