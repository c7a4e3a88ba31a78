// Package e2e drives the real minsheng binary as a separate process: it
// builds it once, starts it on a loopback port with a fresh data directory,
// sends it HTTP traffic and kills it with SIGKILL in the middle of that
// traffic, then restarts it and checks over the API that no money and no
// case was lost or counted twice.
//
// The binary is built without -race even when the suite runs under
// `go test -race`: the race detector watches the test process, and the
// server's own concurrency is covered by the unit tests of its packages.
// What these tests add is the crash: a process that dies between two
// writes, with no deferred function or shutdown hook running.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	adminPassword = "e2e-admin-password-1"
	// jwtSecret is fixed so access tokens issued before a crash are still
	// accepted after the restart, as they are in production.
	jwtSecret = "e2e-jwt-secret-0123456789abcdef0123456789"
)

var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// goTool is the go command that runs these tests.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// binary builds minsheng once per test process (no -race, see the package
// comment) and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "msbin")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "minsheng")
		cmd := exec.Command(goTool(), "build", "-o", binPath, "minsheng/cmd/minsheng")
		cmd.Dir = ".." // the module root; tests run in their package directory
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// syncBuffer collects the server's output, written by exec's copier.
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
func (s *syncBuffer) Len() int       { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Len() }

// server is one data directory served by successive processes.
type server struct {
	t    *testing.T
	bin  string
	data string
	base string // http://127.0.0.1:port of the running process
	out  *syncBuffer
	// starts holds the offset in out where each process's output begins.
	starts []int

	cmd  *exec.Cmd
	done chan struct{}
}

func newServer(t *testing.T) *server {
	t.Helper()
	bin := binary(t)
	// Short: the embedded database listens on a Unix socket inside it.
	data, err := os.MkdirTemp("", "mse")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, bin: bin, data: data, out: &syncBuffer{}}
	t.Cleanup(func() {
		s.killQuietly()
		os.RemoveAll(data)
		if t.Failed() {
			t.Logf("server output (last 6 kB):\n%s", tail(s.out.String(), 6000))
		}
	})
	return s
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// env is the server's environment: the caller's, without any minsheng,
// MongoDB or S3 setting that would send it elsewhere, plus ours.
func (s *server) env(addr string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MINSHENG_") || strings.HasPrefix(kv, "MONGODB_") || strings.HasPrefix(kv, "S3_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"MINSHENG_ADDR="+addr,
		"MINSHENG_DATA="+s.data,
		"MINSHENG_ADMIN_PASSWORD="+adminPassword,
		"MINSHENG_JWT_SECRET="+jwtSecret,
		"MINSHENG_LOG_LEVEL=info",
	)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs `minsheng serve` and waits until /readyz answers 200.
func (s *server) start() {
	t := s.t
	t.Helper()
	if s.cmd != nil {
		t.Fatal("server already running")
	}
	addr := freeAddr(t)
	s.starts = append(s.starts, s.out.Len())
	cmd := exec.Command(s.bin, "serve")
	cmd.Env = s.env(addr)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done, s.base = cmd, done, "http://"+addr

	began := time.Now()
	c := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(90 * time.Second); ; {
		resp, err := c.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Logf("server ready in %s", time.Since(began).Round(time.Millisecond))
				return
			}
		}
		select {
		case <-done:
			s.cmd = nil
			t.Fatalf("server exited during start: %v", cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready after 90 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill is the fault: SIGKILL, no shutdown of any kind.
func (s *server) kill() {
	s.t.Helper()
	if s.cmd == nil {
		s.t.Fatal("server not running")
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	s.wait(30 * time.Second)
}

// stop is a clean shutdown (SIGTERM), which must finish by itself.
// Callers close their idle keep-alive connections first (client.reset):
// the server's shutdown sometimes waits for an idle connection until its
// 30 s read timeout instead of closing it, which would only slow the test.
func (s *server) stop() {
	s.t.Helper()
	if s.cmd == nil {
		return
	}
	began := time.Now()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	state := s.wait(60 * time.Second)
	s.t.Logf("server stopped in %s", time.Since(began).Round(time.Millisecond))
	if !state.Success() {
		s.t.Errorf("server did not exit cleanly after SIGTERM: %v", state)
	}
}

func (s *server) wait(d time.Duration) *os.ProcessState {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(d):
		_ = s.cmd.Process.Kill()
		<-s.done
		s.t.Errorf("server did not exit within %s; killed", d)
	}
	state := s.cmd.ProcessState
	s.cmd = nil
	return state
}

func (s *server) killQuietly() {
	if s.cmd != nil {
		_ = s.cmd.Process.Kill()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
		}
		s.cmd = nil
	}
}

// lastStartLog is the output of the most recent process.
func (s *server) lastStartLog() string {
	all := s.out.String()
	return all[s.starts[len(s.starts)-1]:]
}

// startCheck returns the fields of the "ledger check" the last process
// logged at start (fixes and problems), nil when none was logged.
func (s *server) startCheck() map[string]any {
	sc := bufio.NewScanner(strings.NewReader(s.lastStartLog()))
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "ledger check" {
			return rec
		}
	}
	return nil
}

