package minsheng

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is int64 fen (分) everywhere. One bound applies to every single
// amount a caller may enter (approved budgets, adjustments, estimates,
// actual costs, allocation pools), and every sum the ledger stores is
// computed with overflow checks, so no input, however hostile, can wrap a
// total around or make the engine refuse an $inc.

// MaxAmountFen bounds any single amount: 100 亿元 (10 billion yuan) in fen.
// It also bounds every stored line total (budget, committed, spent,
// available), so a sum of a few of them always fits in int64.
const MaxAmountFen int64 = 1_000_000_000_000

// ValidAmount reports whether fen is a valid non-negative amount: 0 ≤ fen ≤
// MaxAmountFen.
func ValidAmount(fen int64) bool { return fen >= 0 && fen <= MaxAmountFen }

// AddFen returns a+b and whether it was computed without int64 overflow.
func AddFen(a, b int64) (int64, bool) {
	c := a + b
	if (c > a) != (b > 0) {
		return 0, false
	}
	return c, true
}

// SumFen returns the sum of fens and whether it was computed without int64
// overflow.
func SumFen(fens ...int64) (int64, bool) {
	var s int64
	for _, f := range fens {
		var ok bool
		if s, ok = AddFen(s, f); !ok {
			return 0, false
		}
	}
	return s, true
}

// MaxAmountText names MaxAmountFen in a sentence about a stored figure
// (a check's finding, an import's cell, a refused raise).
const MaxAmountText = "100 亿元"

// AmountBoundMessage is the one field message for an amount outside
// 0..MaxAmountFen.
const AmountBoundMessage = "金额应在 0 至 1000000000000 分（" + MaxAmountText + "）之间"

// FenProblem is the bound rule for a validator that collects field
// problems: AmountBoundMessage when fen is outside 0..MaxAmountFen, "" when
// within.
func FenProblem(fen int64) string {
	if ValidAmount(fen) {
		return ""
	}
	return AmountBoundMessage
}

// CheckFen is the bound rule as an error: nil when 0 ≤ fen ≤ MaxAmountFen,
// else the one EINVALID error for an amount out of bounds, with
// AmountBoundMessage on field.
func CheckFen(field string, fen int64) error {
	if ValidAmount(fen) {
		return nil
	}
	return Invalid("金额超出范围", map[string]string{field: AmountBoundMessage})
}

// YuanDecimal formats fen as a plain decimal yuan figure for files a
// program reads (CSV, a spreadsheet's number): two decimals, no separators,
// no unit — 123456789 → "1234567.89". Integer arithmetic only.
func YuanDecimal(fen int64) string {
	sign, u := "", uint64(fen)
	if fen < 0 {
		sign, u = "-", -u
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// Yuan formats fen as yuan for people, the way the front ends show money:
// thousands separated, two decimals, then " 元" — 123456789 → "1,234,567.89
// 元". Integer arithmetic only, and every int64 (even the most negative)
// formats.
func Yuan(fen int64) string {
	sign, u := "", uint64(fen)
	if fen < 0 {
		sign, u = "-", -u
	}
	whole := strconv.FormatUint(u/100, 10)
	var b strings.Builder
	b.WriteString(sign)
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	fmt.Fprintf(&b, ".%02d 元", u%100)
	return b.String()
}
