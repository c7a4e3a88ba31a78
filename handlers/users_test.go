package handlers_test

import (
	"testing"

	"minsheng/internal/auth"
)

func TestUsersAdminAPI(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.staff(t, "admin", auth.RoleAdmin, "")
	f.staff(t, "wang", auth.RoleCadre, "jinrongjie-fengsheng")
	f.staff(t, "zhang", auth.RoleSubdistrict, "jinrongjie")

	t.Run("only admins", func(t *testing.T) {
		for _, tt := range []struct{ method, path string }{
			{"GET", "/api/v1/users"}, {"PATCH", "/api/v1/users/" + f.ids["wang"]}, {"POST", "/api/v1/users/" + f.ids["wang"] + "/password"},
		} {
			var body any
			if tt.method != "GET" {
				body = map[string]any{"disabled": true}
			}
			if st := f.call(t, "zhang", tt.method, tt.path, body, nil); st != 403 {
				t.Errorf("%s %s as sub-district staff: %d, want 403", tt.method, tt.path, st)
			}
		}
	})
	t.Run("list with cursor paging", func(t *testing.T) {
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if st := f.call(t, "admin", "GET", "/api/v1/users?limit=2", nil, &page); st != 200 || len(page.Items) != 2 || page.NextCursor == "" {
			t.Fatalf("first page: %d %+v", st, page)
		}
		first := page.Items[0].ID
		if st := f.call(t, "admin", "GET", "/api/v1/users?limit=2&cursor="+page.NextCursor, nil, &page); st != 200 || len(page.Items) != 1 || page.NextCursor != "" {
			t.Fatalf("second page: %d %+v", st, page)
		}
		if page.Items[0].ID == first {
			t.Error("second page repeats the first")
		}
		for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=%25%25", "role=boss", "colour=red"} {
			if st := f.call(t, "admin", "GET", "/api/v1/users?"+q, nil, nil); st != 400 {
				t.Errorf("?%s: %d, want 400", q, st)
			}
		}
	})
	t.Run("disable ends the user's access at once", func(t *testing.T) {
		if st := f.call(t, "wang", "GET", "/api/v1/me", nil, nil); st != 200 {
			t.Fatalf("before: %d", st)
		}
		var u auth.User
		if st := f.call(t, "admin", "PATCH", "/api/v1/users/"+f.ids["wang"], map[string]any{"disabled": true}, &u); st != 200 || !u.Disabled {
			t.Fatalf("disable: %d %+v", st, u)
		}
		if st := f.call(t, "wang", "GET", "/api/v1/me", nil, nil); st != 401 {
			t.Errorf("disabled user's token: %d, want 401", st)
		}
		if st := f.call(t, "", "POST", "/api/v1/auth/login", map[string]string{"username": "wang", "password": "password-wang"}, nil); st != 403 {
			t.Errorf("disabled user's login: %d, want 403", st)
		}
	})
	t.Run("re-scope and password reset", func(t *testing.T) {
		var u auth.User
		if st := f.call(t, "admin", "PATCH", "/api/v1/users/"+f.ids["zhang"], map[string]any{"scope": "xichanganjie"}, &u); st != 200 || u.SubDistrict != "xichanganjie" {
			t.Fatalf("re-scope: %d %+v", st, u)
		}
		if st := f.call(t, "zhang", "GET", "/api/v1/me", nil, nil); st != 401 {
			t.Errorf("re-scoped user's old token: %d, want 401", st)
		}
		if st := f.call(t, "admin", "POST", "/api/v1/users/"+f.ids["zhang"]+"/password", map[string]any{"password": "brand-new-pass"}, nil); st != 204 {
			t.Fatalf("password: %d", st)
		}
		var tok auth.Tokens
		if st := f.call(t, "", "POST", "/api/v1/auth/login", map[string]string{"username": "zhang", "password": "brand-new-pass"}, &tok); st != 200 || tok.User.SubDistrict != "xichanganjie" {
			t.Errorf("login with the new password: %d %+v", st, tok.User)
		}
	})
	t.Run("bad changes", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			body map[string]any
			want int
		}{
			{"empty", map[string]any{}, 400},
			{"unknown field", map[string]any{"superuser": true}, 400},
			{"bad role", map[string]any{"role": "boss"}, 400},
			{"resident role for staff", map[string]any{"role": "resident"}, 400},
		} {
			if st := f.call(t, "admin", "PATCH", "/api/v1/users/"+f.ids["zhang"], tt.body, nil); st != tt.want {
				t.Errorf("%s: %d, want %d", tt.name, st, tt.want)
			}
		}
		if st := f.call(t, "admin", "PATCH", "/api/v1/users/"+f.ids["admin"], map[string]any{"disabled": true}, nil); st != 409 {
			t.Errorf("admin disabling themselves: %d, want 409", st)
		}
		if st := f.call(t, "admin", "PATCH", "/api/v1/users/no-such-user", map[string]any{"disabled": true}, nil); st != 404 {
			t.Errorf("unknown user: %d, want 404", st)
		}
	})
}
