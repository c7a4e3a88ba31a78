package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/internal/auth"
	"minsheng/internal/org"
)

func TestSiteRoutes(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.staff(t, "cadre1", auth.RoleCadre, "xinjiekou-yude")
	f.resident(t, "zhang", "13811110000")
	filing := map[string]any{"area": "SQ", "title": "胡同旱厕改造", "description": "旱厕气味大", "community": "xinjiekou-yude",
		"address": "育德胡同", "contact_phone": "13811110000", "public": true}

	t.Run("my cases include one a cadre filed with my phone", func(t *testing.T) {
		var filed struct{ ID string }
		if got := f.call(t, "cadre1", "POST", "/api/v1/cases", filing, &filed); got != http.StatusCreated {
			t.Fatalf("file: status %d", got)
		}
		var mine struct {
			Items []struct{ ID string }
		}
		if got := f.call(t, "zhang", "GET", "/api/v1/me/cases", nil, &mine); got != http.StatusOK {
			t.Fatalf("status %d", got)
		}
		if len(mine.Items) != 1 || mine.Items[0].ID != filed.ID {
			t.Fatalf("items = %+v, want %s", mine.Items, filed.ID)
		}
		if got := f.call(t, "zhang", "GET", "/api/v1/me/cases?status=closed", nil, nil); got != http.StatusBadRequest {
			t.Fatalf("unknown query: status %d, want 400", got)
		}
	})
	t.Run("similar cases by a word, without signing in", func(t *testing.T) {
		var out struct {
			Items []map[string]any
		}
		if got := f.call(t, "", "GET", "/api/v1/public/similar?text=%E6%97%B1%E5%8E%95", nil, &out); got != http.StatusOK {
			t.Fatalf("status %d", got)
		}
		if len(out.Items) != 1 || out.Items[0]["title"] != "胡同旱厕改造" {
			t.Fatalf("items = %v", out.Items)
		}
		if _, leaked := out.Items[0]["location"]; leaked {
			t.Fatal("the preview carries the location")
		}
	})
	t.Run("the signed-in similar search needs no area or community", func(t *testing.T) {
		f.resident(t, "li", "13811113333")
		var out struct {
			Items []map[string]any
		}
		if got := f.call(t, "li", "GET", "/api/v1/cases/similar?text=%E6%97%B1%E5%8E%95", nil, &out); got != http.StatusOK {
			t.Fatalf("status %d", got)
		}
		if len(out.Items) != 1 || out.Items[0]["title"] != "胡同旱厕改造" || out.Items[0]["public_view"] != true {
			t.Fatalf("items = %v, want the public view of 胡同旱厕改造", out.Items)
		}
		for _, leak := range []string{"location", "contact_phone", "description", "timeline"} {
			if _, ok := out.Items[0][leak]; ok {
				t.Errorf("the result carries %q", leak)
			}
		}
	})
	t.Run("the board is public, cached by browsers and strict about its query", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "/api/v1/public/board?sub_district=xinjiekou", nil)
		resp, err := f.app.Test(req, 30_000)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=60" {
			t.Fatalf("status %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		for _, q := range []string{"?foo=1", "?fiscal_year=abc", "?sub_district=nowhere"} {
			if got := f.call(t, "", "GET", "/api/v1/public/board"+q, nil, nil); got != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", q, got)
			}
		}
	})
	t.Run("a QR code of the tracking link", func(t *testing.T) {
		var png []byte
		if got := f.call(t, "", "GET", "/api/v1/qr?text=https%3A%2F%2Fexample.org%2Ftrack", nil, &png); got != http.StatusOK {
			t.Fatalf("status %d", got)
		}
		if !strings.HasPrefix(string(png), "\x89PNG") {
			t.Fatal("not a PNG")
		}
		if got := f.call(t, "", "GET", "/api/v1/qr?text=", nil, nil); got != http.StatusBadRequest {
			t.Fatalf("empty text: status %d, want 400", got)
		}
	})
	t.Run("the unauthenticated QR route is rate-limited per address", func(t *testing.T) {
		got := 0
		for i := 0; i < 125 && got != http.StatusTooManyRequests; i++ {
			got = f.call(t, "", "GET", "/api/v1/qr?text=x", nil, nil)
		}
		if got != http.StatusTooManyRequests {
			t.Fatalf("after 125 requests: status %d, want 429", got)
		}
	})
	t.Run("anonymous follow-up through the token", func(t *testing.T) {
		anon := map[string]any{"area": "CG", "title": "大件垃圾堆放", "description": "旧沙发", "community": "xinjiekou-yude", "address": "育德胡同"}
		var filed struct {
			Number        string `json:"number"`
			TrackingToken string `json:"tracking_token"`
			Version       int64  `json:"version"`
		}
		if got := f.call(t, "", "POST", "/api/v1/cases", anon, &filed); got != http.StatusCreated || filed.TrackingToken == "" {
			t.Fatalf("file: status %d, token %q", got, filed.TrackingToken)
		}
		body := map[string]any{"number": filed.Number, "token": "0000", "version": filed.Version, "verdict": "satisfied"}
		if got := f.call(t, "", "POST", "/api/v1/track/verdict", body, nil); got != http.StatusNotFound {
			t.Fatalf("wrong token: status %d, want 404", got)
		}
		body["token"] = filed.TrackingToken
		if got := f.call(t, "", "POST", "/api/v1/track/verdict", body, nil); got != http.StatusConflict {
			t.Fatalf("before completion: status %d, want 409", got)
		}
		body["extra"] = 1
		if got := f.call(t, "", "POST", "/api/v1/track/verdict", body, nil); got != http.StatusBadRequest {
			t.Fatalf("unknown field: status %d, want 400", got)
		}
	})
	t.Run("profile name, then delete my data", func(t *testing.T) {
		var me struct{ Name string }
		if got := f.call(t, "zhang", "PATCH", "/api/v1/me", map[string]any{"name": "张阿姨"}, &me); got != http.StatusOK || me.Name != "张阿姨" {
			t.Fatalf("status %d, name %q", got, me.Name)
		}
		if got := f.call(t, "zhang", "PATCH", "/api/v1/me", map[string]any{"name": "x", "role": "admin"}, nil); got != http.StatusBadRequest {
			t.Fatalf("unknown field: status %d, want 400", got)
		}
		if got := f.call(t, "cadre1", "PATCH", "/api/v1/me", map[string]any{"name": "x"}, nil); got != http.StatusForbidden {
			t.Fatalf("staff renaming themselves: status %d, want 403", got)
		}
		if got := f.call(t, "zhang", "DELETE", "/api/v1/me", nil, nil); got != http.StatusOK {
			t.Fatalf("delete: status %d", got)
		}
		// The deleted account's token is void at once
		// (TestDeleteAccountVoidsTokens); the cases it filed are unlinked.
		if got := f.call(t, "zhang", "GET", "/api/v1/me", nil, nil); got != http.StatusUnauthorized {
			t.Fatalf("after deletion /me: status %d, want 401", got)
		}
		n, err := f.st.Collection("cases").Count(context.Background(), bson.M{"filer_id": f.ids["zhang"]})
		if err != nil || n != 0 {
			t.Fatalf("after deletion %d cases remain linked (%v)", n, err)
		}
	})
}

