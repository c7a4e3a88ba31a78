package cases_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/auth"
)

// TestFilterBudgetAndFiled: HasBudget keeps cases carrying a budget copy
// (an unlinked one, whose copy was removed, is out); FiledFrom/FiledTo
// bound the filing time, from inclusive, to exclusive, either side open.
func TestFilterBudgetAndFiled(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var made []*cases.Case
	for _, title := range []string{"路灯不亮", "垃圾清运不及时", "楼道堆物", "路面塌陷"} {
		in := input()
		in.Title = title
		made = append(made, e.submit(t, resident, in))
		e.clock.Advance(time.Hour)
	}
	link := &cases.BudgetLink{LineID: "BL-1", ItemCode: "CG-01-02", EstimateFen: 10_000, ReservedFen: 10_000, State: "reserved", LinkedBy: staff.UserID}
	for _, i := range []int{1, 2, 3} {
		if err := e.svc.SetBudgetCopy(ctx, auth.Principal{}, made[i].ID, link, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.SetBudgetCopy(ctx, auth.Principal{}, made[3].ID, nil, ""); err != nil { // unlinked again
		t.Fatal(err)
	}
	at := func(i int) time.Time { return made[i].FiledAt }
	index := func(c *cases.Case) string {
		for i, m := range made {
			if m.ID == c.ID {
				return string(rune('0' + i))
			}
		}
		return "?"
	}
	tests := []struct {
		name string
		f    cases.Filter
		want string
	}{
		{"has budget", cases.Filter{HasBudget: true}, "12"},
		{"filed from, inclusive", cases.Filter{FiledFrom: at(1)}, "123"},
		{"filed to, exclusive", cases.Filter{FiledTo: at(2)}, "01"},
		{"filed range", cases.Filter{FiledFrom: at(1), FiledTo: at(3)}, "12"},
		{"range in another zone", cases.Filter{FiledFrom: at(1).In(time.FixedZone("CST", 8*3600)), FiledTo: at(2).Add(time.Millisecond)}, "12"},
		{"has budget in a range", cases.Filter{HasBudget: true, FiledFrom: at(2)}, "2"},
		{"with other fields", cases.Filter{HasBudget: true, Text: "垃圾", SubDistrict: subA}, "1"},
		{"empty range", cases.Filter{FiledFrom: at(3).Add(time.Hour)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var each strings.Builder
			if err := e.svc.EachCase(ctx, tt.f, func(c *cases.Case) error { each.WriteString(index(c)); return nil }); err != nil {
				t.Fatal(err)
			}
			if got := each.String(); got != tt.want {
				t.Errorf("EachCase = %q, want %q (oldest first)", got, tt.want)
			}
			found, _, err := e.svc.Find(ctx, finance, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for i := len(found) - 1; i >= 0; i-- { // Find is newest first
				got.WriteString(index(found[i]))
			}
			if got.String() != tt.want {
				t.Errorf("Find = %q, want %q", got.String(), tt.want)
			}
		})
	}
	t.Run("range ending before it starts", func(t *testing.T) {
		_, _, err := e.svc.Find(ctx, finance, cases.Filter{FiledFrom: at(2), FiledTo: at(1)})
		wantCode(t, err, minsheng.EINVALID)
		if _, ok := minsheng.ErrorFields(err)["filed_to"]; !ok {
			t.Errorf("fields = %v, want filed_to", minsheng.ErrorFields(err))
		}
		err = e.svc.EachCase(ctx, cases.Filter{FiledFrom: at(2), FiledTo: at(2)}, func(*cases.Case) error { return nil })
		wantCode(t, err, minsheng.EINVALID)
	})
}
