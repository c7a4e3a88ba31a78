package mobileapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestBadInput sends every route what a careless or hostile client sends:
// no token, unknown query parameters, malformed or unknown JSON, wrong
// content types, bad ids, out-of-range values, another community's case.
// Each gets its status in the one error shape, in Chinese.
func TestBadInput(t *testing.T) {
	f := newFixture(t)
	c := f.assigned(t, "wangfang")
	id := c.ID
	pid := uuid.NewString()
	jpegHeader := []string{"Content-Type", "image/jpeg"}
	key := []string{"Idempotency-Key", uuid.NewString()}
	tests := []struct {
		name   string
		who    string
		method string
		path   string
		body   any
		header []string
		want   int
		field  string
	}{
		{"openapi with a query", "", "GET", "/mobile/v1/openapi.json?x=1", nil, nil, 400, "x"},
		{"login without device", "", "POST", "/mobile/v1/auth/login", map[string]any{"username": "wangfang", "password": "password-wangfang"}, nil, 400, "device"},
		{"login with a control character in device", "", "POST", "/mobile/v1/auth/login", map[string]any{"username": "wangfang", "password": "password-wangfang", "device": "a\x1bb"}, nil, 400, "device"},
		{"login with an unknown field", "", "POST", "/mobile/v1/auth/login", `{"username":"wangfang","password":"x","device":"d","admin":true}`, nil, 400, ""},
		{"login with a wrong password", "", "POST", "/mobile/v1/auth/login", map[string]any{"username": "wangfang", "password": "nope", "device": "d"}, nil, 401, ""},
		{"login as text/plain", "", "POST", "/mobile/v1/auth/login", []byte("username=a"), []string{"Content-Type", "text/plain"}, 415, ""},
		{"refresh with garbage", "", "POST", "/mobile/v1/auth/refresh", map[string]any{"refresh_token": "x.y"}, nil, 401, ""},
		{"logout with two objects", "", "POST", "/mobile/v1/auth/logout", `{"refresh_token":"a"}{"refresh_token":"b"}`, nil, 400, ""},
		{"me anonymous", "", "GET", "/mobile/v1/me", nil, nil, 401, ""},
		{"me with an unknown query", "wangfang", "GET", "/mobile/v1/me?all=1", nil, nil, 400, "all"},
		{"sync anonymous", "", "GET", "/mobile/v1/sync", nil, nil, 401, ""},
		{"sync with a huge limit", "wangfang", "GET", "/mobile/v1/sync?limit=100000", nil, nil, 400, "limit"},
		{"sync with limit zero", "wangfang", "GET", "/mobile/v1/sync?limit=0", nil, nil, 400, "limit"},
		{"sync with a word for limit", "wangfang", "GET", "/mobile/v1/sync?limit=ten", nil, nil, 400, "limit"},
		{"sync with a long cursor", "wangfang", "GET", "/mobile/v1/sync?cursor=" + strings.Repeat("a", 100), nil, nil, 400, "cursor"},
		{"sync with a repeated cursor", "wangfang", "GET", "/mobile/v1/sync?cursor=a&cursor=b", nil, nil, 400, "cursor"},
		{"catalog anonymous", "", "GET", "/mobile/v1/catalog", nil, nil, 401, ""},
		{"cases with an unknown status", "wangfang", "GET", "/mobile/v1/cases?status=assigned,lost", nil, nil, 400, "status"},
		{"cases assigned to someone else", "wangfang", "GET", "/mobile/v1/cases?assigned=lisi", nil, nil, 400, "assigned"},
		{"cases overdue=maybe", "wangfang", "GET", "/mobile/v1/cases?overdue=maybe", nil, nil, 400, "overdue"},
		{"cases with an unknown query", "wangfang", "GET", "/mobile/v1/cases?sort=filed", nil, nil, 400, "sort"},
		{"cases as finance", "cai", "GET", "/mobile/v1/cases", nil, nil, 403, ""},
		{"similar without text", "wangfang", "GET", "/mobile/v1/similar?area=CG", nil, nil, 400, "text"},
		{"similar with an unknown area", "wangfang", "GET", "/mobile/v1/similar?area=XX&text=旱厕", nil, nil, 400, "area"},
		{"case unknown", "wangfang", "GET", "/mobile/v1/cases/" + uuid.NewString(), nil, nil, 404, ""},
		{"case of another community", "far", "GET", "/mobile/v1/cases/" + id, nil, nil, 403, ""},
		{"suggestions of another community", "far", "GET", "/mobile/v1/cases/" + id + "/suggestions", nil, nil, 403, ""},
		{"create under a non-uuid", "wangfang", "PUT", "/mobile/v1/cases/not-a-uuid", caseBody(), nil, 400, "client_uuid"},
		{"create without a title", "wangfang", "PUT", "/mobile/v1/cases/" + uuid.NewString(), map[string]any{"area": "CG", "description": "d", "address": "a"}, nil, 400, "title"},
		{"create with a bad phone", "wangfang", "PUT", "/mobile/v1/cases/" + uuid.NewString(), map[string]any{"area": "CG", "title": "路灯不亮", "description": "d", "address": "a", "contact_phone": "12345"}, nil, 400, "contact_phone"},
		{"create with households as text", "wangfang", "PUT", "/mobile/v1/cases/" + uuid.NewString(), `{"area":"CG","title":"路灯","description":"d","address":"a","households":"six"}`, nil, 400, "households"},
		{"create in another community", "wangfang", "PUT", "/mobile/v1/cases/" + uuid.NewString(), map[string]any{"area": "CG", "title": "路灯不亮", "description": "d", "address": "a", "community": commB}, nil, 403, ""},
		{"create with a negative accuracy", "wangfang", "PUT", "/mobile/v1/cases/" + uuid.NewString(), map[string]any{"area": "CG", "title": "路灯不亮", "description": "d", "address": "a", "lat": 39.9, "lng": 116.4, "gps_accuracy": -1}, nil, 400, "gps_accuracy"},
		{"create anonymous", "", "PUT", "/mobile/v1/cases/" + uuid.NewString(), caseBody(), nil, 401, ""},
		{"action without a key", "wangfang", "POST", "/mobile/v1/cases/" + id + "/actions/start", map[string]any{"version": c.Version}, nil, 400, "Idempotency-Key"},
		{"action unknown", "wangfang", "POST", "/mobile/v1/cases/" + id + "/actions/teleport", map[string]any{"version": 1}, key, 404, ""},
		{"action without a version", "wangfang", "POST", "/mobile/v1/cases/" + id + "/actions/assess", map[string]any{"estimate_fen": 1, "households": 1, "risk": 1}, key, 400, "version"},
		{"assess with a negative estimate", "wangfang", "POST", "/mobile/v1/cases/" + id + "/actions/assess", map[string]any{"version": c.Version, "estimate_fen": -5, "households": 1, "risk": 1}, []string{"Idempotency-Key", uuid.NewString()}, 400, "estimate_fen"},
		{"assess with an overflowing estimate", "wangfang", "POST", "/mobile/v1/cases/" + id + "/actions/assess", `{"version":2,"estimate_fen":99999999999999999999,"households":1,"risk":1}`, []string{"Idempotency-Key", uuid.NewString()}, 400, "estimate_fen"},
		{"assess with risk 9", "wangfang", "POST", "/mobile/v1/cases/" + id + "/actions/assess", map[string]any{"version": c.Version, "estimate_fen": 5, "households": 1, "risk": 9}, []string{"Idempotency-Key", uuid.NewString()}, 400, "risk"},
		{"complete from assigned", "wangfang", "POST", "/mobile/v1/cases/" + id + "/actions/complete", map[string]any{"version": c.Version, "actual_cost_fen": 5}, []string{"Idempotency-Key", uuid.NewString()}, 409, ""},
		{"verdict with an unknown field", "wangfang", "POST", "/mobile/v1/cases/" + id + "/actions/verdict", map[string]any{"version": c.Version, "verdict": "satisfied", "stars": 5}, []string{"Idempotency-Key", uuid.NewString()}, 400, ""},
		{"accept by a cadre", "wangfang", "POST", "/mobile/v1/cases/" + id + "/actions/accept", map[string]any{"version": c.Version}, []string{"Idempotency-Key", uuid.NewString()}, 403, ""},
		{"action on another community's case", "far", "POST", "/mobile/v1/cases/" + id + "/actions/start", map[string]any{"version": c.Version}, []string{"Idempotency-Key", uuid.NewString()}, 403, ""},
		{"photo as octet-stream", "wangfang", "PUT", "/mobile/v1/cases/" + id + "/photos/" + pid + "?tag=before", []byte("x"), []string{"Content-Type", "application/octet-stream"}, 415, ""},
		{"photo with a bad tag", "wangfang", "PUT", "/mobile/v1/cases/" + id + "/photos/" + pid + "?tag=selfie", []byte("x"), jpegHeader, 400, "tag"},
		{"photo that is not an image", "wangfang", "PUT", "/mobile/v1/cases/" + id + "/photos/" + uuid.NewString() + "?tag=before", []byte("not a jpeg at all"), jpegHeader, 415, ""},
		{"photo empty", "wangfang", "PUT", "/mobile/v1/cases/" + id + "/photos/" + uuid.NewString() + "?tag=before", []byte{}, jpegHeader, 400, "photo"},
		{"photo under a non-uuid", "wangfang", "PUT", "/mobile/v1/cases/" + id + "/photos/p1?tag=before", []byte("x"), jpegHeader, 400, "photo"},
		{"photo of another community", "far", "PUT", "/mobile/v1/cases/" + id + "/photos/" + uuid.NewString() + "?tag=before", []byte("x"), jpegHeader, 403, ""},
		{"delete a photo of an unknown case", "wangfang", "DELETE", "/mobile/v1/cases/" + uuid.NewString() + "/photos/x", nil, nil, 404, ""},
		{"notifications with a query", "wangfang", "GET", "/mobile/v1/notifications?unread=1", nil, nil, 400, "unread"},
		{"read without ids or all", "wangfang", "POST", "/mobile/v1/notifications/read", map[string]any{}, nil, 400, "ids"},
		{"read with both", "wangfang", "POST", "/mobile/v1/notifications/read", map[string]any{"ids": []string{"a"}, "all": true}, nil, 400, "all"},
		{"read with ids as a string", "wangfang", "POST", "/mobile/v1/notifications/read", `{"ids":"a"}`, nil, 400, "ids"},
		{"unknown route", "wangfang", "GET", "/mobile/v1/nothing", nil, nil, 404, ""},
	}
	f.user(t, "cai", "finance", "")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e apiError
			got := f.call(t, tc.who, tc.method, tc.path, tc.body, &e, tc.header...)
			if got != tc.want {
				t.Fatalf("status = %d, want %d (%+v)", got, tc.want, e.Error)
			}
			if e.Error.Code == "" || !hasHan(e.Error.Message) {
				t.Errorf("error = %+v, want the error shape with a Chinese message", e.Error)
			}
			if tc.field != "" {
				if _, ok := e.Error.Fields[tc.field]; !ok {
					t.Errorf("fields = %v, want %q named", e.Error.Fields, tc.field)
				}
			}
		})
	}
	var after mcase
	f.call(t, "wangfang", "GET", "/mobile/v1/cases/"+id, nil, &after)
	if after.Version != c.Version || len(after.Photos) != 0 {
		t.Errorf("after the bad requests: version %d, %d photos; want %d and none", after.Version, len(after.Photos), c.Version)
	}
	if st := f.call(t, "wangfang", "GET", "/mobile/v1/me", nil, nil); st != http.StatusOK {
		t.Errorf("me afterwards: %d", st)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}
