package handlers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"minsheng/cases"
	"minsheng/cases/casestest"
	"minsheng/internal/auth"
	"minsheng/internal/media"
)

const (
	hSub      = "xichanganjie"
	hComm     = "xichanganjie-liubukou"
	hCommNext = "xichanganjie-hepingmen"
	hSubFar   = "xinjiekou"
	hPhone    = "13912345678"
)

// casesApp is the wired server with the users the cases tests act as.
type casesApp struct{ *fixture }

func newCasesApp(t *testing.T) casesApp {
	t.Helper()
	a := casesApp{newFixture(t, fixtureOptions{photoLimits: media.Limits{MaxBytes: 256 << 10}})}
	a.staff(t, "staff", auth.RoleSubdistrict, hSub)
	a.staff(t, "stafffar", auth.RoleSubdistrict, hSubFar)
	a.staff(t, "cadre", auth.RoleCadre, hComm)
	a.staff(t, "cadrenext", auth.RoleCadre, hCommNext)
	a.staff(t, "finance", auth.RoleFinance, "")
	a.resident(t, "resident", "13800000001")
	a.resident(t, "neighbour", "13800000002")
	return a
}

// upload posts a photo as multipart/form-data.
func (a casesApp) upload(t *testing.T, who, id, tag string, photo []byte, out any) int {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if tag != "" {
		_ = w.WriteField("tag", tag)
	}
	if photo != nil {
		fw, _ := w.CreateFormFile("photo", "photo.jpg")
		_, _ = fw.Write(photo)
	}
	_ = w.Close()
	req := httptest.NewRequest("POST", "/api/v1/cases/"+id+"/photos", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return a.send(t, req, who, out)
}

// caseJSON is the part of a case's JSON the tests read.
type caseJSON struct {
	ID            string `json:"id"`
	Number        string `json:"number"`
	Status        string `json:"status"`
	StatusLabel   string `json:"status_label"`
	Version       int64  `json:"version"`
	ContactPhone  string `json:"contact_phone"`
	FiledAt       string `json:"filed_at"`
	ActualCostFen int64  `json:"actual_cost_fen"`
	Verdict       string `json:"verdict"`
	TrackingToken string `json:"tracking_token"`
	Assessment    *struct {
		EstimateFen int64 `json:"estimate_fen"`
	} `json:"assessment"`
	Photos []struct {
		Tag      string `json:"tag"`
		URL      string `json:"url"`
		ThumbURL string `json:"thumb_url"`
		Key      string `json:"key"`
	} `json:"photos"`
	Timeline []struct {
		Action string `json:"action"`
	} `json:"timeline"`
	Location struct {
		Lat *float64 `json:"lat"`
	} `json:"location"`
}

func newCaseBody() map[string]any {
	return map[string]any{
		"area": "CG", "title": "3号楼楼道灯不亮", "description": "二单元楼道灯坏了一个月",
		"community": hComm, "address": "六部口3号楼二单元", "contact_name": "张三",
		"contact_phone": hPhone, "households": 12,
	}
}

func (a casesApp) file(t *testing.T) caseJSON {
	t.Helper()
	var c caseJSON
	if st := a.call(t, "resident", "POST", "/api/v1/cases", newCaseBody(), &c); st != 201 {
		t.Fatalf("file: status %d", st)
	}
	return c
}

// step posts a transition and fails unless it answers want.
func (a casesApp) step(t *testing.T, who string, c caseJSON, action string, body map[string]any, want int) caseJSON {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["version"]; !ok {
		body["version"] = c.Version
	}
	var out caseJSON
	var raw []byte
	st := a.call(t, who, "POST", "/api/v1/cases/"+c.ID+"/"+action, body, &raw)
	if st != want {
		t.Fatalf("%s as %s: status %d, want %d: %s", action, who, st, want, raw)
	}
	_ = json.Unmarshal(raw, &out)
	return out
}

func TestCasesHTTPResidentPath(t *testing.T) {
	a := newCasesApp(t)
	c := a.file(t)
	if c.Status != "submitted" || !strings.HasPrefix(c.Number, "XC") || c.ContactPhone != hPhone {
		t.Fatalf("filed = %+v", c)
	}
	if _, err := time.Parse(time.RFC3339, c.FiledAt); err != nil {
		t.Errorf("filed_at %q is not RFC 3339", c.FiledAt)
	}
	c = a.step(t, "staff", c, "accept", nil, 200)
	c = a.step(t, "staff", c, "assign", map[string]any{"cadre_id": a.ids["cadre"]}, 200)
	c = a.step(t, "cadre", c, "assess", map[string]any{"estimate_fen": 50000, "households": 12, "risk": 2, "note": "需更换灯具"}, 200)
	if c.Assessment == nil || c.Assessment.EstimateFen != 50000 {
		t.Errorf("assessment = %+v", c.Assessment)
	}
	c = a.step(t, "cadre", c, "start", nil, 200)
	if st := a.upload(t, "cadre", c.ID, "after", casestest.JPEG(t, 64, 48), nil); st != 201 {
		t.Fatalf("after-photo: status %d", st)
	}
	c = a.step(t, "cadre", c, "complete", map[string]any{"actual_cost_fen": 48000, "note": "已更换"}, 200)
	c = a.step(t, "resident", c, "verdict", map[string]any{"verdict": "satisfied"}, 200)

	var got caseJSON
	if st := a.call(t, "resident", "GET", "/api/v1/cases/"+c.ID, nil, &got); st != 200 {
		t.Fatalf("get: status %d", st)
	}
	var actions []string
	for _, e := range got.Timeline {
		actions = append(actions, e.Action)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"status", got.Status, "closed"},
		{"label", got.StatusLabel, "已关闭"},
		{"verdict", got.Verdict, "satisfied"},
		{"actual cost", got.ActualCostFen, int64(48000)},
		{"timeline", strings.Join(actions, ","), "submit,accept,assign,assess,start,photo,complete,verdict"},
		{"photo url", len(got.Photos) == 1 && got.Photos[0].URL != "" && got.Photos[0].Key == "", true},
	}
	for _, tt := range checks {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}

	var list struct {
		Items      []caseJSON `json:"items"`
		NextCursor string     `json:"next_cursor"`
	}
	if st := a.call(t, "resident", "GET", "/api/v1/cases?status=closed", nil, &list); st != 200 || len(list.Items) != 1 {
		t.Errorf("resident's closed cases: status %d, %d items", st, len(list.Items))
	}
}

