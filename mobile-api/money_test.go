package mobileapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"minsheng/budgetlink/ledger"
	"minsheng/cases/casestest"
)

// TestCompleteReplayedMovesMoneyOnce: 10 copies of one completion under one
// Idempotency-Key, at the same moment, on a line that already holds another
// case's reservation, spend the actual cost once and write one 办结 and one
// 办结支出 entry — over several rounds.
func TestCompleteReplayedMovesMoneyOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.user(t, "cai", "finance", "")
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	line, err := f.budget.CreateLine(ctx, f.who["cai"], ledger.NewLine{FiscalYear: year, SubDistrict: subA, ItemCode: "SQ-05-04", ProjectName: "旱厕改造", ApprovedFen: 100_000_000})
	if err != nil {
		t.Fatal(err)
	}
	link := func(c mcase, estimate int64) mcase {
		t.Helper()
		got, err := f.budget.ConfirmItem(ctx, f.who["zhou"], c.ID, c.Version, "SQ-05-04")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.budget.LinkCase(ctx, f.who["zhou"], c.ID, line.ID, estimate); err != nil {
			t.Fatal(err)
		}
		c.Version = got.Version
		return c
	}
	link(f.assigned(t, "lisi"), 500_000) // another entry on the line
	jpg := casestest.JPEG(t, 64, 48)
	var wantSpent int64
	for round := range 3 {
		c := link(f.assigned(t, "wangfang"), 1_000_000)
		var v mcase
		f.act(t, "wangfang", c.ID, "assess", uuid.NewString(), map[string]any{"version": c.Version, "estimate_fen": 1_000_000, "households": 2, "risk": 1}, &v)
		f.act(t, "wangfang", c.ID, "start", uuid.NewString(), map[string]any{"version": v.Version}, &v)
		f.call(t, "wangfang", "PUT", "/mobile/v1/cases/"+c.ID+"/photos/"+uuid.NewString()+"?tag=after", jpg, &v)
		key, body := uuid.NewString(), map[string]any{"version": v.Version, "actual_cost_fen": 950_000}
		const copies = 10
		status := make([]int, copies)
		var wg sync.WaitGroup
		for i := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status[i] = f.act(t, "wangfang", c.ID, "complete", key, body, nil)
			}()
		}
		wg.Wait()
		for i, st := range status {
			if st != http.StatusOK {
				t.Fatalf("round %d copy %d: status %d", round, i, st)
			}
		}
		wantSpent += 950_000
		var got struct {
			Timeline []struct {
				Action string `json:"action"`
				Note   string `json:"note"`
			} `json:"timeline"`
		}
		f.call(t, "wangfang", "GET", "/mobile/v1/cases/"+c.ID, nil, &got)
		completes, spends := 0, 0
		for _, e := range got.Timeline {
			if e.Action == "complete" {
				completes++
			}
			if e.Action == "budget" && strings.Contains(e.Note, "办结支出") {
				spends++
			}
		}
		if completes != 1 || spends != 1 {
			t.Errorf("round %d: %d 办结 and %d 办结支出 entries, want 1 each", round, completes, spends)
		}
		l, err := f.budget.FindLineByID(ctx, line.ID)
		if err != nil {
			t.Fatal(err)
		}
		if l.SpentFen != wantSpent {
			t.Errorf("round %d: line spent %d fen, want %d", round, l.SpentFen, wantSpent)
		}
	}
}

