package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"minsheng/demo"
)

// startWith runs minsheng with args (serve …) until it answers /readyz.
func startWith(t *testing.T, env map[string]string, args ...string) server {
	t.Helper()
	addr := freeAddr(t)
	env["MINSHENG_ADDR"] = addr
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, envOf(env), out, errOut) }()
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("server exited early: %v\n%s\n%s", err, out, errOut)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server not ready\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return server{base: base, out: out, errOut: errOut, stop: stop}
}

func demoHeader(t *testing.T, method, url, body string) string {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("X-Minsheng-Demo")
}

// TestDemoCommands is the README's first command on a small demo: seed it,
// refuse a second seed, serve it marked as demo, sign in as staff and as the
// demo resident, and refuse --demo on a store with real cases.
func TestDemoCommands(t *testing.T) {
	data := filepath.Join(shortTempDir(t), "data")
	env := map[string]string{"MINSHENG_DATA": data}
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"seed", "--demo", "--sub-districts", "1", "--cases", "40"}, envOf(env), &out, &errOut); err != nil {
		t.Fatalf("seed --demo: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"jinrongjie-fengsheng", demo.Password, demo.ResidentPhone, demo.ResidentCode, "finance"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("seed --demo output lacks %q:\n%s", want, out.String())
		}
	}
	t.Run("second seed refuses", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := run(ctx, []string{"seed", "--demo"}, envOf(env), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "已有演示数据") {
			t.Errorf("second seed --demo: got %v, want a refusal", err)
		}
	})
	t.Run("check is clean", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if err := run(ctx, []string{"check"}, envOf(env), &out, &errOut); err != nil || !strings.Contains(out.String(), "ledger consistent") {
			t.Errorf("check: %v\n%s", err, out.String())
		}
	})

	srv := startWith(t, env, "serve", "--demo")
	t.Run("accounts printed at start", func(t *testing.T) {
		if !strings.Contains(srv.errOut.String(), "found (seeded before)") || !strings.Contains(srv.errOut.String(), demo.Password) {
			t.Errorf("start output:\n%s", srv.errOut.String())
		}
	})
	t.Run("every response is marked", func(t *testing.T) {
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/healthz", ""}, {"GET", "/nothing-here", ""}, {"POST", "/api/v1/auth/login", `{"username":"x","password":"wrong-one"}`},
		} {
			if got := demoHeader(t, r.method, srv.base+r.path, r.body); got != "1" {
				t.Errorf("%s %s: X-Minsheng-Demo = %q, want 1", r.method, r.path, got)
			}
		}
	})
	t.Run("staff sees its sub-district", func(t *testing.T) {
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if code := postJSON(t, srv.base+"/api/v1/auth/login", "", map[string]string{"username": "jinrongjie", "password": demo.Password}, &tok); code != 200 {
			t.Fatalf("login: %d", code)
		}
		var page struct {
			Items []struct {
				Location struct {
					SubDistrict string `json:"sub_district"`
				} `json:"location"`
			} `json:"items"`
		}
		if code := getJSON(t, srv.base+"/api/v1/cases?limit=100", tok.AccessToken, &page); code != 200 || len(page.Items) == 0 {
			t.Fatalf("cases: %d, %d items", code, len(page.Items))
		}
		for _, c := range page.Items {
			if c.Location.SubDistrict != "jinrongjie" {
				t.Errorf("jinrongjie staff sees a case of %s", c.Location.SubDistrict)
			}
		}
	})
	t.Run("demo resident signs in with the fixed code", func(t *testing.T) {
		if code := postJSON(t, srv.base+"/api/v1/auth/otp", "", map[string]string{"phone": demo.ResidentPhone}, nil); code >= 300 {
			t.Fatalf("otp: %d", code)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if code := postJSON(t, srv.base+"/api/v1/auth/otp/verify", "", map[string]string{"phone": demo.ResidentPhone, "code": demo.ResidentCode}, &tok); code != 200 {
			t.Fatalf("verify: %d", code)
		}
		var page struct {
			Items []any `json:"items"`
		}
		if code := getJSON(t, srv.base+"/api/v1/cases", tok.AccessToken, &page); code != 200 || len(page.Items) < 3 {
			t.Errorf("resident's cases: %d, %d items, want their own few", code, len(page.Items))
		}
	})
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	t.Run("plain serve is not marked", func(t *testing.T) {
		srv := startWith(t, env, "serve")
		if got := demoHeader(t, "GET", srv.base+"/healthz", ""); got != "" {
			t.Errorf("X-Minsheng-Demo = %q without --demo", got)
		}
		// Outside demo mode the fixed code is just a wrong code.
		postJSON(t, srv.base+"/api/v1/auth/otp", "", map[string]string{"phone": demo.ResidentPhone}, nil)
		if code := postJSON(t, srv.base+"/api/v1/auth/otp/verify", "", map[string]string{"phone": demo.ResidentPhone, "code": demo.ResidentCode}, nil); code != 401 {
			t.Errorf("fixed code without --demo: %d, want 401", code)
		}
	})

	t.Run("--demo refuses a store with real cases", func(t *testing.T) {
		realEnv := map[string]string{"MINSHENG_DATA": filepath.Join(shortTempDir(t), "data")}
		srv := startWith(t, realEnv, "serve")
		if code := postJSON(t, srv.base+"/api/v1/cases", "", map[string]any{"area": "CG", "title": "路灯不亮", "description": "胡同路灯坏了",
			"community": "xinjiekou-xilierqu", "address": "西里二区1号"}, nil); code != 201 && code != 200 {
			t.Fatalf("file a case: %d", code)
		}
		if err := srv.stop(); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		err := run(ctx, []string{"serve", "--demo"}, envOf(realEnv), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "只能写入空库") {
			t.Errorf("serve --demo on real data: got %v, want a refusal", err)
		}
		if err := run(ctx, []string{"seed", "--demo"}, envOf(realEnv), &out, &errOut); err == nil {
			t.Error("seed --demo on real data succeeded")
		}
	})
}
