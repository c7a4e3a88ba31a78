package handlers_test

import (
	"strings"
	"testing"

	"minsheng/internal/auth"
)

// TestAdminSMS: admins see the SMS outbox and, without a sender that
// reaches phones outside demo mode, that residents cannot sign in by SMS;
// others are refused, an unknown state is 400.
func TestAdminSMS(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.staff(t, "admin", auth.RoleAdmin, "")
	f.staff(t, "zhang", auth.RoleSubdistrict, "jinrongjie")
	var out struct {
		Mode          string         `json:"mode"`
		ReachesPhones bool           `json:"reaches_phones"`
		Warning       string         `json:"warning"`
		Counts        map[string]int `json:"counts"`
		Items         []any          `json:"items"`
	}
	if st := f.call(t, "admin", "GET", "/api/v1/admin/sms", nil, &out); st != 200 {
		t.Fatalf("admin: %d", st)
	}
	if out.Mode != "log" || out.ReachesPhones || !strings.Contains(out.Warning, "居民无法通过短信登录") || out.Items == nil {
		t.Errorf("log sender outside demo: %+v", out)
	}
	if st := f.call(t, "zhang", "GET", "/api/v1/admin/sms", nil, nil); st != 403 {
		t.Errorf("sub-district staff: %d, want 403", st)
	}
	if st := f.call(t, "", "GET", "/api/v1/admin/sms", nil, nil); st != 401 {
		t.Errorf("anonymous: %d, want 401", st)
	}
	for _, q := range []string{"state=lost", "page=2"} {
		if st := f.call(t, "admin", "GET", "/api/v1/admin/sms?"+q, nil, nil); st != 400 {
			t.Errorf("?%s: %d, want 400", q, st)
		}
	}
}