// TestNotifications: assigning a case, linking money and recording a
// verdict each produce one notification for the assigned cadre; marking
// read is idempotent.
func TestNotifications(t *testing.T) {
	f := newFixture(t)
	c := f.assigned(t, "wangfang")
	type list struct {
		Items []struct {
			ID   string `json:"id"`
			Kind string `json:"kind"`
			Read bool   `json:"read"`
		} `json:"items"`
		Unread int `json:"unread"`
	}
	var l list
	f.call(t, "wangfang", "GET", "/mobile/v1/notifications", nil, &l)
	if len(l.Items) != 1 || l.Items[0].Kind != "assigned" || l.Unread != 1 {
		t.Fatalf("after assignment: %+v, want one unread 'assigned'", l)
	}
	var other list
	f.call(t, "lisi", "GET", "/mobile/v1/notifications", nil, &other)
	if len(other.Items) != 0 {
		t.Errorf("another cadre sees %d notifications, want none", len(other.Items))
	}
	ctx := context.Background()
	f.user(t, "cai", "finance", "")
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	line, err := f.budget.CreateLine(ctx, f.who["cai"], ledger.NewLine{FiscalYear: year, SubDistrict: subA, ItemCode: "SQ-05-04", ProjectName: "旱厕改造", ApprovedFen: 10_000_000})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.budget.ConfirmItem(ctx, f.who["zhou"], c.ID, c.Version, "SQ-05-04")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.budget.LinkCase(ctx, f.who["zhou"], c.ID, line.ID, 100_000); err != nil {
		t.Fatal(err)
	}
	var v mcase
	f.act(t, "wangfang", c.ID, "assess", uuid.NewString(), map[string]any{"version": got.Version, "estimate_fen": 100_000, "households": 1, "risk": 1}, &v)
	f.act(t, "wangfang", c.ID, "start", uuid.NewString(), map[string]any{"version": v.Version}, &v)
	f.call(t, "wangfang", "PUT", "/mobile/v1/cases/"+c.ID+"/photos/"+uuid.NewString()+"?tag=after", casestest.JPEG(t, 32, 32), &v)
	f.act(t, "wangfang", c.ID, "complete", uuid.NewString(), map[string]any{"version": v.Version, "actual_cost_fen": 90_000}, &v)
	f.act(t, "wangfang", c.ID, "verdict", uuid.NewString(), map[string]any{"version": v.Version, "verdict": "dissatisfied", "comment": "还有一处没修好"}, &v)
	f.call(t, "wangfang", "GET", "/mobile/v1/notifications", nil, &l)
	kinds := map[string]int{}
	for _, n := range l.Items {
		kinds[n.Kind]++
	}
	if kinds["assigned"] != 1 || kinds["verdict"] != 1 || kinds["budget"] < 2 {
		t.Errorf("kinds = %v, want 1 assigned, 1 verdict, ≥ 2 budget (linked, spent)", kinds)
	}
	if l.Unread != len(l.Items) {
		t.Errorf("unread = %d, want %d", l.Unread, len(l.Items))
	}
	for range 2 {
		var r struct {
			Unread int `json:"unread"`
		}
		if st := f.call(t, "wangfang", "POST", "/mobile/v1/notifications/read", map[string]any{"ids": []string{l.Items[0].ID}}, &r); st != http.StatusOK || r.Unread != len(l.Items)-1 {
			t.Errorf("mark one read: status %d unread %d, want 200 and %d", st, r.Unread, len(l.Items)-1)
		}
	}
	var r struct {
		Unread int `json:"unread"`
	}
	f.call(t, "wangfang", "POST", "/mobile/v1/notifications/read", map[string]any{"all": true}, &r)
	if r.Unread != 0 {
		t.Errorf("after all read: unread %d, want 0", r.Unread)
	}
}

// TestDeadlineNotifications: a case assigned to the cadre whose deadline
// comes within 24 hours gives one 24 小时内到期 notice, and once it passes one
// 已超期 notice, however often the cadre looks.
func TestDeadlineNotifications(t *testing.T) {
	var mu sync.Mutex
	now := time.Now().UTC()
	clk := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	f := newFixtureAt(t, clk)
	f.assigned(t, "wangfang") // completion due in 15 days
	kinds := func() map[string]int {
		var l struct {
			Items []struct {
				Kind string `json:"kind"`
			} `json:"items"`
		}
		f.call(t, "wangfang", "GET", "/mobile/v1/notifications", nil, &l)
		k := map[string]int{}
		for _, n := range l.Items {
			k[n.Kind]++
		}
		return k
	}
	if k := kinds(); k["due_soon"] != 0 || k["overdue"] != 0 {
		t.Fatalf("15 days ahead: %v, want no deadline notice", k)
	}
	advance(14*24*time.Hour + time.Hour)
	for range 2 {
		if k := kinds(); k["due_soon"] != 1 || k["overdue"] != 0 {
			t.Errorf("23 hours ahead: %v, want one due_soon", k)
		}
	}
	advance(2 * 24 * time.Hour)
	for range 2 {
		if k := kinds(); k["due_soon"] != 1 || k["overdue"] != 1 {
			t.Errorf("overdue: %v, want one due_soon and one overdue", k)
		}
	}
	var me struct {
		Counts struct {
			Overdue int `json:"overdue"`
		} `json:"counts"`
	}
	f.call(t, "wangfang", "GET", "/mobile/v1/me", nil, &me)
	if me.Counts.Overdue != 1 {
		t.Errorf("me overdue = %d, want 1", me.Counts.Overdue)
	}
}