func TestCasesHTTPIdempotencyAndAnonymous(t *testing.T) {
	a := newCasesApp(t)
	var first, second caseJSON
	key := "5b0f3c1e-8a7d-4f2e-9c1b-2d3e4f5a6b7c"
	a.call(t, "resident", "POST", "/api/v1/cases", newCaseBody(), &first, "Idempotency-Key", key)
	a.call(t, "resident", "POST", "/api/v1/cases", newCaseBody(), &second, "Idempotency-Key", key)
	if first.ID == "" || second.ID != first.ID || second.Number != first.Number {
		t.Errorf("retries made %q/%q and %q/%q, want one case", first.ID, first.Number, second.ID, second.Number)
	}
	var list struct {
		Items []caseJSON `json:"items"`
	}
	a.call(t, "resident", "GET", "/api/v1/cases", nil, &list)
	if got, want := len(list.Items), 1; got != want {
		t.Errorf("resident has %d cases, want %d", got, want)
	}

	t.Run("anonymous filing and tracking", func(t *testing.T) {
		var c caseJSON
		if st := a.call(t, "", "POST", "/api/v1/cases", newCaseBody(), &c); st != 201 || c.TrackingToken == "" {
			t.Fatalf("anonymous filing: status %d token %q", st, c.TrackingToken)
		}
		var tracked caseJSON
		if st := a.call(t, "", "GET", "/api/v1/cases/track?number="+c.Number+"&token="+c.TrackingToken, nil, &tracked); st != 200 {
			t.Fatalf("track: status %d", st)
		}
		if tracked.ID != c.ID || tracked.TrackingToken != "" || tracked.ContactPhone != auth.MaskPhone(hPhone) {
			t.Errorf("tracked = %+v", tracked)
		}
		if st := a.call(t, "", "GET", "/api/v1/cases/track?number="+c.Number+"&token=wrong", nil, nil); st != 404 {
			t.Errorf("wrong token: status %d, want 404", st)
		}
	})
	t.Run("anonymous keys: a retry gets its token back, another client never the case", func(t *testing.T) {
		key := "anon-client-key-0001"
		var first, retry, other caseJSON
		if st := a.call(t, "", "POST", "/api/v1/cases", newCaseBody(), &first, "Idempotency-Key", key); st != 201 || first.TrackingToken == "" {
			t.Fatalf("first: status %d token %q", st, first.TrackingToken)
		}
		if st := a.call(t, "", "POST", "/api/v1/cases", newCaseBody(), &retry, "Idempotency-Key", key); st != 201 ||
			retry.ID != first.ID || retry.TrackingToken != first.TrackingToken {
			t.Errorf("retry: status %d case %s token %q, want %s with the same token", st, retry.ID, retry.TrackingToken, first.ID)
		}
		body := newCaseBody()
		body["title"], body["contact_phone"] = "另一位居民的诉求", "13900001111"
		var raw []byte
		st := a.call(t, "", "POST", "/api/v1/cases", body, &raw, "Idempotency-Key", key)
		_ = json.Unmarshal(raw, &other)
		// 422 once the Idempotency-Key layer binds keys to bodies; 201
		// with a case of its own without it; never the first case.
		if (st != 201 && st != 422) || other.ID == first.ID || strings.Contains(string(raw), first.TrackingToken) {
			t.Errorf("other client: status %d %s; must never get case %s or its token", st, raw, first.ID)
		}
	})
}

