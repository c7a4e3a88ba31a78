package media

import (
	"bytes"
	"context"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"minsheng"
)

const versitygwInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

func TestS3(t *testing.T) {
	cfg := startVersityGW(t)
	ctx := context.Background()
	s, err := NewS3(ctx, cfg)
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	testStorage(t, storageHarness{s: s, fetch: httpGet})

	t.Run("bucket already there", func(t *testing.T) {
		// A second instance starting against the same bucket.
		if _, err := NewS3(ctx, cfg); err != nil {
			t.Fatalf("NewS3: %v", err)
		}
	})

	t.Run("expired URL", func(t *testing.T) {
		key := "cases/s3/expiring.jpg"
		if err := s.Save(ctx, key, strings.NewReader("x"), 1, ""); err != nil {
			t.Fatalf("Save: %v", err)
		}
		u, err := s.URL(ctx, key, time.Second)
		if err != nil {
			t.Fatalf("URL: %v", err)
		}
		time.Sleep(2100 * time.Millisecond)
		if status, _ := httpGet(t, u); status != http.StatusForbidden {
			t.Errorf("GET expired URL: status %d, want 403", status)
		}
	})

	t.Run("presigned PUT", func(t *testing.T) {
		put := func(t *testing.T, u, ct, body string) int {
			t.Helper()
			req, err := http.NewRequest(http.MethodPut, u, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", ct)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		key := "uploads/s3/direct.jpg"
		u, h, err := s.PresignPut(ctx, key, TypeJPEG, time.Minute)
		if err != nil {
			t.Fatalf("PresignPut: %v", err)
		}
		if h["Content-Type"] != TypeJPEG {
			t.Errorf("headers %v, want Content-Type %s", h, TypeJPEG)
		}
		t.Run("another content type is refused by the store", func(t *testing.T) {
			if st := put(t, u, "text/html", "<script>"); st != http.StatusForbidden {
				t.Errorf("status %d, want 403", st)
			}
			if _, err := s.Stat(ctx, key); minsheng.ErrorCode(err) != minsheng.ENOTFOUND {
				t.Errorf("Stat after the refused PUT: %v, want not found", err)
			}
		})
		t.Run("the signed type is stored", func(t *testing.T) {
			if st := put(t, u, TypeJPEG, "jpeg bytes"); st != http.StatusOK {
				t.Fatalf("status %d, want 200", st)
			}
			info, err := s.Stat(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if info.Size != int64(len("jpeg bytes")) || info.ContentType != TypeJPEG {
				t.Errorf("got %+v, want 10 bytes of %s", info, TypeJPEG)
			}
		})
		t.Run("a type contradicting the key", func(t *testing.T) {
			if _, _, err := s.PresignPut(ctx, key, TypePNG, time.Minute); minsheng.ErrorCode(err) != minsheng.EINVALID {
				t.Errorf("got %v, want invalid", err)
			}
		})
	})

	t.Run("wrong credentials", func(t *testing.T) {
		bad := cfg
		bad.SecretKey = "not-the-secret"
		if _, err := NewS3(ctx, bad); err == nil {
			t.Error("NewS3 with a wrong secret: err = nil, want an error")
		} else if minsheng.ErrorCode(err) != minsheng.EINTERNAL {
			t.Errorf("code = %q, want %q", minsheng.ErrorCode(err), minsheng.EINTERNAL)
		}
	})
}

// startVersityGW runs a Versity S3 Gateway over a temp dir on a free
// loopback port for the duration of the test. Without the binary the test
// is skipped on a developer's machine but fails in CI, so the S3 backend
// is never silently untested there.
func startVersityGW(t *testing.T) S3Config {
	t.Helper()
	bin := findVersityGW()
	if bin == "" {
		msg := "versitygw not found on PATH or in $(go env GOPATH)/bin; install it with: " + versitygwInstall
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	const access, secret = "minsheng-test", "minsheng-test-secret"
	root := t.TempDir()
	addr := freeLoopbackAddr(t)
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
			exited <- err // for the cleanup
			t.Fatalf("versitygw exited before answering: %v\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not answer on %s within 30s: %v\n%s", addr, err, out.String())
		}
	}
	return S3Config{Endpoint: addr, AccessKey: access, SecretKey: secret, Bucket: "minsheng-test", Region: "us-east-1"}
}

func findVersityGW() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	// Where go install puts binaries: $GOBIN, else the first GOPATH entry's
	// bin ($GOPATH, or ~/go when unset).
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

// freeLoopbackAddr asks the kernel for a free port. Another process could
// take it before versitygw binds it; that shows up as versitygw exiting,
// which the caller reports with its output.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// lockedBuffer collects the gateway's output, written by exec's copying
// goroutines while the test may read it.
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
