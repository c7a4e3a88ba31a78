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

// One bound for every fiscal year a form, a file or a report takes.
func TestCheckFiscalYear(t *testing.T) {
	for _, tc := range []struct {
		year int
		ok   bool
	}{{1999, false}, {2000, true}, {2026, true}, {2100, true}, {2101, false}, {0, false}, {20266, false}} {
		err := CheckFiscalYear("fiscal_year", tc.year)
		if got := err == nil; got != tc.ok || ValidFiscalYear(tc.year) != tc.ok {
			t.Errorf("year %d: accepted %v, want %v (%v)", tc.year, got, tc.ok, err)
		}
	}
}