func TestCasesHTTPRefusals(t *testing.T) {
	a := newCasesApp(t)
	c := a.file(t)
	type apiErr struct {
		Error struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		} `json:"error"`
	}
	bad := func(edit func(m map[string]any)) map[string]any {
		m := newCaseBody()
		edit(m)
		return m
	}
	tests := []struct {
		name, who, method, path string
		body                    any
		status                  int
		code, field             string
	}{
		{"title missing", "resident", "POST", "/api/v1/cases", bad(func(m map[string]any) { delete(m, "title") }), 400, "invalid", "title"},
		{"area unknown", "resident", "POST", "/api/v1/cases", bad(func(m map[string]any) { m["area"] = "XX" }), 400, "invalid", "area"},
		{"community unknown", "resident", "POST", "/api/v1/cases", bad(func(m map[string]any) { m["community"] = "x" }), 400, "invalid", "community"},
		{"phone malformed", "resident", "POST", "/api/v1/cases", bad(func(m map[string]any) { m["contact_phone"] = "110" }), 400, "invalid", "contact_phone"},
		{"households of wrong type", "resident", "POST", "/api/v1/cases", bad(func(m map[string]any) { m["households"] = "many" }), 400, "invalid", "households"},
		{"unknown field", "resident", "POST", "/api/v1/cases", bad(func(m map[string]any) { m["priority"] = 1 }), 400, "invalid", "priority"},
		{"finance files", "finance", "POST", "/api/v1/cases", newCaseBody(), 403, "forbidden", ""},
		{"version missing", "staff", "POST", "/api/v1/cases/" + c.ID + "/accept", map[string]any{}, 400, "invalid", "version"},
		{"stale version", "staff", "POST", "/api/v1/cases/" + c.ID + "/accept", map[string]any{"version": c.Version + 5}, 409, "conflict", ""},
		{"illegal step", "staff", "POST", "/api/v1/cases/" + c.ID + "/assign", map[string]any{"version": c.Version, "cadre_id": "x"}, 409, "conflict", ""},
		{"wrong role", "cadre", "POST", "/api/v1/cases/" + c.ID + "/accept", map[string]any{"version": c.Version}, 403, "forbidden", ""},
		{"wrong scope", "stafffar", "POST", "/api/v1/cases/" + c.ID + "/accept", map[string]any{"version": c.Version}, 403, "forbidden", ""},
		{"reject without reason", "staff", "POST", "/api/v1/cases/" + c.ID + "/reject", map[string]any{"version": c.Version}, 400, "invalid", "reason"},
		{"anonymous transition", "", "POST", "/api/v1/cases/" + c.ID + "/accept", map[string]any{"version": c.Version}, 401, "unauthorized", ""},
		{"unknown case", "staff", "POST", "/api/v1/cases/nope/accept", map[string]any{"version": 1}, 404, "not_found", ""},
		{"cadre of another community reads", "cadrenext", "GET", "/api/v1/cases/" + c.ID, nil, 403, "forbidden", ""},
		{"staff elsewhere reads", "stafffar", "GET", "/api/v1/cases/" + c.ID, nil, 403, "forbidden", ""},
		{"anonymous list", "", "GET", "/api/v1/cases", nil, 401, "unauthorized", ""},
		{"limit not a number", "staff", "GET", "/api/v1/cases?limit=ten", nil, 400, "invalid", "limit"},
		{"limit over 100", "staff", "GET", "/api/v1/cases?limit=101", nil, 400, "invalid", "limit"},
		{"overdue not a bool", "staff", "GET", "/api/v1/cases?overdue=maybe", nil, 400, "invalid", "overdue"},
		{"cadre lists another community", "cadre", "GET", "/api/v1/cases?community=" + hCommNext, nil, 403, "forbidden", ""},
		{"similar without text", "resident", "GET", "/api/v1/cases/similar?community=" + hComm + "&area=CG", nil, 400, "invalid", "text"},
		{"cosign own case", "resident", "POST", "/api/v1/cases/" + c.ID + "/cosign", nil, 409, "conflict", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiErr
			if st := a.call(t, tt.who, tt.method, tt.path, tt.body, &e); st != tt.status {
				t.Errorf("status = %d (%+v), want %d", st, e.Error, tt.status)
			}
			if e.Error.Code != tt.code || e.Error.Message == "" {
				t.Errorf("error = %+v, want code %s with a message", e.Error, tt.code)
			}
			if tt.field != "" && e.Error.Fields[tt.field] == "" {
				t.Errorf("fields = %v, want %q", e.Error.Fields, tt.field)
			}
		})
	}
	t.Run("strict JSON", func(t *testing.T) {
		// Issue 8 item 10 over HTTP: the raw body is checked before it is
		// decoded, and keys must match exactly.
		good, _ := json.Marshal(newCaseBody())
		withTitle := func(raw string) string {
			var m map[string]json.RawMessage
			_ = json.Unmarshal(good, &m)
			delete(m, "title")
			b, _ := json.Marshal(m)
			return `{"title":` + raw + `,` + string(b[1:])
		}
		rows := []struct{ name, body, field string }{
			{"invalid UTF-8", withTitle("\"楼道\xff灯坏了\""), "title"},
			{"NUL", withTitle(`"楼道\u0000灯坏了"`), "title"},
			{"ANSI escape", withTitle(`"\u001b[31m楼道灯坏了"`), "title"},
			{"bidi override", withTitle(`"楼道灯\u202e坏了"`), "title"},
			{"zero-width only", withTitle(`"\u200b\u200b\u200b"`), "title"},
			{"upper-cased key", `{"TITLE":"大写的标题",` + string(good[1:]), "TITLE"},
			{"mis-cased key alone", strings.Replace(string(good), `"title"`, `"Title"`, 1), "Title"},
			{"duplicate key", withTitle(`"楼道灯坏了","title":"另一个标题"`), "title"},
		}
		for _, r := range rows {
			t.Run(r.name, func(t *testing.T) {
				var e apiErr
				if st := a.call(t, "resident", "POST", "/api/v1/cases", r.body, &e); st != 400 {
					t.Errorf("status = %d (%+v), want 400", st, e.Error)
				}
				if e.Error.Code != "invalid" || e.Error.Fields[r.field] == "" {
					t.Errorf("error = %+v, want invalid naming %q", e.Error, r.field)
				}
			})
		}
		var list struct {
			Items []struct {
				Title string `json:"title"`
			} `json:"items"`
		}
		a.call(t, "resident", "GET", "/api/v1/cases", nil, &list)
		for _, c := range list.Items {
			if strings.ContainsRune(c.Title, '\ufffd') || c.Title == "大写的标题" || c.Title == "另一个标题" {
				t.Errorf("a refused filing was stored: %q", c.Title)
			}
		}
	})
	t.Run("illegal step names what is allowed", func(t *testing.T) {
		var e apiErr
		a.call(t, "staff", "POST", "/api/v1/cases/"+c.ID+"/assign", map[string]any{"version": c.Version, "cadre_id": "x"}, &e)
		if want := "可执行：受理、不予受理、合并、取消"; !strings.Contains(e.Error.Message, want) {
			t.Errorf("message = %q, want it to contain %q", e.Error.Message, want)
		}
	})
}

