package handlers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"minsheng/handlers"
	"minsheng/internal/auth"
)

// TestMetricsAccess: /metrics (route labels, runtime statistics) is not
// for anyone who asks. Without MINSHENG_METRICS_TOKEN the main address
// answers 404; with it, only that bearer token reads them (not a user's
// access token); MINSHENG_METRICS_ADDR serves them alone, without a token.
func TestMetricsAccess(t *testing.T) {
	get := func(a testApp, header string) int {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := a.app.Test(req, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	t.Run("no token configured: 404", func(t *testing.T) {
		a := newTestApp(t)
		if got := get(a, ""); got != http.StatusNotFound {
			t.Errorf("anonymous: %d, want 404", got)
		}
		if got := get(a, "Bearer "+testMetricsToken); got == http.StatusOK {
			t.Errorf("with a token nobody configured: %d, want refused", got)
		}
	})
	t.Run("token configured", func(t *testing.T) {
		a := newTestAppWith(t, handlers.Config{MetricsToken: testMetricsToken})
		a.user(t, auth.NewUser{Username: "admin2", Password: "password-admin2", Role: auth.RoleAdmin})
		tokens, err := a.auth.Login(t.Context(), "admin2", "password-admin2", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name, header string
			want         int
		}{
			{"anonymous", "", http.StatusUnauthorized},
			{"wrong token", "Bearer " + testMetricsToken + "x", http.StatusUnauthorized},
			{"not bearer", "Basic " + testMetricsToken, http.StatusUnauthorized},
			{"an admin's access token", "Bearer " + tokens.AccessToken, http.StatusUnauthorized},
			{"the metrics token", "Bearer " + testMetricsToken, http.StatusOK},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if got := get(a, tt.header); got != tt.want {
					t.Errorf("status %d, want %d", got, tt.want)
				}
			})
		}
	})
	t.Run("separate address", func(t *testing.T) {
		reg := handlers.NewRegistry()
		a := newTestAppWith(t, handlers.Config{Registry: reg})
		a.do(t, "GET", "/api/v1/org", "", nil, nil)
		srv := httptest.NewServer(handlers.MetricsHandler(reg))
		t.Cleanup(srv.Close)
		res, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `route="/api/v1/org"`) {
			t.Errorf("metrics address: %d, want 200 with the main app's requests", res.StatusCode)
		}
		res, err = http.Get(srv.URL + "/api/v1/org")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("the API on the metrics address: %d, want 404", res.StatusCode)
		}
		if got := get(a, ""); got != http.StatusNotFound {
			t.Errorf("main address without a token: %d, want 404", got)
		}
	})
}
