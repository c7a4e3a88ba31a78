package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer collects output written by the server goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "msc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

type server struct {
	base   string
	out    *syncBuffer
	errOut *syncBuffer
	stop   func() error
}

func startServer(t *testing.T, env map[string]string) server {
	t.Helper()
	addr := freeAddr(t)
	env["MINSHENG_ADDR"] = addr
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, envOf(env), out, errOut) }()
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("server exited early: %v\n%s\n%s", err, out, errOut)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server not ready\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			t.Fatal("server did not stop")
		}
		return nil
	}
	t.Cleanup(func() { _ = stop() })
	return server{base: base, out: out, errOut: errOut, stop: stop}
}

func postJSON(t *testing.T, url, token string, body any, out any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		data, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(data, out)
	}
	return resp.StatusCode
}

func getJSON(t *testing.T, url, token string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		data, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(data, out)
	}
	return resp.StatusCode
}

// TestNewcomerPath is the README's promise: start with nothing but a data
// dir, get the org seeded, sign in as admin, read /me, stop cleanly.
func TestNewcomerPath(t *testing.T) {
	data := filepath.Join(shortTempDir(t), "data")
	srv := startServer(t, map[string]string{"MINSHENG_DATA": data})

	var tok struct {
		AccessToken string `json:"access_token"`
	}
	// No admin password configured: a random one is printed once.
	pw := ""
	for _, line := range strings.Split(srv.errOut.String(), "\n") {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "password: "); ok {
			pw = p
		}
	}
	if len(pw) != 16 {
		t.Fatalf("generated admin password not printed: %q", srv.errOut.String())
	}
	if code := postJSON(t, srv.base+"/api/v1/auth/login", "", map[string]string{"username": "admin", "password": pw}, &tok); code != 200 {
		t.Fatalf("login status %d", code)
	}
	var me map[string]any
	if code := getJSON(t, srv.base+"/api/v1/me", tok.AccessToken, &me); code != 200 || me["role"] != "admin" {
		t.Fatalf("me: %d %v", code, me)
	}
	var district struct {
		Name         string `json:"name"`
		SubDistricts []any  `json:"sub_districts"`
	}
	if code := getJSON(t, srv.base+"/api/v1/org", "", &district); code != 200 || len(district.SubDistricts) != 15 {
		t.Fatalf("org: %d %+v", code, district)
	}
	if strings.Contains(srv.out.String(), pw) {
		t.Error("admin password written to the log")
	}
	t.Run("health command", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"health", srv.base + "/readyz"}, envOf(nil), &out, &out); err != nil {
			t.Errorf("health: %v", err)
		}
		if err := run(context.Background(), []string{"health", srv.base + "/api/v1/nothing"}, envOf(nil), &out, &out); err == nil {
			// Under /api: any other path is the resident site's page.
			t.Error("health of a 404 succeeded")
		}
	})
	if err := srv.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if !strings.Contains(srv.out.String(), "store closed") {
		t.Error("store not closed on shutdown")
	}

	t.Run("files private", func(t *testing.T) {
		st, _ := os.Stat(data)
		if st.Mode().Perm() != 0o700 {
			t.Errorf("data dir mode %o", st.Mode().Perm())
		}
		st, err := os.Stat(filepath.Join(data, "jwt.secret"))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("jwt.secret: %v mode %v", err, st)
		}
	})

	t.Run("restart keeps data and tokens", func(t *testing.T) {
		srv2 := startServer(t, map[string]string{"MINSHENG_DATA": data})
		if strings.Contains(srv2.errOut.String(), "password:") {
			t.Error("admin recreated on restart")
		}
		if code := getJSON(t, srv2.base+"/api/v1/me", tok.AccessToken, nil); code != 200 {
			t.Errorf("token from before restart: %d", code)
		}
	})
}

func TestUsersAdd(t *testing.T) {
	data := filepath.Join(shortTempDir(t), "data")
	env := map[string]string{"MINSHENG_DATA": data, "MINSHENG_ADMIN_PASSWORD": "admin-password-1"}
	ctx := context.Background()
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"users", "add", "--username", "wang", "--role", "cadre", "--scope", "jinrongjie-fengsheng", "--password", "cadre-password"}, envOf(env), &out, &errOut)
	if err != nil {
		t.Fatalf("users add: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "community=jinrongjie-fengsheng") {
		t.Errorf("output %q", out.String())
	}
	t.Run("bad scope explained", func(t *testing.T) {
		err := run(ctx, []string{"users", "add", "--username", "li", "--role", "cadre", "--scope", "nowhere"}, envOf(env), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "--scope") {
			t.Errorf("err = %v, want a --scope message", err)
		}
	})
	srv := startServer(t, env)
	var tok struct {
		AccessToken string `json:"access_token"`
		User        struct {
			Community string `json:"community"`
		} `json:"user"`
	}
	if code := postJSON(t, srv.base+"/api/v1/auth/login", "", map[string]string{"username": "wang", "password": "cadre-password"}, &tok); code != 200 || tok.User.Community != "jinrongjie-fengsheng" {
		t.Fatalf("cadre login: %d %+v", code, tok)
	}
	if code := postJSON(t, srv.base+"/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "admin-password-1"}, nil); code != 200 {
		t.Fatalf("admin with configured password: %d", code)
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"frobnicate"}, envOf(nil), &out, &errOut); err == nil {
		t.Error("unknown command accepted")
	}
	if err := run(context.Background(), []string{"help"}, envOf(nil), &out, &errOut); err != nil || !strings.Contains(out.String(), "MONGODB_URI") {
		t.Errorf("help: %v %q", err, out.String())
	}
}