func TestResidentCaseShowsCommunityOffice(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.staff(t, "staff1", auth.RoleSubdistrict, "xinjiekou")
	// Staff accounts hold no phone (auth refuses one); the number a
	// resident gets is the community office's landline, and no mobile
	// number but the resident's own may appear in what they are shown.
	f.staff(t, "cadre1", auth.RoleCadre, "xinjiekou-yude")
	mobile := regexp.MustCompile(`1[3-9][0-9]{9}`)
	f.resident(t, "zhang", "13811110000")
	comm, err := org.Xicheng().Community("xinjiekou-yude")
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := org.Xicheng().SubDistrict("xinjiekou")

	type office struct {
		Name, Phone      string
		SubDistrictPhone string `json:"sub_district_phone"`
	}
	type caseOut struct {
		ID           string
		Version      int64
		AssignedName string `json:"assigned_name"`
		Office       *office
	}
	var c caseOut
	filing := map[string]any{"area": "SQ", "title": "楼道灯不亮", "description": "三层楼道灯坏了", "community": "xinjiekou-yude",
		"address": "育德胡同", "public": true}
	if got := f.call(t, "zhang", "POST", "/api/v1/cases", filing, &c); got != http.StatusCreated {
		t.Fatalf("file: status %d", got)
	}
	for _, st := range []struct {
		who, action string
		body        map[string]any
	}{
		{"staff1", "accept", map[string]any{}},
		{"staff1", "assign", map[string]any{"cadre_id": f.ids["cadre1"]}},
	} {
		st.body["version"] = c.Version
		if got := f.call(t, st.who, "POST", "/api/v1/cases/"+c.ID+"/"+st.action, st.body, &c); got != http.StatusOK {
			t.Fatalf("%s: status %d", st.action, got)
		}
	}

	for _, path := range []string{"/api/v1/cases/" + c.ID, "/api/v1/me/cases"} {
		t.Run("GET "+path, func(t *testing.T) {
			var raw []byte
			if got := f.call(t, "zhang", "GET", path, nil, &raw); got != http.StatusOK {
				t.Fatalf("status %d", got)
			}
			for _, m := range mobile.FindAllString(string(raw), -1) {
				if m != "13811110000" {
					t.Fatalf("a mobile number %s other than the resident's reached them: %s", m, raw)
				}
			}
			var got caseOut
			if path == "/api/v1/me/cases" {
				var list struct{ Items []caseOut }
				if err := json.Unmarshal(raw, &list); err != nil || len(list.Items) != 1 {
					t.Fatalf("list %s: %v", raw, err)
				}
				got = list.Items[0]
			} else if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if got.AssignedName == "" {
				t.Error("assigned_name is empty: the resident is not told who handles the case")
			}
			want := office{Name: comm.Name + "居委会", Phone: comm.OfficePhone, SubDistrictPhone: sub.OfficePhone}
			if got.Office == nil || *got.Office != want {
				t.Errorf("office: got %+v, want %+v", got.Office, want)
			}
			if !strings.HasPrefix(want.Phone, "010-") {
				t.Errorf("office phone %q is not a 010 landline", want.Phone)
			}
		})
	}
	t.Run("a co-signer's public view carries no office or staff", func(t *testing.T) {
		f.resident(t, "wang", "13811112222")
		if got := f.call(t, "wang", "POST", "/api/v1/cases/"+c.ID+"/cosign", map[string]any{}, nil); got != http.StatusOK {
			t.Fatalf("cosign: status %d", got)
		}
		var raw []byte
		if got := f.call(t, "wang", "GET", "/api/v1/cases/"+c.ID, nil, &raw); got != http.StatusOK {
			t.Fatalf("status %d", got)
		}
		for _, leak := range []string{"13811110000", "assigned_name", "office"} {
			if strings.Contains(string(raw), leak) {
				t.Errorf("public view carries %q: %s", leak, raw)
			}
		}
	})
}

