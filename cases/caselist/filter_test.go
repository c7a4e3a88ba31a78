package caselist

import (
	"testing"
	"time"
)

type status string

func (s status) Valid() bool { return s == "open" || s == "closed" }

// TestMatcherIsQueryTwin checks the Go twin on the fields the query names.
func TestMatcherIsQueryTwin(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	c := Fields[status]{ID: "1", Status: "open", Area: "CG", SubDistrict: "S1", Community: "C1", Title: "楼道灯不亮",
		FiledAt: now.Add(-time.Hour), DueAt: now.Add(-time.Minute), HasBudget: true}
	for _, tc := range []struct {
		name string
		f    Filter[status]
		want bool
	}{
		{"empty", Filter[status]{}, true},
		{"status", Filter[status]{Status: "closed"}, false},
		{"overdue", Filter[status]{Overdue: true}, true},
		{"text, any case", Filter[status]{Text: "灯"}, true},
		{"text missing", Filter[status]{Text: "绿化"}, false},
		{"filed before", Filter[status]{FiledTo: now.Add(-2 * time.Hour)}, false},
		{"budget", Filter[status]{HasBudget: true}, true},
		{"community", Filter[status]{Community: "C2"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.Matcher(now)(c); got != tc.want {
				t.Errorf("match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	area := func(code string) string {
		if code == "CG" {
			return "城市管理"
		}
		return ""
	}
	f := Filter[status]{}
	if err := f.Check(area); err != nil || f.Sort != SortFiled || f.Limit != DefaultLimit {
		t.Errorf("defaults: got %v, sort %q, limit %d", err, f.Sort, f.Limit)
	}
	bad := Filter[status]{Status: "gone", Area: "XX", Sort: "random"}
	if err := bad.Check(area); err == nil {
		t.Error("bad filter: got no error, want EINVALID")
	}
}

func TestQueueMatch(t *testing.T) {
	f := QueueFilter[status]{AssignedToMe: true, Address: "胡同"}
	c := QueueFields[status]{AssignedTo: "u1", Status: "open", Address: "东胡同 3 号"}
	if !f.Match("u1", c) {
		t.Error("assigned and address matching: got false, want true")
	}
	if f.Match("u2", c) {
		t.Error("assigned to another: got true, want false")
	}
}
