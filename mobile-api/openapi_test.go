package mobileapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes checks /mobile/v1/openapi.json against the
// routes the server really has: every route documented, every documented
// route served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	f := newFixture(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if st := f.call(t, "", "GET", "/mobile/v1/openapi.json", nil, &doc); st != http.StatusOK {
		t.Fatalf("openapi.json: status %d", st)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" /mobile/v1"+path] = true
		}
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	served := map[string]bool{}
	for _, r := range f.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/mobile/v1/") || r.Method == "HEAD" || r.Method == "USE" {
			continue
		}
		served[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	var missing, extra []string
	for r := range served {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !served[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes without documentation: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("documented routes the server lacks: %v", extra)
	}
	if len(served) < 15 {
		t.Errorf("found %d mobile routes, want the whole API (≥ 15)", len(served))
	}
}
