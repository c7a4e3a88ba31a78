package handlers_test

import "testing"

func TestBudgetLineVoidOverHTTP(t *testing.T) {
	a := newBudgetApp(t)
	var l struct {
		ID      string `json:"id"`
		Version int64  `json:"version"`
	}
	if st := a.call(t, "finance", "POST", "/api/v1/budget/lines", map[string]any{"fiscal_year": 2026, "sub_district": "xinjiekou", "item_code": bulky, "project_name": "录错的项目", "approved_fen": 100_000}, &l); st != 201 {
		t.Fatalf("create: status %d", st)
	}
	path := "/api/v1/budget/lines/" + l.ID + "/void"
	tests := []struct {
		name, who string
		body      map[string]any
		want      int
	}{
		{"anonymous", "", map[string]any{"version": l.Version}, 401},
		{"cadre", "cadre", map[string]any{"version": l.Version}, 403},
		{"another sub-district's staff", "sds", map[string]any{"version": l.Version}, 403},
		{"no version", "finance", map[string]any{}, 400},
		{"stale version", "finance", map[string]any{"version": l.Version + 1}, 409},
		{"finance", "finance", map[string]any{"version": l.Version}, 204},
		{"again", "finance", map[string]any{"version": l.Version}, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.call(t, tt.who, "POST", path, tt.body, nil); got != tt.want {
				t.Errorf("status: got %d, want %d", got, tt.want)
			}
		})
	}
	if st := a.call(t, "finance", "GET", "/api/v1/budget/lines/"+l.ID, nil, nil); st != 404 {
		t.Errorf("voided line: status %d, want 404", st)
	}
}