func TestResidentLocate(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	fs, err := org.Xicheng().Community("jinrongjie-fengsheng")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a point in 丰盛 chooses its sub-district and community", func(t *testing.T) {
		var got struct {
			SubDistrictCode string `json:"sub_district_code"`
			SubDistrictName string `json:"sub_district_name"`
			Community       struct{ Code, Name string }
			DistanceM       *int64 `json:"distance_m"`
		}
		path := fmt.Sprintf("/api/v1/org/locate?lat=%f&lng=%f", fs.Center.Lat+0.0003, fs.Center.Lng)
		if st := f.call(t, "", "GET", path, nil, &got); st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
		if got.SubDistrictCode != "jinrongjie" || got.Community.Code != fs.Code || got.Community.Name != "丰盛社区" {
			t.Errorf("got %s / %s %s, want jinrongjie / %s 丰盛社区", got.SubDistrictCode, got.Community.Code, got.Community.Name, fs.Code)
		}
		if got.DistanceM == nil || *got.DistanceM < 20 || *got.DistanceM > 50 {
			t.Errorf("distance_m: got %v, want about 33", got.DistanceM)
		}
	})
	for _, tc := range []struct {
		name, query, field, message string
	}{
		{"outside the district", "lat=39.9145&lng=116.4110", "", "不在西城区范围内"},
		{"missing longitude", "lat=39.9", "lng", ""},
		{"not a number", "lat=abc&lng=116.36", "lat", ""},
		{"unknown parameter", "lat=39.91&lng=116.36&q=1", "q", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e struct {
				Error struct {
					Code, Message string
					Fields        map[string]string
				}
			}
			if st := f.call(t, "", "GET", "/api/v1/org/locate?"+tc.query, nil, &e); st != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", st)
			}
			if tc.field != "" && e.Error.Fields[tc.field] == "" {
				t.Errorf("fields %v, want %s", e.Error.Fields, tc.field)
			}
			if !strings.Contains(e.Error.Message, tc.message) {
				t.Errorf("message %q, want %q", e.Error.Message, tc.message)
			}
		})
	}
}

