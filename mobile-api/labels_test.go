package mobileapi_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// labelled is the part of a case view that cases/labels.go fills: the same
// on /api/v1 and /mobile/v1.
type labelled struct {
	Status       string          `json:"status"`
	StatusLabel  string          `json:"status_label"`
	VerdictLabel string          `json:"verdict_label"`
	DeadlineText string          `json:"deadline_text"`
	Overdue      bool            `json:"overdue"`
	Deadline     json.RawMessage `json:"deadline"`
	Actions      []struct {
		Action string `json:"action"`
		Label  string `json:"label"`
	} `json:"actions"`
	Timeline []struct {
		Action      string `json:"action"`
		ActionLabel string `json:"action_label"`
	} `json:"timeline"`
}

// TestLabelsSameOnBothAPIs reads one case as each caller on /api/v1 and
// /mobile/v1 at one instant and wants the same status and verdict labels,
// deadline (with its text) and steps; and the steps follow the caller: a
// resident never gets a staff step.
func TestLabelsSameOnBothAPIs(t *testing.T) {
	clock := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	f := newFixtureAt(t, func() time.Time { return clock })
	c := f.file(t, "wangfang")
	read := func(who, path string) labelled {
		t.Helper()
		var out labelled
		if st := f.call(t, who, "GET", path, nil, &out); st != http.StatusOK {
			t.Fatalf("%s GET %s: status %d", who, path, st)
		}
		return out
	}
	same := func(who string, wantActions ...string) labelled {
		t.Helper()
		web, app := read(who, "/api/v1/cases/"+c.ID), read(who, "/mobile/v1/cases/"+c.ID)
		if !reflect.DeepEqual(web, app) {
			t.Errorf("%s: /api/v1 %+v\n/mobile/v1 %+v", who, web, app)
		}
		var got []string
		for _, a := range web.Actions {
			got = append(got, a.Action+":"+a.Label)
		}
		if !reflect.DeepEqual(got, wantActions) {
			t.Errorf("%s (%s): actions %v, want %v", who, web.Status, got, wantActions)
		}
		return web
	}
	v := same("zhou", "accept:受理", "reject:退单", "merge:合并重复", "cancel:取消")
	if v.StatusLabel != "待受理" || v.DeadlineText != "剩余 1 天 0 时" || v.Overdue {
		t.Errorf("submitted: %+v", v)
	}
	same("wangfang")
	clock = clock.Add(30 * time.Hour)
	if v = same("zhou", "accept:受理", "reject:退单", "merge:合并重复", "cancel:取消"); v.DeadlineText != "已超期 7 时" || !v.Overdue {
		t.Errorf("overdue: %+v", v)
	}
	c = f.done(t, c)
	v = same("wangfang", "verdict:回访评价")
	if v.StatusLabel != "已办结" || v.DeadlineText != "" || string(v.Deadline) != "null" {
		t.Errorf("completed: %+v", v)
	}
	if e := v.Timeline[0]; e.Action != "submit" || e.ActionLabel != "登记" {
		t.Errorf("staff timeline: %+v", v.Timeline)
	}
	same("zhou")

	// The resident (the case was filed for their phone) may rate, nothing
	// else, and reads the same words.
	f.resident(t, "zhang")
	if st := f.call(t, "zhang", "GET", "/api/v1/me/cases", nil, nil); st != http.StatusOK { // links the case
		t.Fatalf("me/cases: %d", st)
	}
	if r := same("zhang", "verdict:评价"); r.StatusLabel != v.StatusLabel || r.Timeline[0].ActionLabel != "提交诉求" {
		t.Errorf("resident: %+v", r)
	}
	var out labelled
	body := map[string]any{"version": c.Version, "verdict": "basically_satisfied", "resolved": true}
	if st := f.call(t, "zhang", "POST", "/api/v1/me/cases/"+c.ID+"/verdict", body, &out); st != http.StatusOK {
		t.Fatalf("verdict: %d", st)
	}
	if out.VerdictLabel != "基本满意" || out.StatusLabel != "已关闭" || len(out.Actions) != 0 {
		t.Errorf("after the verdict: %+v", out)
	}
	if v = same("wangfang"); v.VerdictLabel != "基本满意" {
		t.Errorf("cadre after the verdict: %+v", v)
	}
}
