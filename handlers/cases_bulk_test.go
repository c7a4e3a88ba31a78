package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"minsheng/internal/org"
)

// bulkAnswer is the part of a bulk answer the tests read.
type bulkAnswer struct {
	OK      int `json:"ok"`
	Failed  int `json:"failed"`
	Results []struct {
		ID     string `json:"id"`
		Number string `json:"number"`
		Title  string `json:"title"`
		OK     bool   `json:"ok"`
		Status int    `json:"status"`
		Case   *struct {
			Status  string `json:"status"`
			Version int64  `json:"version"`
		} `json:"case"`
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"results"`
}

// outcome is one result reduced to what must match across copies.
type outcome struct {
	ID, Number, Code, Message string
	OK                        bool
}

func (b bulkAnswer) outcomes() []outcome {
	out := make([]outcome, len(b.Results))
	for i, r := range b.Results {
		out[i] = outcome{ID: r.ID, Number: r.Number, OK: r.OK}
		if r.Error != nil {
			out[i].Code, out[i].Message = r.Error.Code, r.Error.Message
		}
	}
	return out
}

// fileFar files a case in a sub-district "staff" does not serve.
func (a casesApp) fileFar(t *testing.T) caseJSON {
	t.Helper()
	body := newCaseBody()
	body["community"] = org.Xicheng().CommunitiesOf(hSubFar)[0].Code
	var c caseJSON
	if st := a.call(t, "resident", "POST", "/api/v1/cases", body, &c); st != 201 {
		t.Fatalf("file far: status %d", st)
	}
	return c
}

// filePublic files a public case another resident co-signs, so the case
// holds other timeline entries before a bulk step.
func (a casesApp) filePublic(t *testing.T) caseJSON {
	t.Helper()
	body := newCaseBody()
	body["public"] = true
	var c caseJSON
	if st := a.call(t, "resident", "POST", "/api/v1/cases", body, &c); st != 201 {
		t.Fatalf("file: status %d", st)
	}
	if st := a.call(t, "neighbour", "POST", "/api/v1/cases/"+c.ID+"/cosign", nil, &c); st != 200 {
		t.Fatalf("cosign: %d", st)
	}
	return c
}

// actions counts a case's timeline entries of one action, as stored.
func (a casesApp) actions(t *testing.T, id, action string) (n, total int) {
	t.Helper()
	c, err := a.cases.FindByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.Timeline {
		if string(e.Action) == action {
			n++
		}
	}
	return n, len(c.Timeline)
}

func item(c caseJSON, version int64) map[string]any {
	return map[string]any{"id": c.ID, "version": version}
}

func TestBulkMixedBatchExactResults(t *testing.T) {
	a := newCasesApp(t)
	fresh1, fresh2 := a.filePublic(t), a.file(t) // fresh1 holds a co-signature already
	stale := a.file(t)
	done := a.step(t, "staff", a.file(t), "accept", nil, 200) // wrong status now
	far := a.fileFar(t)
	body := map[string]any{"note": "批量受理", "items": []any{
		item(fresh1, fresh1.Version), item(stale, stale.Version+5), item(done, done.Version),
		item(far, far.Version), item(fresh2, fresh2.Version),
	}}
	var got bulkAnswer
	if st := a.call(t, "staff", "POST", "/api/v1/cases/bulk/accept", body, &got, "Idempotency-Key", "bulk-mixed-0001"); st != 200 {
		t.Fatalf("status %d", st)
	}
	want := []outcome{
		{ID: fresh1.ID, Number: fresh1.Number, OK: true},
		{ID: stale.ID, Number: stale.Number, Code: "conflict", Message: "数据已被他人修改，请刷新后重试"},
		{ID: done.ID, Number: done.Number, Code: "conflict", Message: "当前状态为「已受理」，不能受理，可执行：合并、派单、取消"},
		{Code: "forbidden", Message: "无权访问其他社区或街道的数据"}, // the id of a case staff may not read is not echoed
		{ID: fresh2.ID, Number: fresh2.Number, OK: true},
	}
	if g := got.outcomes(); !reflect.DeepEqual(g, want) {
		t.Errorf("results\n got %+v\nwant %+v", g, want)
	}
	if got.OK != 2 || got.Failed != 3 {
		t.Errorf("ok %d failed %d, want 2 and 3", got.OK, got.Failed)
	}
	if r := got.Results[0]; r.Case == nil || r.Case.Status != "accepted" || r.Title != "3号楼楼道灯不亮" {
		t.Errorf("first result = %+v", r)
	}
	for _, c := range []caseJSON{stale, far} {
		if n, _ := a.actions(t, c.ID, "accept"); n != 0 {
			t.Errorf("%s: %d accept entries, want none", c.Number, n)
		}
	}
	if n, total := a.actions(t, fresh1.ID, "accept"); n != 1 || total < 3 {
		t.Errorf("fresh1: %d accept entries of %d, want 1 beside the earlier ones", n, total)
	}

	// The same request again: the stored outcomes, nothing applied twice.
	var again bulkAnswer
	if st := a.call(t, "staff", "POST", "/api/v1/cases/bulk/accept", body, &again, "Idempotency-Key", "bulk-mixed-0001"); st != 200 {
		t.Fatalf("again: status %d", st)
	}
	if g := again.outcomes(); !reflect.DeepEqual(g, want) {
		t.Errorf("replayed results\n got %+v\nwant %+v", g, want)
	}
	if n, _ := a.actions(t, fresh2.ID, "accept"); n != 1 {
		t.Errorf("fresh2 after a retry: %d accept entries, want 1", n)
	}
}

func TestBulkSameRequestAtOnceAppliesOnce(t *testing.T) {
	a := newCasesApp(t)
	for round := range 3 {
		var items []any
		var filed []caseJSON
		for range 4 {
			c := a.filePublic(t)
			filed = append(filed, c)
			items = append(items, item(c, c.Version))
		}
		body := map[string]any{"reason": "不属于受理范围", "items": items}
		key := fmt.Sprintf("bulk-race-%04d", round)
		const copies = 5
		answers := make([]bulkAnswer, copies)
		statuses := make([]int, copies)
		var wg sync.WaitGroup
		for i := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = a.call(t, "staff", "POST", "/api/v1/cases/bulk/reject", body, &answers[i], "Idempotency-Key", key)
			}()
		}
		wg.Wait()
		for i := range copies {
			if statuses[i] != 200 || answers[i].OK != len(filed) {
				t.Fatalf("round %d copy %d: status %d, %d ok: %+v", round, i, statuses[i], answers[i].OK, answers[i].outcomes())
			}
			if !reflect.DeepEqual(answers[i].outcomes(), answers[0].outcomes()) {
				t.Errorf("round %d copy %d answered otherwise", round, i)
			}
		}
		for _, c := range filed {
			if n, total := a.actions(t, c.ID, "reject"); n != 1 || total < 3 {
				t.Errorf("round %d %s: %d reject entries of %d, want exactly 1", round, c.Number, n, total)
			}
		}
	}
}

func TestBulkRequestChecks(t *testing.T) {
	a := newCasesApp(t)
	c := a.file(t)
	cases := []struct {
		name, path string
		body       any
		key        string
		want       int
		field      string
	}{
		{"no key", "/api/v1/cases/bulk/accept", map[string]any{"items": []any{item(c, c.Version)}}, "", 400, "Idempotency-Key"},
		{"unknown action", "/api/v1/cases/bulk/start", map[string]any{"items": []any{item(c, c.Version)}}, "bulk-check-01", 404, ""},
		{"no items", "/api/v1/cases/bulk/accept", map[string]any{"items": []any{}}, "bulk-check-02", 400, "items"},
		{"reject without reason", "/api/v1/cases/bulk/reject", map[string]any{"items": []any{item(c, c.Version)}}, "bulk-check-03", 400, "reason"},
		{"version missing", "/api/v1/cases/bulk/accept", map[string]any{"items": []any{map[string]any{"id": c.ID}}}, "bulk-check-04", 400, "items[0].version"},
		{"same case twice", "/api/v1/cases/bulk/accept", map[string]any{"items": []any{item(c, c.Version), item(c, c.Version)}}, "bulk-check-05", 400, "items[1].id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var raw []byte
			var hdr []string
			if tc.key != "" {
				hdr = []string{"Idempotency-Key", tc.key}
			}
			st := a.call(t, "staff", "POST", tc.path, tc.body, &raw, hdr...)
			if st != tc.want {
				t.Fatalf("status %d, want %d: %s", st, tc.want, raw)
			}
			var e struct {
				Error struct{ Fields map[string]string } `json:"error"`
			}
			_ = json.Unmarshal(raw, &e)
			if _, ok := e.Error.Fields[tc.field]; tc.field != "" && !ok {
				t.Errorf("fields %v, want %s", e.Error.Fields, tc.field)
			}
		})
	}
	if n, _ := a.actions(t, c.ID, "accept"); n != 0 {
		t.Errorf("a refused request accepted the case")
	}
	// Bulk steps are the sub-district's triage: a resident, a cadre or
	// finance is refused before any case is read.
	for i, who := range []string{"resident", "cadre", "finance"} {
		if st := a.call(t, who, "POST", "/api/v1/cases/bulk/accept", map[string]any{"items": []any{item(c, c.Version)}}, nil, "Idempotency-Key", fmt.Sprint("bulk-check-role-", i)); st != 403 {
			t.Errorf("%s: status %d, want 403", who, st)
		}
	}
	if n, _ := a.actions(t, c.ID, "accept"); n != 0 {
		t.Errorf("a refused caller accepted the case")
	}
}

func TestBulkAssignToOneCadre(t *testing.T) {
	a := newCasesApp(t)
	c1 := a.step(t, "staff", a.file(t), "accept", nil, 200)
	c2 := a.step(t, "staff", a.file(t), "accept", nil, 200)
	var got bulkAnswer
	body := map[string]any{"cadre_id": a.ids["cadre"], "items": []any{item(c1, c1.Version), item(c2, c2.Version)}}
	if st := a.call(t, "staff", "POST", "/api/v1/cases/bulk/assign", body, &got, "Idempotency-Key", "bulk-assign-01"); st != 200 || got.OK != 2 {
		t.Fatalf("status %d: %+v", st, got.outcomes())
	}
	if r := got.Results[1]; r.Case == nil || r.Case.Status != "assigned" {
		t.Errorf("second = %+v", r)
	}
}