func TestCasesHTTPPhoneMasking(t *testing.T) {
	a := newCasesApp(t)
	c := a.file(t)
	c = a.step(t, "staff", c, "accept", nil, 200)
	a.step(t, "staff", c, "assign", map[string]any{"cadre_id": a.ids["cadre"]}, 200)
	masked := auth.MaskPhone(hPhone)
	tests := []struct {
		who       string
		status    int
		wantPhone string
	}{
		{"resident", 200, hPhone},
		{"cadre", 200, hPhone},
		{"staff", 200, hPhone},
		{"finance", 200, masked},
		{"cadrenext", 403, ""},
		{"stafffar", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.who, func(t *testing.T) {
			var raw []byte
			if st := a.call(t, tt.who, "GET", "/api/v1/cases/"+c.ID, nil, &raw); st != tt.status {
				t.Fatalf("status = %d, want %d", st, tt.status)
			}
			if tt.status != 200 {
				if bytes.Contains(raw, []byte(hPhone)) || bytes.Contains(raw, []byte(masked)) {
					t.Errorf("refusal carries the phone: %s", raw)
				}
				return
			}
			var got caseJSON
			_ = json.Unmarshal(raw, &got)
			if got.ContactPhone != tt.wantPhone {
				t.Errorf("phone = %q, want %q", got.ContactPhone, tt.wantPhone)
			}
			if tt.wantPhone == masked && bytes.Contains(raw, []byte(hPhone)) {
				t.Errorf("the clear phone appears elsewhere in the answer")
			}
		})
	}
}

