package mobileapi_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// step is an offered step with the app's lookahead (cases.ActionsAhead).
type step struct {
	Action  string `json:"action"`
	Label   string `json:"label"`
	To      string `json:"to"`
	ToLabel string `json:"to_label"`
	Then    []step `json:"then"`
}

// chain follows, from state, the first offered step that moves the case
// on: "assess→assessed(已评估) start→…".
func chain(state string, steps []step) string {
	var out []string
	for len(steps) > 0 {
		var next []step
		for _, s := range steps {
			if s.To != state {
				out = append(out, s.Action+"→"+s.To+"("+s.ToLabel+")")
				state, next = s.To, s.Then
				break
			}
		}
		steps = next
	}
	return strings.Join(out, " ")
}

// TestActionsAhead: a cadre's case view carries, for each step, the state it
// leads to and the steps after it, from the server's transition table — what
// the app needs to queue 现场评估 → 开始办理 → 办结 → 回访 with no signal.
// The lookahead follows the caller: the sub-district's steps chain to its
// own, never to a cadre's; /api/v1 carries none of it.
func TestActionsAhead(t *testing.T) {
	f := newFixture(t)
	c := f.assigned(t, "wangfang")
	var v struct {
		Actions []step `json:"actions"`
	}
	if st := f.call(t, "wangfang", "GET", "/mobile/v1/cases/"+c.ID, nil, &v); st != http.StatusOK {
		t.Fatalf("status %d", st)
	}
	want := "assess→assessed(已评估) start→in_progress(办理中) complete→completed(已办结) verdict→closed(已关闭)"
	if got := chain(c.Status, v.Actions); got != want {
		t.Errorf("cadre's chain %q, want %q", got, want)
	}
	// The sub-district on the same case: its own steps only.
	v.Actions = nil
	if st := f.call(t, "zhou", "GET", "/mobile/v1/cases/"+c.ID, nil, &v); st != http.StatusOK {
		t.Fatalf("status %d", st)
	}
	for _, s := range v.Actions {
		for _, n := range s.Then {
			if n.Action == "assess" || n.Action == "start" || n.Action == "complete" {
				t.Errorf("sub-district offered the cadre's %s after %s", n.Action, s.Action)
			}
		}
	}
	// /api/v1 keeps its plain list.
	var web struct {
		Actions []map[string]any `json:"actions"`
	}
	if st := f.call(t, "zhou", "GET", "/api/v1/cases/"+c.ID, nil, &web); st != http.StatusOK {
		t.Fatalf("status %d", st)
	}
	for _, a := range web.Actions {
		if _, ok := a["then"]; ok {
			t.Errorf("/api/v1 action with a lookahead: %v", a)
		}
	}
}

// TestBootstrapRequests: /mobile/v1/catalog offers, per area, the requests
// residents make (not budget items) and the label table the app keeps offline.
func TestBootstrapRequests(t *testing.T) {
	f := newFixture(t)
	var b struct {
		Areas []struct {
			Code     string   `json:"code"`
			Requests []string `json:"requests"`
			Items    []struct {
				Name string `json:"name"`
			} `json:"items"`
		} `json:"areas"`
		Labels struct {
			Statuses []struct {
				Status string `json:"status"`
				Open   bool   `json:"open"`
			} `json:"statuses"`
			Verdicts []struct {
				Verdict string `json:"verdict"`
				Label   string `json:"label"`
			} `json:"verdicts"`
		} `json:"labels"`
	}
	if st := f.call(t, "wangfang", "GET", "/mobile/v1/catalog", nil, &b); st != http.StatusOK {
		t.Fatalf("status %d", st)
	}
	got := map[string][]string{}
	for _, a := range b.Areas {
		got[a.Code] = a.Requests
		items := map[string]bool{}
		for _, it := range a.Items {
			items[it.Name] = true
		}
		same := 0
		for _, r := range a.Requests {
			if items[r] {
				same++
			}
		}
		if len(a.Requests) < 4 || 2*same >= len(a.Requests) {
			t.Errorf("%s: requests %v (%d of them budget items)", a.Code, a.Requests, same)
		}
	}
	for area, want := range map[string][]string{"CG": {"旱厕改造", "停车自治", "楼道照明", "下水道堵塞"}, "MS": {"养老驿站"}} {
		for _, w := range want {
			found := false
			for _, r := range got[area] {
				found = found || r == w
			}
			if !found {
				t.Errorf("%s requests %v lack %s", area, got[area], w)
			}
		}
	}
	var verdicts []string
	for _, v := range b.Labels.Verdicts {
		verdicts = append(verdicts, v.Verdict+":"+v.Label)
	}
	if !reflect.DeepEqual(verdicts, []string{"satisfied:满意", "basically_satisfied:基本满意", "dissatisfied:不满意"}) {
		t.Errorf("verdicts %v", verdicts)
	}
	if len(b.Labels.Statuses) == 0 {
		t.Error("no statuses")
	}
}

// TestProposedItemFunding: after the cadre proposed a catalog item on
// 现场评估, the case's funding names it as waiting for the sub-district,
// not "尚未归类到支出事项".
func TestProposedItemFunding(t *testing.T) {
	f := newFixture(t)
	var cat struct {
		Areas []struct {
			Code  string `json:"code"`
			Items []struct {
				Code string `json:"code"`
				Name string `json:"name"`
			} `json:"items"`
		} `json:"areas"`
	}
	if st := f.call(t, "wangfang", "GET", "/mobile/v1/catalog", nil, &cat); st != http.StatusOK {
		t.Fatalf("catalog: %d", st)
	}
	var item struct{ Code, Name string }
	for _, a := range cat.Areas {
		if a.Code == "CG" && len(a.Items) > 0 {
			item.Code, item.Name = a.Items[0].Code, a.Items[0].Name
		}
	}
	if item.Code == "" {
		t.Fatal("no CG item in the catalog")
	}
	c := f.assigned(t, "wangfang")
	var got struct {
		Funding struct {
			Reason string `json:"reason"`
		} `json:"funding"`
	}
	if st := f.call(t, "wangfang", "GET", "/mobile/v1/cases/"+c.ID, nil, &got); st != http.StatusOK || got.Funding.Reason != "尚未归类到支出事项" {
		t.Fatalf("before: %d %q", st, got.Funding.Reason)
	}
	body := map[string]any{"version": c.Version, "estimate_fen": 120000, "households": 6, "risk": 1, "catalog_item": item.Code}
	if st := f.act(t, "wangfang", c.ID, "assess", "7c0c6a52-5d1e-4c55-9a39-0d3f6a3f1a01", body, &got); st != http.StatusOK {
		t.Fatalf("assess: %d", st)
	}
	if want := "已建议「" + item.Name + "」，待街道确认"; got.Funding.Reason != want {
		t.Errorf("funding reason %q, want %q", got.Funding.Reason, want)
	}
}
