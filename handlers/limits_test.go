package handlers_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"minsheng/handlers"
)

// logBuffer collects the JSON log lines of a test server.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// accessLine returns the access log line of request id rid, if any.
func (b *logBuffer) accessLine(rid string) map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, line := range strings.Split(b.buf.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "http" && m["request_id"] == rid {
			return m
		}
	}
	return nil
}

// rawRequest writes head (request line and headers, without the final
// blank line) and body to a fresh connection and reads the answer.
func rawRequest(t *testing.T, addr, head string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() { _, _ = io.WriteString(conn, head+"\r\n\r\n") }()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// TestRequestLimitsRealServer: oversized request lines and headers get the
// error shape with a request id, appear in the access log and metrics,
// and what a real client sends (a 5 KB cookie, a long query) is served.
func TestRequestLimitsRealServer(t *testing.T) {
	logs := &logBuffer{}
	a := newTestAppWith(t, handlers.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil)), MetricsToken: testMetricsToken})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.app.Listener(ln) }()
	t.Cleanup(func() { _ = a.app.Shutdown() })
	addr := ln.Addr().String()

	t.Run("served", func(t *testing.T) {
		tests := []struct{ name, head string }{
			{"5 KB cookie", "GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: c=" + strings.Repeat("a", 5<<10)},
			{"8 KB header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + strings.Repeat("a", 8<<10)},
			// /cases/similar's longest text: 2,050 characters, 9 bytes each URL-encoded.
			{"18 KB query", "GET /healthz?text=" + strings.Repeat("%E6%B0%91", 2050) + " HTTP/1.1\r\nHost: x"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if resp, body := rawRequest(t, addr, tt.head); resp.StatusCode != 200 {
					t.Errorf("status %d: %s, want 200", resp.StatusCode, body)
				}
			})
		}
	})
	t.Run("refused", func(t *testing.T) {
		tests := []struct {
			name, head string
			status     int
			code       string
		}{
			{"URI over 24 KB", "GET /healthz?q=" + strings.Repeat("a", 25<<10) + " HTTP/1.1\r\nHost: x", 414, "uri_too_long"},
			{"headers over 32 KB", "GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: c=" + strings.Repeat("a", 33<<10), 431, "headers_too_large"},
			{"body over the limit", fmt.Sprintf("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d", handlers.BodyLimit+10), 413, "too_large"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp, body := rawRequest(t, addr, tt.head)
				var e apiError
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatalf("body %q: %v", body, err)
				}
				if resp.StatusCode != tt.status || e.Error.Code != tt.code || e.Error.Message == "" {
					t.Errorf("got %d %+v, want %d %s", resp.StatusCode, e.Error, tt.status, tt.code)
				}
				rid := e.Error.RequestID
				if rid == "" || resp.Header.Get("X-Request-Id") != rid {
					t.Errorf("request id %q in body, %q in header; want one id in both", rid, resp.Header.Get("X-Request-Id"))
				}
				if line := logs.accessLine(rid); line == nil || line["status"] != float64(tt.status) {
					t.Errorf("access log line of %s = %v, want status %d", rid, line, tt.status)
				}
			})
		}
	})
	t.Run("panic is logged and counted", func(t *testing.T) {
		resp, body := rawRequest(t, addr, "GET /api/v1/test/panic HTTP/1.1\r\nHost: x")
		var e apiError
		_ = json.Unmarshal(body, &e)
		if resp.StatusCode != 500 || e.Error.Code != "internal" {
			t.Fatalf("got %d %s, want 500 internal", resp.StatusCode, body)
		}
		if line := logs.accessLine(e.Error.RequestID); line == nil || line["status"] != float64(500) || line["route"] != "/api/v1/test/panic" {
			t.Errorf("access log line = %v, want status 500 on /api/v1/test/panic", line)
		}
		_, metrics := rawRequest(t, addr, "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+testMetricsToken)
		for _, want := range []string{
			`minsheng_http_requests_total{method="GET",route="/api/v1/test/panic",status="500"} 1`,
			`minsheng_http_requests_total{method="GET",route="unparsed",status="431"} 1`,
		} {
			if !strings.Contains(string(metrics), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}