func TestCasesHTTPPhotos(t *testing.T) {
	a := newCasesApp(t)
	c := a.file(t)

	var got caseJSON
	if st := a.upload(t, "resident", c.ID, "before", casestest.JPEGWithGPS(t, 80, 60), &got); st != 201 {
		t.Fatalf("upload: status %d", st)
	}
	if len(got.Photos) != 1 || got.Location.Lat == nil {
		t.Fatalf("after upload: %d photos, lat %v; want 1 and a position from EXIF", len(got.Photos), got.Location.Lat)
	}

	t.Run("served without EXIF", func(t *testing.T) {
		for _, u := range []string{got.Photos[0].URL, got.Photos[0].ThumbURL} {
			req := httptest.NewRequest("GET", u, nil)
			resp, err := a.app.Test(req, 10_000)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
				t.Fatalf("GET %s: status %d type %q", u, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			for _, leak := range []string{"Exif", casestest.Camera} {
				if bytes.Contains(body, []byte(leak)) {
					t.Errorf("served photo contains %q", leak)
				}
			}
		}
	})
	t.Run("a tampered link is refused", func(t *testing.T) {
		u := got.Photos[0].URL
		tampered := strings.Replace(u, ".jpg", "_thumb.jpg", 1)
		for _, link := range []string{tampered, strings.Split(u, "?")[0]} {
			if st := a.call(t, "", "GET", link, nil, nil); st != 403 {
				t.Errorf("GET %s: status %d, want 403", link, st)
			}
		}
	})

	refusals := []struct {
		name   string
		who    string
		tag    string
		photo  []byte
		status int
		code   string
	}{
		{"wrong type", "cadre", "before", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), 415, "unsupported"},
		{"too large", "cadre", "before", append(casestest.JPEG(t, 8, 8), make([]byte, 300<<10)...), 413, "too_large"},
		{"bomb", "cadre", "before", casestest.PNGBomb(t, 60000, 60000), 413, "too_large"},
		{"no photo", "cadre", "before", nil, 400, "invalid"},
		{"bad tag", "cadre", "sideways", casestest.JPEG(t, 8, 8), 400, "invalid"},
		{"cadre of another community", "cadrenext", "before", casestest.JPEG(t, 8, 8), 403, "forbidden"},
		{"anonymous", "", "before", casestest.JPEG(t, 8, 8), 401, "unauthorized"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			var e struct {
				Error struct{ Code string } `json:"error"`
			}
			if st := a.upload(t, tt.who, c.ID, tt.tag, tt.photo, &e); st != tt.status || e.Error.Code != tt.code {
				t.Errorf("status %d code %q, want %d %q", st, e.Error.Code, tt.status, tt.code)
			}
		})
	}
	t.Run("not multipart", func(t *testing.T) {
		if st := a.call(t, "cadre", "POST", "/api/v1/cases/"+c.ID+"/photos", map[string]any{"photo": "x"}, nil); st != 415 {
			t.Errorf("status %d, want 415", st)
		}
	})
	t.Run("over count", func(t *testing.T) {
		for i := 1; i < cases.MaxPhotos; i++ {
			if st := a.upload(t, "cadre", c.ID, "progress", casestest.JPEG(t, 16, 16), nil); st != 201 {
				t.Fatalf("photo %d: status %d", i+1, st)
			}
		}
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		st := a.upload(t, "cadre", c.ID, "progress", casestest.JPEG(t, 16, 16), &e)
		if st != 409 || !strings.Contains(e.Error.Message, fmt.Sprintf("最多%d张", cases.MaxPhotos)) {
			t.Errorf("10th photo: status %d %+v, want 409 saying 最多9张", st, e.Error)
		}
	})
}

