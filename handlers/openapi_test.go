package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"minsheng/internal/auth"
)

// apiDoc is the part of /api/v1/openapi.json the checks read.
type apiDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

// apiOperation is one operation of the document.
type apiOperation struct {
	Summary    string `json:"summary"`
	Parameters []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
}

// operations lists the document's operations as "METHOD /path".
func (d apiDoc) operations(t *testing.T) map[string]apiOperation {
	t.Helper()
	ops := map[string]apiOperation{}
	for path, methods := range d.Paths {
		for method, raw := range methods {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			var op apiOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			ops[strings.ToUpper(method)+" "+path] = op
		}
	}
	return ops
}

// servedAPIRoutes lists what the app serves under /api/v1 plus /healthz and
// /readyz, as "METHOD /path" with Fiber's :param (and the media route's *,
// named key) written as OpenAPI's {param}.
func servedAPIRoutes(f *fixture) map[string]bool {
	param := regexp.MustCompile(`:([A-Za-z_]+)`)
	served := map[string]bool{}
	for _, r := range f.app.GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "USE" {
			continue
		}
		if !strings.HasPrefix(r.Path, "/api/v1/") && r.Path != "/healthz" && r.Path != "/readyz" {
			continue
		}
		p := param.ReplaceAllString(r.Path, "{$1}")
		p = strings.Replace(p, "/*", "/{key}", 1)
		served[r.Method+" "+p] = true
	}
	return served
}

// TestAPIOpenAPI checks handlers/openapi.json, served at
// GET /api/v1/openapi.json, against the routes the server really has, both
// ways, as mobile-api's TestOpenAPIMatchesRoutes does for /mobile/v1. The
// fixture mounts every RouteGroup cmd/minsheng's serve mounts under /api/v1
// (cases with the local photo store, budget, allocation, site).
func TestAPIOpenAPI(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	var raw []byte
	if st := f.call(t, "", "GET", "/api/v1/openapi.json", nil, &raw); st != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json: status %d: %s", st, raw)
	}
	var doc apiDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	ops := doc.operations(t)

	t.Run("routes", func(t *testing.T) {
		served := servedAPIRoutes(f)
		var missing, extra []string
		for r := range served {
			if _, ok := ops[r]; !ok {
				missing = append(missing, r)
			}
		}
		for r := range ops {
			if !served[r] {
				extra = append(extra, r)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 {
			t.Errorf("%d served routes missing from handlers/openapi.json (add them):\n  %s", len(missing), strings.Join(missing, "\n  "))
		}
		if len(extra) > 0 {
			t.Errorf("%d routes in handlers/openapi.json the server does not serve (remove or fix them):\n  %s", len(extra), strings.Join(extra, "\n  "))
		}
		if len(served) < 70 {
			t.Errorf("found %d routes, want the whole API (≥ 70): is every RouteGroup mounted?", len(served))
		}
	})

	t.Run("operations", func(t *testing.T) {
		pathParam := regexp.MustCompile(`\{([a-z_]+)\}`)
		for name, op := range ops {
			if strings.TrimSpace(op.Summary) == "" {
				t.Errorf("%s: no summary", name)
			}
			path := strings.SplitN(name, " ", 2)[1]
			var want, got []string
			for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
				want = append(want, m[1])
			}
			for _, p := range op.Parameters {
				if p.In == "path" {
					got = append(got, p.Name)
				}
			}
			sort.Strings(want)
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: path parameters %v, want %v", name, got, want)
			}
		}
	})

	// Each route declares its query parameters (httpkit.RouteQuery, ListQuery); an
	// undeclared one is 400 naming it. Asking each GET with every query
	// name the document knows, plus one nobody declares, shows which names
	// the route takes; they must be the documented ones.
	t.Run("query", func(t *testing.T) {
		f.staff(t, "admin", auth.RoleAdmin, "")
		const sentinel = "zz_undeclared"
		universe := map[string]bool{}
		for _, op := range ops {
			for _, p := range op.Parameters {
				if p.In == "query" {
					universe[p.Name] = true
				}
			}
		}
		names := make([]string, 0, len(universe)+1)
		for n := range universe {
			names = append(names, n)
		}
		sort.Strings(names)
		q := url.Values{}
		for _, n := range append(names, sentinel) {
			q.Set(n, "")
		}
		var unchecked []string
		for name, op := range ops {
			method, path, _ := strings.Cut(name, " ")
			if method != "GET" {
				continue
			}
			target := strings.NewReplacer("{year}", "2026", "{id}", "x", "{code}", "x", "{number}", "x", "{key}", "x").Replace(path)
			var answer struct {
				Error struct {
					Fields map[string]string `json:"fields"`
				} `json:"error"`
			}
			var body []byte
			f.call(t, "admin", "GET", target+"?"+q.Encode(), nil, &body)
			_ = json.Unmarshal(body, &answer)
			unknown := func(n string) bool { return strings.Contains(answer.Error.Fields[n], "查询参数") }
			if !unknown(sentinel) {
				unchecked = append(unchecked, name)
				continue
			}
			var takes, documented []string
			for _, n := range names {
				if !unknown(n) {
					takes = append(takes, n)
				}
			}
			for _, p := range op.Parameters {
				if p.In == "query" {
					documented = append(documented, p.Name)
				}
			}
			sort.Strings(documented)
			if !slices.Equal(takes, documented) {
				t.Errorf("%s: takes query parameters %v, documented %v", name, takes, documented)
			}
		}
		sort.Strings(unchecked)
		if len(unchecked) > 0 {
			t.Logf("GET routes that accept any query parameter (not checked): %v", unchecked)
		}
	})
}
