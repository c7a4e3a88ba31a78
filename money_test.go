package minsheng

import (
	"math"
	"testing"
)

func TestAddFen(t *testing.T) {
	tests := []struct {
		name string
		a, b int64
		want int64
		ok   bool
	}{
		{"small", 2, 3, 5, true},
		{"zero", 0, 0, 0, true},
		{"negative", -5, 3, -2, true},
		{"max plus one", math.MaxInt64, 1, 0, false},
		{"min minus one", math.MinInt64, -1, 0, false},
		{"max plus min", math.MaxInt64, math.MinInt64, -1, true},
		{"bound plus bound", MaxAmountFen, MaxAmountFen, 2 * MaxAmountFen, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := AddFen(tt.a, tt.b)
			if got != tt.want || ok != tt.ok {
				t.Errorf("AddFen(%d, %d) = %d, %v; want %d, %v", tt.a, tt.b, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestSumFen(t *testing.T) {
	t.Run("fits", func(t *testing.T) {
		if got, ok := SumFen(1, 2, 3, -1); got != 5 || !ok {
			t.Errorf("got %d, %v; want 5, true", got, ok)
		}
	})
	t.Run("overflows", func(t *testing.T) {
		if _, ok := SumFen(math.MaxInt64/2, math.MaxInt64/2, 2); ok {
			t.Error("got ok, want overflow")
		}
	})
	t.Run("bounds", func(t *testing.T) {
		for _, c := range []struct {
			fen  int64
			want bool
		}{{-1, false}, {0, true}, {MaxAmountFen, true}, {MaxAmountFen + 1, false}, {math.MaxInt64, false}} {
			if got := ValidAmount(c.fen); got != c.want {
				t.Errorf("ValidAmount(%d) = %v, want %v", c.fen, got, c.want)
			}
		}
	})
}

func TestYuan(t *testing.T) {
	for _, tt := range []struct {
		fen  int64
		want string
	}{
		{0, "0.00 元"}, {5, "0.05 元"}, {99_999, "999.99 元"}, {100_000, "1,000.00 元"}, {123456, "1,234.56 元"},
		{-150, "-1.50 元"}, {-123_456_789, "-1,234,567.89 元"}, {MaxAmountFen, "10,000,000,000.00 元"},
		{math.MaxInt64, "92,233,720,368,547,758.07 元"}, {math.MinInt64, "-92,233,720,368,547,758.08 元"},
	} {
		if got := Yuan(tt.fen); got != tt.want {
			t.Errorf("Yuan(%d) = %q, want %q", tt.fen, got, tt.want)
		}
	}
}

func TestYuanDecimal(t *testing.T) {
	for _, tt := range []struct {
		fen  int64
		want string
	}{{0, "0.00"}, {5, "0.05"}, {65000, "650.00"}, {-120, "-1.20"}, {123456789, "1234567.89"}, {math.MinInt64, "-92233720368547758.08"}} {
		if got := YuanDecimal(tt.fen); got != tt.want {
			t.Errorf("YuanDecimal(%d) = %q, want %q", tt.fen, got, tt.want)
		}
	}
}