func TestCasesHTTPConcurrentAccept(t *testing.T) {
	a := newCasesApp(t)
	c := a.file(t)
	statuses := make([]int, 4)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = a.call(t, "staff", "POST", "/api/v1/cases/"+c.ID+"/accept", map[string]any{"version": c.Version}, nil)
		})
	}
	wg.Wait()
	ok, conflict := 0, 0
	for _, st := range statuses {
		switch st {
		case 200:
			ok++
		case 409:
			conflict++
		}
	}
	if ok != 1 || conflict != len(statuses)-1 {
		t.Errorf("statuses = %v, want exactly one 200 and the rest 409", statuses)
	}
}

func TestCasesHTTPSimilarAndCosign(t *testing.T) {
	a := newCasesApp(t)
	body := newCaseBody()
	body["public"] = true // another resident finds and co-signs public cases only
	var c caseJSON
	if st := a.call(t, "resident", "POST", "/api/v1/cases", body, &c); st != 201 {
		t.Fatalf("file: status %d", st)
	}
	var sim struct {
		Items []struct {
			ID     string `json:"id"`
			Number string `json:"number"`
		} `json:"items"`
	}
	path := "/api/v1/cases/similar?community=" + hComm + "&area=CG&text=" + url.QueryEscape("楼道灯不亮")
	if st := a.call(t, "neighbour", "GET", path, nil, &sim); st != 200 || len(sim.Items) != 1 || sim.Items[0].ID != c.ID {
		t.Fatalf("similar: status %d items %+v", st, sim.Items)
	}
	var got struct {
		CosignCount int `json:"cosign_count"`
	}
	if st := a.call(t, "neighbour", "POST", "/api/v1/cases/"+c.ID+"/cosign", nil, &got); st != 200 || got.CosignCount != 1 {
		t.Errorf("cosign: status %d count %d", st, got.CosignCount)
	}
	if st := a.call(t, "neighbour", "POST", "/api/v1/cases/"+c.ID+"/cosign", nil, nil); st != 409 {
		t.Errorf("second cosign: status %d, want 409", st)
	}
	t.Run("co-signers and similar results get the public view only", func(t *testing.T) {
		if st := a.upload(t, "resident", c.ID, "before", casestest.JPEGWithGPS(t, 32, 32), nil); st != 201 {
			t.Fatalf("upload: %d", st)
		}
		var full struct {
			Location struct {
				Lat *float64 `json:"lat"`
			} `json:"location"`
		}
		if a.call(t, "resident", "GET", "/api/v1/cases/"+c.ID, nil, &full); full.Location.Lat == nil {
			t.Fatalf("set-up: the photo's GPS did not fill the location")
		}
		for _, path := range []string{"/api/v1/cases/" + c.ID, "/api/v1/cases", path} {
			var raw []byte
			if st := a.call(t, "neighbour", "GET", path, nil, &raw); st != 200 {
				t.Fatalf("GET %s: %d %s", path, st, raw)
			}
			body := string(raw)
			for _, key := range []string{`"description"`, `"location"`, `"address"`, `"lat"`, `"lng"`, `"contact_phone"`,
				`"contact_name"`, `"timeline"`, `"filer_id"`, `"cosigners"`, `"uploaded_by"`, `"assigned_name"`} {
				if strings.Contains(body, key) {
					t.Errorf("GET %s as co-signer has %s: %s", path, key, body)
				}
			}
			if !strings.Contains(body, `"public_view":true`) || !strings.Contains(body, `"thumb_url"`) {
				t.Errorf("GET %s as co-signer: %s, want the public view with photo links", path, body)
			}
		}
	})
}

// TestCasesHTTPJSONShape pins what clients iterate and display: lists are
// [] rather than null on a fresh case, and codes come with Chinese labels.
func TestCasesHTTPJSONShape(t *testing.T) {
	a := newCasesApp(t)
	var raw []byte
	if code := a.call(t, "resident", "POST", "/api/v1/cases", newCaseBody(), &raw); code != 201 {
		t.Fatalf("file: %d %s", code, raw)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if photos, ok := got["photos"].([]any); !ok || len(photos) != 0 {
		t.Errorf("photos = %#v, want []", got["photos"])
	}
	if tl, ok := got["timeline"].([]any); !ok || len(tl) != 1 {
		t.Errorf("timeline = %#v, want one event", got["timeline"])
	}
	if got["area_label"] != "城市管理" || got["status_label"] != "待受理" {
		t.Errorf("labels: area %v, status %v", got["area_label"], got["status_label"])
	}
}
