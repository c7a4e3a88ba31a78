package allocation

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestInputsDigest(t *testing.T) {
	filed := asOf.Add(-72 * time.Hour)
	lines := []Line{
		{ID: "L1", SubDistrictCode: "SD1", ItemCode: "I001", Area: "城市管理", AvailableFen: 100_000},
		{ID: "L2", SubDistrictCode: "SD1", ItemCode: "I002", Area: "平安建设", AvailableFen: 5_000},
	}
	needs := []Need{
		{CaseID: "c1", LineID: "L1", EstimateFen: 60_000, FiledAt: filed, SafetyLevel: 2, Households: 4},
		{CaseID: "c2", LineID: "L2", EstimateFen: 9_000, FiledAt: filed, CoSigners: 3},
	}
	extra := []string{"u1|I009|3000"}
	base := InputsDigest(lines, needs, safetyOnly, extra)

	t.Run("order does not matter", func(t *testing.T) {
		got := InputsDigest([]Line{lines[1], lines[0]}, []Need{needs[1], needs[0]}, safetyOnly, extra)
		if got != base {
			t.Errorf("got %s, want %s", got, base)
		}
	})
	t.Run("the inputs are not changed", func(t *testing.T) {
		if lines[0].ID != "L1" || needs[0].CaseID != "c1" {
			t.Errorf("got lines %v needs %v, want them in the given order", lines, needs)
		}
	})
	changed := map[string]func(l []Line, n []Need, w *Weights, e *[]string){
		"a line's money":         func(l []Line, _ []Need, _ *Weights, _ *[]string) { l[0].AvailableFen-- },
		"a line's area":          func(l []Line, _ []Need, _ *Weights, _ *[]string) { l[1].Area = "城市管理" },
		"a need's estimate":      func(_ []Line, n []Need, _ *Weights, _ *[]string) { n[0].EstimateFen++ },
		"a need's line":          func(_ []Line, n []Need, _ *Weights, _ *[]string) { n[1].LineID = "L1" },
		"a need's co-signers":    func(_ []Line, n []Need, _ *Weights, _ *[]string) { n[1].CoSigners++ },
		"a need's filing time":   func(_ []Line, n []Need, _ *Weights, _ *[]string) { n[0].FiledAt = n[0].FiledAt.Add(time.Second) },
		"a need's 三保 mark":       func(_ []Line, n []Need, _ *Weights, _ *[]string) { n[0].Sanbao = true },
		"the weights":            func(_ []Line, _ []Need, w *Weights, _ *[]string) { w.WaitingPerDay = 7 },
		"the unplaced demand":    func(_ []Line, _ []Need, _ *Weights, e *[]string) { *e = append(*e, "u2|I009|1") },
		"a need more":            nil,
		"a need less (the last)": nil,
	}
	for name, change := range changed {
		t.Run(name+" changes it", func(t *testing.T) {
			l, n, w, e := slices.Clone(lines), slices.Clone(needs), safetyOnly, slices.Clone(extra)
			switch {
			case change != nil:
				change(l, n, &w, &e)
			case name == "a need more":
				n = append(n, Need{CaseID: "c3", LineID: "L1", EstimateFen: 1, FiledAt: filed})
			default:
				n = n[:1]
			}
			if got := InputsDigest(l, n, w, e); got == base {
				t.Errorf("got the same digest %s, want another", got)
			}
		})
	}
}

func TestShortfalls(t *testing.T) {
	filed := asOf.Add(-24 * time.Hour)
	lines := []Line{
		{ID: "L1", SubDistrictCode: "SD1", ItemCode: "I001", Area: "城市管理", AvailableFen: 10_000},
		{ID: "L2", SubDistrictCode: "SD1", ItemCode: "I002", Area: "城市管理", AvailableFen: 0},
	}
	needs := []Need{
		{CaseID: "fits", LineID: "L1", EstimateFen: 10_000, FiledAt: filed},           // exactly the line's money: not short
		{CaseID: "over", LineID: "L1", EstimateFen: 12_000, FiledAt: filed},           // 2,000 fen too big
		{CaseID: "waiting", LineID: "L1", EstimateFen: 3_000, FiledAt: filed},         // the last run waitlisted it; first in its waitlist, a 调剂 covered it since
		{CaseID: "next", LineID: "L1", EstimateFen: 8_000, FiledAt: filed},            // waitlisted after it: 7,000 left for 8,000, still short
		{CaseID: "both", LineID: "L2", EstimateFen: 500, FiledAt: filed},              // waitlisted and the line is empty
		{CaseID: "lineless", LineID: "L9", EstimateFen: 100, FiledAt: filed},          // its line is not loaded: nothing available
		{CaseID: "free", LineID: "L2", EstimateFen: 0, FiledAt: filed.Add(time.Hour)}, // costs nothing
	}
	got := Shortfalls(lines, needs, map[string]int{"waiting": 0, "next": 1, "both": 0, "gone": 2})
	want := []ShortNeed{
		{CaseID: "over", LineID: "L1", EstimateFen: 12_000, AvailableFen: 10_000, GapFen: 2_000, Reasons: []string{ShortOverAvailable}},
		{CaseID: "both", LineID: "L2", EstimateFen: 500, AvailableFen: 0, GapFen: 500, Reasons: []string{ShortWaitlisted, ShortOverAvailable}},
		{CaseID: "lineless", LineID: "L9", EstimateFen: 100, AvailableFen: 0, GapFen: 100, Reasons: []string{ShortOverAvailable}},
		{CaseID: "next", LineID: "L1", EstimateFen: 8_000, AvailableFen: 10_000, GapFen: 0, Reasons: []string{ShortWaitlisted}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	t.Run("none short is an empty list", func(t *testing.T) {
		if got := Shortfalls(lines, needs[:1], nil); got == nil || len(got) != 0 {
			t.Errorf("got %#v, want an empty, non-nil list", got)
		}
	})
}
