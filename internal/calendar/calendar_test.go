package calendar

import (
	"testing"
	"time"
)

func TestFiscalYearCountsInShanghai(t *testing.T) {
	// 2026-12-31 16:30 UTC is 2027-01-01 00:30 in Beijing.
	at := time.Date(2026, 12, 31, 16, 30, 0, 0, time.UTC)
	if got, want := FiscalYear(at, nil), 2027; got != want {
		t.Fatalf("FiscalYear(%v) = %d, want %d", at, got, want)
	}
	if got, want := FiscalYear(at, time.UTC), 2026; got != want {
		t.Fatalf("FiscalYear in UTC = %d, want %d", got, want)
	}
	from, to := YearRange(2027, nil)
	if !from.Equal(time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2027, 12, 31, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("YearRange(2027) = %v, %v", from, to)
	}
	if _, off := time.Now().In(Zone()).Zone(); off != 8*3600 {
		t.Fatalf("Zone offset = %d, want UTC+8", off)
	}
}