// TestPublicCasesOfACommunity: residents (and anyone) browse a community's
// public cases, page by page, in the public view; 不公开 ones never appear.
func TestPublicCasesOfACommunity(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.resident(t, "zhang", "13811110000")
	file := func(title, community string, public bool) string {
		t.Helper()
		var filed struct{ ID string }
		body := map[string]any{"area": "SQ", "title": title, "description": "描述里有电话 13811110000", "community": community,
			"address": "育德胡同8号", "contact_phone": "13811110000", "public": public}
		if got := f.call(t, "zhang", "POST", "/api/v1/cases", body, &filed); got != http.StatusCreated {
			t.Fatalf("file %s: status %d", title, got)
		}
		return filed.ID
	}
	first := file("楼道照明坏了", "xinjiekou-yude", true)
	hidden := file("家门口的私事", "xinjiekou-yude", false)
	second := file("胡同旱厕改造", "xinjiekou-yude", true)
	file("别的社区的停车", "xinjiekou-xilierqu", true)

	type list struct {
		Items      []map[string]any `json:"items"`
		NextCursor string           `json:"next_cursor"`
	}
	t.Run("newest first, paged, public cases of that community only", func(t *testing.T) {
		var ids []string
		cursor := ""
		for page := 0; page < 5; page++ {
			var out list
			if got := f.call(t, "", "GET", "/api/v1/public/cases?community=xinjiekou-yude&limit=1&cursor="+cursor, nil, &out); got != http.StatusOK {
				t.Fatalf("page %d: status %d", page, got)
			}
			for _, it := range out.Items {
				ids = append(ids, it["id"].(string))
				if it["public_view"] != true || it["community_name"] == "" || it["status_label"] != "待受理" {
					t.Errorf("item %v: want the public view with community name and status label", it)
				}
				for _, leak := range []string{"description", "location", "contact_phone", "filer_id", "timeline", "cosigners"} {
					if _, ok := it[leak]; ok {
						t.Errorf("the item carries %q", leak)
					}
				}
			}
			if cursor = out.NextCursor; cursor == "" {
				break
			}
		}
		if want := []string{second, first}; strings.Join(ids, ",") != strings.Join(want, ",") {
			t.Fatalf("ids = %v, want %v (newest first, without the 不公开 %s)", ids, want, hidden)
		}
	})
	t.Run("one public case by id; a 不公开 one is 404 like an unknown id", func(t *testing.T) {
		var one map[string]any
		if got := f.call(t, "", "GET", "/api/v1/public/cases/"+first, nil, &one); got != http.StatusOK || one["title"] != "楼道照明坏了" {
			t.Fatalf("status %d, %v", got, one)
		}
		if _, ok := one["description"]; ok {
			t.Error("the public case carries its description")
		}
		for _, id := range []string{hidden, "no-such-case"} {
			if got := f.call(t, "", "GET", "/api/v1/public/cases/"+id, nil, nil); got != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", id, got)
			}
		}
	})
	t.Run("the query is checked", func(t *testing.T) {
		for _, q := range []string{"", "?community=nowhere", "?community=xinjiekou-yude&cursor=abc", "?community=xinjiekou-yude&limit=101", "?community=xinjiekou-yude&foo=1"} {
			if got := f.call(t, "", "GET", "/api/v1/public/cases"+q, nil, nil); got != http.StatusBadRequest {
				t.Errorf("%q: status %d, want 400", q, got)
			}
		}
	})
}
