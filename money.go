package minsheng

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

// AmountBoundMessage is the field message for an amount outside 0..MaxAmountFen.
const AmountBoundMessage = "金额应在 0 至 1000000000000 分（100 亿元）之间"
