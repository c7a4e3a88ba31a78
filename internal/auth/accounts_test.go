package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"minsheng"
	"minsheng/internal/auth"
	"minsheng/internal/org"
)

// otherInstance is a second server process on the same database: its own
// revocation copy, the same clock and key.
func otherInstance(t *testing.T, e env) *auth.Service {
	t.Helper()
	svc, err := auth.NewService(e.st, org.Xicheng(), e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func ptr[T any](v T) *T { return &v }

func TestDisableEndsSessionsOnEveryInstance(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	other := otherInstance(t, e)
	admin := mustUser(t, e, auth.NewUser{Username: "admin", Password: "admin-password", Role: auth.RoleAdmin})
	wang := mustUser(t, e, auth.NewUser{Username: "wang", Password: "correct-horse", Role: auth.RoleCadre, Scope: "jinrongjie-fengsheng"})
	tok, err := e.svc.Login(ctx, "wang", "correct-horse", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	// The other instance has seen (and cached) the token as valid.
	if _, err := other.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatalf("before: %v", err)
	}
	if _, err := e.svc.UpdateUser(ctx, admin.Principal(), wang.ID, auth.UserUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatalf("disable: %v", err)
	}
	t.Run("this instance refuses the access token at once", func(t *testing.T) {
		_, err := e.svc.Authenticate(ctx, tok.AccessToken)
		wantCode(t, err, minsheng.EUNAUTHORIZED)
	})
	t.Run("another instance refuses it after its refresh interval", func(t *testing.T) {
		e.clock.Advance(e.cfg.RevocationRefresh + time.Second)
		_, err := other.Authenticate(ctx, tok.AccessToken)
		wantCode(t, err, minsheng.EUNAUTHORIZED)
	})
	t.Run("refresh token revoked", func(t *testing.T) {
		_, err := other.Refresh(ctx, tok.RefreshToken)
		if code := minsheng.ErrorCode(err); code != minsheng.EUNAUTHORIZED && code != minsheng.EFORBIDDEN {
			t.Fatalf("refresh: code %q (%v), want unauthorized or forbidden", code, err)
		}
	})
	t.Run("sign-in refused", func(t *testing.T) {
		_, err := e.svc.Login(ctx, "wang", "correct-horse", "10.0.0.1")
		wantCode(t, err, minsheng.EFORBIDDEN)
	})
	t.Run("enabled again: old token stays void, a new sign-in works", func(t *testing.T) {
		if _, err := other.UpdateUser(ctx, admin.Principal(), wang.ID, auth.UserUpdate{Disabled: ptr(false)}); err != nil {
			t.Fatalf("enable: %v", err)
		}
		e.clock.Advance(e.cfg.RevocationRefresh + time.Second)
		_, err := e.svc.Authenticate(ctx, tok.AccessToken)
		wantCode(t, err, minsheng.EUNAUTHORIZED)
		fresh, err := e.svc.Login(ctx, "wang", "correct-horse", "10.0.0.1")
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		for name, svc := range map[string]*auth.Service{"this": e.svc, "other": other} {
			if _, err := svc.Authenticate(ctx, fresh.AccessToken); err != nil {
				t.Errorf("%s instance: new token refused: %v", name, err)
			}
		}
	})
	t.Run("revocation ends with the access token lifetime", func(t *testing.T) {
		// Old tokens have expired by then, so the entry is no longer needed.
		e.clock.Advance(e.cfg.AccessTTL + 2*time.Minute)
		fresh, err := e.svc.Login(ctx, "wang", "correct-horse", "10.0.0.2")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Authenticate(ctx, fresh.AccessToken); err != nil {
			t.Errorf("new token refused after the revocation expired: %v", err)
		}
		_, err = other.Authenticate(ctx, tok.AccessToken)
		wantCode(t, err, minsheng.EUNAUTHORIZED) // expired
	})
}

func TestRescopeAndPassword(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	admin := mustUser(t, e, auth.NewUser{Username: "admin", Password: "admin-password", Role: auth.RoleAdmin})
	li := mustUser(t, e, auth.NewUser{Username: "lisi", Password: "correct-horse", Role: auth.RoleCadre, Scope: "jinrongjie-fengsheng"})
	tok, err := e.svc.Login(ctx, "lisi", "correct-horse", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("new community", func(t *testing.T) {
		u, err := e.svc.UpdateUser(ctx, admin.Principal(), li.ID, auth.UserUpdate{Scope: ptr("xichanganjie-liubukou")})
		if err != nil {
			t.Fatal(err)
		}
		if u.Community != "xichanganjie-liubukou" || u.SubDistrict != "xichanganjie" {
			t.Errorf("scope = %s/%s, want xichanganjie/xichanganjie-liubukou", u.SubDistrict, u.Community)
		}
		_, err = e.svc.Authenticate(ctx, tok.AccessToken)
		wantCode(t, err, minsheng.EUNAUTHORIZED)
		_, err = e.svc.Refresh(ctx, tok.RefreshToken)
		wantCode(t, err, minsheng.EUNAUTHORIZED)
		fresh, err := e.svc.Login(ctx, "lisi", "correct-horse", "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.svc.Authenticate(ctx, fresh.AccessToken)
		if err != nil || p.Community != "xichanganjie-liubukou" {
			t.Errorf("new token: %+v, %v", p, err)
		}
		tok = fresh
	})
	t.Run("new role needs its scope", func(t *testing.T) {
		_, err := e.svc.UpdateUser(ctx, admin.Principal(), li.ID, auth.UserUpdate{Role: ptr(auth.RoleSubdistrict)})
		wantCode(t, err, minsheng.EINVALID)
		if got := minsheng.ErrorFields(err)["scope"]; got == "" {
			t.Errorf("fields = %v, want scope", minsheng.ErrorFields(err))
		}
		u, err := e.svc.UpdateUser(ctx, admin.Principal(), li.ID, auth.UserUpdate{Role: ptr(auth.RoleSubdistrict), Scope: ptr("jinrongjie")})
		if err != nil || u.Role != auth.RoleSubdistrict || u.SubDistrict != "jinrongjie" || u.Community != "" {
			t.Fatalf("re-role: %+v, %v", u, err)
		}
	})
	t.Run("a name change keeps sessions", func(t *testing.T) {
		fresh, err := e.svc.Login(ctx, "lisi", "correct-horse", "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.UpdateUser(ctx, admin.Principal(), li.ID, auth.UserUpdate{Name: ptr("李四")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, fresh.AccessToken); err != nil {
			t.Errorf("token after a name change: %v", err)
		}
		tok = fresh
	})
	t.Run("password reset", func(t *testing.T) {
		err := e.svc.SetPassword(ctx, admin.Principal(), li.ID, "short")
		wantCode(t, err, minsheng.EINVALID)
		if err := e.svc.SetPassword(ctx, admin.Principal(), li.ID, "new-password-1"); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Login(ctx, "lisi", "correct-horse", "10.0.0.3")
		wantCode(t, err, minsheng.EUNAUTHORIZED)
		if _, err := e.svc.Login(ctx, "lisi", "new-password-1", "10.0.0.3"); err != nil {
			t.Errorf("new password: %v", err)
		}
		_, err = e.svc.Authenticate(ctx, tok.AccessToken)
		wantCode(t, err, minsheng.EUNAUTHORIZED)
	})
	t.Run("only admins", func(t *testing.T) {
		_, err := e.svc.UpdateUser(ctx, li.Principal(), admin.ID, auth.UserUpdate{Disabled: ptr(true)})
		wantCode(t, err, minsheng.EFORBIDDEN)
		wantCode(t, e.svc.SetPassword(ctx, li.Principal(), admin.ID, "taken-over-1"), minsheng.EFORBIDDEN)
		_, _, err = e.svc.FindUsers(ctx, li.Principal(), auth.UserFilter{})
		wantCode(t, err, minsheng.EFORBIDDEN)
	})
	t.Run("an admin cannot lock themselves or the last admin out", func(t *testing.T) {
		_, err := e.svc.UpdateUser(ctx, admin.Principal(), admin.ID, auth.UserUpdate{Disabled: ptr(true)})
		wantCode(t, err, minsheng.ECONFLICT)
		_, err = e.svc.UpdateUser(ctx, auth.System, admin.ID, auth.UserUpdate{Role: ptr(auth.RoleFinance)})
		wantCode(t, err, minsheng.ECONFLICT)
		second := mustUser(t, e, auth.NewUser{Username: "admin2", Password: "admin-password", Role: auth.RoleAdmin})
		if _, err := e.svc.UpdateUser(ctx, second.Principal(), admin.ID, auth.UserUpdate{Disabled: ptr(true)}); err != nil {
			t.Errorf("another admin disables the first: %v", err)
		}
	})
}

// TestConcurrentDisable: 8 simultaneous disables of one user whose other
// sessions exist, over 5 rounds with enables between; every old token ends,
// every refresh token is revoked, sign-in works again after enabling.
func TestConcurrentDisable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	admin := mustUser(t, e, auth.NewUser{Username: "admin", Password: "admin-password", Role: auth.RoleAdmin})
	zhou := mustUser(t, e, auth.NewUser{Username: "zhou", Password: "correct-horse", Role: auth.RoleFinance})
	for round := 1; round <= 5; round++ {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			var toks []auth.Tokens
			for i := 0; i < 3; i++ {
				tok, err := e.svc.Login(ctx, "zhou", "correct-horse", fmt.Sprintf("10.5.%d.%d", round, i))
				if err != nil {
					t.Fatal(err)
				}
				toks = append(toks, tok)
			}
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := e.svc.UpdateUser(ctx, admin.Principal(), zhou.ID, auth.UserUpdate{Disabled: ptr(true)}); err != nil {
						t.Errorf("disable: %v", err)
					}
				}()
			}
			wg.Wait()
			for _, tok := range toks {
				_, err := e.svc.Authenticate(ctx, tok.AccessToken)
				wantCode(t, err, minsheng.EUNAUTHORIZED)
				if _, err := e.svc.Refresh(ctx, tok.RefreshToken); err == nil {
					t.Errorf("refresh token still works")
				}
			}
			if _, err := e.svc.UpdateUser(ctx, admin.Principal(), zhou.ID, auth.UserUpdate{Disabled: ptr(false)}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFindUsersPaging(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	admin := mustUser(t, e, auth.NewUser{Username: "admin", Password: "admin-password", Role: auth.RoleAdmin})
	for i := 0; i < 6; i++ {
		mustUser(t, e, auth.NewUser{Username: fmt.Sprintf("cadre%d", i), Password: "correct-horse", Role: auth.RoleCadre, Scope: "jinrongjie-fengsheng"})
	}
	mustUser(t, e, auth.NewUser{Role: auth.RoleResident, Phone: "13800138000"})
	seen := map[string]bool{}
	f := auth.UserFilter{Limit: 3}
	pages := 0
	for {
		items, next, err := e.svc.FindUsers(ctx, admin.Principal(), f)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range items {
			if seen[u.ID] {
				t.Errorf("%s listed twice", u.ID)
			}
			seen[u.ID] = true
			if u.Phone != "" && u.Phone != "138****8000" {
				t.Errorf("phone shown as %q, want masked", u.Phone)
			}
		}
		if next == "" {
			break
		}
		f.Cursor = next
	}
	if got, want := len(seen), 8; got != want {
		t.Errorf("listed %d users, want %d", got, want)
	}
	if got, want := pages, 3; got != want {
		t.Errorf("pages = %d, want %d", got, want)
	}
	t.Run("role filter", func(t *testing.T) {
		items, _, err := e.svc.FindUsers(ctx, admin.Principal(), auth.UserFilter{Role: auth.RoleCadre, Limit: 100})
		if err != nil || len(items) != 6 {
			t.Errorf("cadres: %d, %v; want 6", len(items), err)
		}
	})
	t.Run("bad filter", func(t *testing.T) {
		_, _, err := e.svc.FindUsers(ctx, admin.Principal(), auth.UserFilter{Limit: 101, Cursor: "%%%"})
		wantCode(t, err, minsheng.EINVALID)
		if f := minsheng.ErrorFields(err); f["limit"] == "" || f["cursor"] == "" {
			t.Errorf("fields = %v, want limit and cursor", f)
		}
	})
}
