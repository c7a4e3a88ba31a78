package handlers_test

import (
	"strings"
	"testing"
)

func TestCaseByNumberOverHTTP(t *testing.T) {
	a := newCasesApp(t)
	c := a.file(t)
	tests := []struct {
		name, who, number string
		want              int
	}{
		{"staff of the sub-district", "staff", c.Number, 200},
		{"lower case", "staff", strings.ToLower(c.Number), 200},
		{"finance", "finance", c.Number, 200},
		{"cadre of the community", "cadre", c.Number, 200},
		{"staff of another sub-district", "stafffar", c.Number, 403},
		{"cadre of another community", "cadrenext", c.Number, 403},
		{"resident, even the filer", "resident", c.Number, 403},
		{"anonymous", "", c.Number, 401},
		{"unknown number", "staff", "XC2026-999999", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got caseJSON
			st := a.call(t, tt.who, "GET", "/api/v1/cases/number/"+tt.number, nil, &got)
			if st != tt.want {
				t.Fatalf("status: got %d, want %d", st, tt.want)
			}
			if st == 200 && (got.ID != c.ID || got.Number != c.Number) {
				t.Errorf("case: got %s %s, want %s %s", got.ID, got.Number, c.ID, c.Number)
			}
		})
	}
	t.Run("unknown query is refused", func(t *testing.T) {
		if st := a.call(t, "staff", "GET", "/api/v1/cases/number/"+c.Number+"?x=1", nil, nil); st != 400 {
			t.Errorf("status: got %d, want 400", st)
		}
	})
}
