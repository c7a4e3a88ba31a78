package main

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minsheng/cases/casestest"
)

type caseView struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
	Status  string `json:"status"`
}

type lineView struct {
	ID           string `json:"id"`
	CommittedFen int64  `json:"committed_fen"`
	SpentFen     int64  `json:"spent_fen"`
	AvailableFen int64  `json:"available_fen"`
}

// TestMoneyPath follows one request through the wired server from filing to
// spending: finance books a line, the sub-district classifies and links the
// case (reserving money), the cadre completes it below the estimate, and
// the line ends with exactly the actual cost spent. `minsheng check` then
// finds the ledger consistent.
func TestMoneyPath(t *testing.T) {
	data := filepath.Join(shortTempDir(t), "data")
	env := map[string]string{"MINSHENG_DATA": data, "MINSHENG_ADMIN_PASSWORD": "admin-password-1"}
	srv := startServer(t, env)
	api := srv.base + "/api/v1"
	mustPost := func(token, path string, body any, out any, want int) {
		t.Helper()
		if code := postJSON(t, api+path, token, body, out); code != want {
			t.Fatalf("POST %s: status %d, want %d", path, code, want)
		}
	}
	loginAs := func(user, pw string) string {
		t.Helper()
		var tok struct {
			AccessToken string `json:"access_token"`
			User        struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		mustPost("", "/auth/login", map[string]string{"username": user, "password": pw}, &tok, 200)
		return tok.AccessToken
	}
	admin := loginAs("admin", "admin-password-1")
	var cadreUser struct {
		ID string `json:"id"`
	}
	mustPost(admin, "/users", map[string]string{"username": "fin1", "password": "finance-pass", "role": "finance"}, nil, 201)
	mustPost(admin, "/users", map[string]string{"username": "jrj1", "password": "street-pass", "role": "subdistrict", "scope": "jinrongjie"}, nil, 201)
	mustPost(admin, "/users", map[string]string{"username": "fs1", "password": "cadre-pass", "role": "cadre", "scope": "jinrongjie-fengsheng"}, &cadreUser, 201)
	fin, street, cadre := loginAs("fin1", "finance-pass"), loginAs("jrj1", "street-pass"), loginAs("fs1", "cadre-pass")

	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	var line lineView
	mustPost(fin, "/budget/lines", map[string]any{
		"fiscal_year": year, "sub_district": "jinrongjie", "item_code": "SQ-05-04",
		"project_name": "丰盛社区旱厕改造", "approved_fen": 10_000_000,
	}, &line, 201)

	var c caseView
	mustPost(cadre, "/cases", map[string]any{
		"area": "SQ", "title": "10号院旱厕改造", "description": "丰盛社区10号院旱厕地面不平，需人工清掏",
		"community": "jinrongjie-fengsheng", "address": "丰盛胡同10号院", "households": 12,
		"contact_name": "张大爷", "contact_phone": "13800001111",
	}, &c, 201)
	step := func(token, action string, body map[string]any) {
		t.Helper()
		body["version"] = c.Version
		mustPost(token, "/cases/"+c.ID+"/"+action, body, &c, 200)
	}
	step(street, "accept", map[string]any{})
	step(street, "assign", map[string]any{"cadre_id": cadreUser.ID})
	step(street, "catalog-item", map[string]any{"item_code": "SQ-05-04"})
	mustPost(street, "/cases/"+c.ID+"/budget-link", map[string]any{"line_id": line.ID, "estimate_fen": 5_000_000}, nil, 201)
	if getJSON(t, api+"/budget/lines/"+line.ID, fin, &line); line.CommittedFen != 5_000_000 || line.AvailableFen != 5_000_000 {
		t.Fatalf("after link: %+v", line)
	}
	getJSON(t, api+"/cases/"+c.ID, cadre, &c)
	step(cadre, "assess", map[string]any{"estimate_fen": 5_000_000, "households": 12, "risk": 2})
	step(cadre, "start", map[string]any{})

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("tag", "after")
	fw, _ := mw.CreateFormFile("photo", "after.jpg")
	_, _ = fw.Write(casestest.JPEG(t, 320, 240))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", api+"/cases/"+c.ID+"/photos", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+cadre)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("after photo: %v %v", err, resp)
	}
	resp.Body.Close()
	getJSON(t, api+"/cases/"+c.ID, cadre, &c)
	step(cadre, "complete", map[string]any{"actual_cost_fen": 4_800_000})
	if c.Status != "completed" {
		t.Fatalf("status = %s", c.Status)
	}
	getJSON(t, api+"/budget/lines/"+line.ID, fin, &line)
	if line.SpentFen != 4_800_000 || line.CommittedFen != 0 || line.AvailableFen != 5_200_000 {
		t.Fatalf("after completion: %+v, want spent 4,800,000, committed 0, available 5,200,000", line)
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"check"}, envOf(env), &out, &errOut); err != nil {
		t.Fatalf("check: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "ledger consistent") {
		t.Errorf("check output: %s", out.String())
	}
}
