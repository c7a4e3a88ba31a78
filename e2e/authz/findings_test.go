package authz_test

import (
	"strings"
	"testing"
	"time"

	"minsheng/internal/auth"
)

// extraCell is a cell outside the route × role grid: an account's state,
// a limit, or an operational route.
type extraCell struct {
	name string
	run  func(t *testing.T)
}

// expect sends one request and checks its status against want (see
// statusSet).
func expect(t *testing.T, w *world, who, method, target, body, ctype string, want ...string) {
	t.Helper()
	status, got := w.do(t, who, method, target, body, ctype)
	if !statusSet(want).accepts(status) {
		t.Errorf("%s %s as %q: status %d, want %s; body %.300s", method, target, who, status, strings.Join(want, "|"), got)
	}
}

// extraCells are the cells the grid cannot hold: a deleted resident's
// token, the limits both APIs must share, and the operational routes.
func extraCells() []extraCell {
	tight := func(c *auth.Config) {
		c.FilePerUser = auth.Limit{N: 2, Window: time.Hour}
		c.UploadPerUser = auth.Limit{N: 2, Window: time.Hour}
	}
	filing := `{"area":"CG","title":"楼道堆物","description":"楼道堆物需清运","community":"jinrongjie-fengsheng","address":"1号院","households":2}`
	return []extraCell{
		{name: "deleted resident's token is refused", run: func(t *testing.T) {
			w := newWorld(t)
			d := w.seed(t, "A")
			expect(t, w, "resident-A", "DELETE", "/api/v1/me", "", "", "ok")
			expect(t, w, "resident-A", "GET", "/api/v1/me", "", "", "401")
			expect(t, w, "resident-A", "GET", "/api/v1/me/cases", "", "", "401")
			expect(t, w, "resident-A", "GET", "/api/v1/cases/"+d.priv.id, "", "", "401")
		}},
		{name: "api filing limit", run: func(t *testing.T) {
			w := newWorld(t, tight)
			for range 2 {
				expect(t, w, "cadre-A", "POST", "/api/v1/cases", filing, "", "ok")
			}
			expect(t, w, "cadre-A", "POST", "/api/v1/cases", filing, "", "429")
		}},
		{name: "mobile filing limit", run: func(t *testing.T) {
			w := newWorld(t, tight)
			for range 2 {
				expect(t, w, "cadre-A", "PUT", "/mobile/v1/cases/"+w.fill("{uuid}", nil, 0), filing, "", "ok")
			}
			expect(t, w, "cadre-A", "PUT", "/mobile/v1/cases/"+w.fill("{uuid}", nil, 0), filing, "", "429")
		}},
		{name: "api upload limit", run: func(t *testing.T) {
			w := newWorld(t, tight)
			d := w.seed(t, "A")
			for range 2 {
				expect(t, w, "cadre-A", "POST", "/api/v1/cases/"+d.priv.id+"/photos", photoForm, formType, "415")
			}
			expect(t, w, "cadre-A", "POST", "/api/v1/cases/"+d.priv.id+"/photos", photoForm, formType, "429")
		}},
		{name: "mobile upload limit", run: func(t *testing.T) {
			w := newWorld(t, tight)
			d := w.seed(t, "A")
			put := func(want string) {
				expect(t, w, "cadre-A", "PUT", "/mobile/v1/cases/"+d.priv.id+"/photos/"+w.fill("{uuid}", nil, 0)+"?tag=before", "not a jpeg", "image/jpeg", want)
			}
			put("415")
			put("415")
			put("429")
		}},
		{name: "healthz is public", run: func(t *testing.T) {
			expect(t, newWorld(t), "", "GET", "/healthz", "", "", "200")
		}},
		{name: "readyz is public", run: func(t *testing.T) {
			expect(t, newWorld(t), "", "GET", "/readyz", "", "", "200")
		}},
		{name: "metrics are not anonymous", run: func(t *testing.T) {
			expect(t, newWorld(t), "", "GET", "/metrics", "", "", "401", "403", "404")
		}},
	}
}
