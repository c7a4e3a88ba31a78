// Package mediatest starts a real S3 server for tests of code that keeps
// photos in S3: Versity Gateway over a temp dir on a free loopback port.
package mediatest

import (
	"bytes"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// VersityGWInstall is how to get the gateway.
const VersityGWInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// S3 is where a started gateway listens and how to sign in to it.
type S3 struct {
	Endpoint, AccessKey, SecretKey, Region string
}

// StartVersityGW runs a gateway for the duration of the test. Without the
// binary the test is skipped on a developer's machine but fails in CI
// (CI=true), so S3 code is never silently untested there.
func StartVersityGW(t *testing.T) S3 {
	t.Helper()
	bin := findVersityGW()
	if bin == "" {
		msg := "versitygw not found on PATH or in $(go env GOPATH)/bin; install it with: " + VersityGWInstall
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	const access, secret = "minsheng-test", "minsheng-test-secret"
	root := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	var out lockedBuffer
	cmd := exec.Command(bin, "--access", access, "--secret", secret, "--port", addr, "--quiet", "posix", root)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("versitygw output:\n%s", out.String())
		}
	})
	// Any HTTP answer, even 403 to an unsigned request, means it is up.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("versitygw exited before answering: %v\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not answer on %s within 30s: %v\n%s", addr, err, out.String())
		}
	}
	return S3{Endpoint: addr, AccessKey: access, SecretKey: secret, Region: "us-east-1"}
}

func findVersityGW() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, dir := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(dir, "bin"))
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, "versitygw")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
