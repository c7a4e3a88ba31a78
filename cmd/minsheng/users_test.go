package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsersCommands(t *testing.T) {
	data := filepath.Join(shortTempDir(t), "data")
	env := map[string]string{"MINSHENG_DATA": data, "MINSHENG_ADMIN_PASSWORD": "admin-password-1"}
	ctx := context.Background()
	users := func(t *testing.T, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(ctx, append([]string{"users"}, args...), envOf(env), &out, &errOut); err != nil {
			t.Fatalf("users %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	users(t, "add", "--username", "wang", "--role", "cadre", "--scope", "jinrongjie-fengsheng", "--password", "cadre-password")
	login := func(t *testing.T, base, password string, out any) int {
		t.Helper()
		return postJSON(t, base+"/api/v1/auth/login", "", map[string]string{"username": "wang", "password": password}, out)
	}

	t.Run("disable", func(t *testing.T) {
		if out := users(t, "disable", "wang"); !strings.Contains(out, "disabled=true") {
			t.Errorf("output %q", out)
		}
		srv := startServer(t, env)
		if code := login(t, srv.base, "cadre-password", nil); code != 403 {
			t.Errorf("login of a disabled account: %d, want 403", code)
		}
		if err := srv.stop(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("enable, new password, new community", func(t *testing.T) {
		users(t, "enable", "wang")
		out := users(t, "passwd", "wang")
		_, pw, ok := strings.Cut(out, "password: ")
		pw, _, _ = strings.Cut(pw, " ")
		if !ok || len(pw) != 16 {
			t.Fatalf("passwd output %q, want a generated password", out)
		}
		if out := users(t, "scope", "wang", "--scope", "xichanganjie-liubukou"); !strings.Contains(out, "community=xichanganjie-liubukou") {
			t.Errorf("scope output %q", out)
		}
		srv := startServer(t, env)
		if code := login(t, srv.base, "cadre-password", nil); code != 401 {
			t.Errorf("old password: %d, want 401", code)
		}
		var tok struct {
			User struct {
				Community string `json:"community"`
			} `json:"user"`
		}
		if code := login(t, srv.base, pw, &tok); code != 200 || tok.User.Community != "xichanganjie-liubukou" {
			t.Errorf("new password: %d %+v", code, tok)
		}
		if err := srv.stop(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("list", func(t *testing.T) {
		out := users(t, "list", "--role", "cadre")
		if !strings.Contains(out, "\twang\tcadre\txichanganjie\txichanganjie-liubukou\tenabled") || strings.Contains(out, "admin") {
			t.Errorf("list output %q", out)
		}
	})
	t.Run("errors explained", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := run(ctx, []string{"users", "scope", "wang", "--role", "subdistrict"}, envOf(env), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "--scope") {
			t.Errorf("err = %v, want a --scope message", err)
		}
		err = run(ctx, []string{"users", "disable", "nobody"}, envOf(env), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "nobody") {
			t.Errorf("err = %v, want it to name the account", err)
		}
		err = run(ctx, []string{"users", "disable", "admin"}, envOf(env), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "管理员") {
			t.Errorf("disabling the last admin: err = %v", err)
		}
	})
}