// runCheck runs `minsheng check --data <dir>` on the stopped server's data.
func (s *server) runCheck() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, "check", "--data", s.data)
	cmd.Env = s.env("127.0.0.1:0")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// client talks to the running server. Its methods are safe from any
// goroutine; only the must* ones call t.Fatal and belong to the test's.
type client struct {
	s  *server
	hc *http.Client
}

func newClient(s *server) *client {
	return &client{s: s, hc: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
}

// reset drops connections to a dead process.
func (c *client) reset() { c.hc.CloseIdleConnections() }

// do sends one request; err is a transport failure (refused, reset,
// timeout), never an HTTP status.
func (c *client) do(method, path, token string, hdr map[string]string, body, out any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.s.base+"/api/v1"+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, data, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, data, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, data, nil
}

func (c *client) must(t *testing.T, method, path, token string, hdr map[string]string, body, out any, want int) {
	t.Helper()
	code, data, err := c.do(method, path, token, hdr, body, out)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if code != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, data)
	}
}

func (c *client) login(t *testing.T, user, pw string) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	c.must(t, "POST", "/auth/login", "", nil, map[string]string{"username": user, "password": pw}, &tok, 200)
	return tok.AccessToken
}

// tokens of the accounts every scenario uses.
type tokens struct{ admin, finance, street, cadre string }

func setupUsers(t *testing.T, c *client) tokens {
	t.Helper()
	var tk tokens
	tk.admin = c.login(t, "admin", adminPassword)
	users := []map[string]string{
		{"username": "fin1", "password": "finance-pass-1", "name": "财政", "role": "finance"},
		{"username": "jrj1", "password": "street-pass-1", "name": "街道", "role": "subdistrict", "scope": "jinrongjie"},
		{"username": "fs1", "password": "cadre-pass-1", "name": "社区", "role": "cadre", "scope": "jinrongjie-fengsheng"},
	}
	for _, u := range users {
		c.must(t, "POST", "/users", tk.admin, nil, u, nil, 201)
	}
	tk.finance = c.login(t, "fin1", "finance-pass-1")
	tk.street = c.login(t, "jrj1", "street-pass-1")
	tk.cadre = c.login(t, "fs1", "cadre-pass-1")
	return tk
}

func caseBody(i int) map[string]any {
	return map[string]any{
		"area": "SQ", "title": fmt.Sprintf("丰盛胡同%d号院旱厕改造", i+1),
		"description": fmt.Sprintf("丰盛社区%d号院旱厕地面不平，需要人工清掏，老人如厕不便", i+1),
		"community":   "jinrongjie-fengsheng", "address": fmt.Sprintf("丰盛胡同%d号院", i+1),
		"households": 6 + i%10, "contact_name": "张大爷", "contact_phone": "13800001111",
	}
}

// killSwitch fires once, after n successes or when told to.
type killSwitch struct {
	mu   sync.Mutex
	n    int
	once sync.Once
	ch   chan struct{}
}

func newKillSwitch(n int) *killSwitch { return &killSwitch{n: n, ch: make(chan struct{})} }

func (k *killSwitch) success() {
	k.mu.Lock()
	k.n--
	fire := k.n <= 0
	k.mu.Unlock()
	if fire {
		k.fire()
	}
}

func (k *killSwitch) fire() { k.once.Do(func() { close(k.ch) }) }

// parallel runs f(i) for i in [0, n) on workers goroutines.
func parallel(n, workers int, f func(i int)) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				f(i)
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// retry calls f until it returns without a transport error or a 5xx, at
// most tries times: what a client does after a failure.
func retry(t *testing.T, tries int, f func() (int, []byte, error)) (int, []byte, error) {
	var (
		code int
		body []byte
		err  error
	)
	for range tries {
		code, body, err = f()
		if err == nil && code < 500 {
			return code, body, nil
		}
		t.Logf("retrying after %d %v", code, err)
		time.Sleep(100 * time.Millisecond)
	}
	if err == nil {
		err = errors.New("server error")
	}
	return code, body, err
}
