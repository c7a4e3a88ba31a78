package authz_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// entry is one route's row of the matrix.
type entry struct {
	// target is the request path and query; placeholders in braces are
	// filled from the cell's scope (see fill).
	target string
	// body is the JSON body sent, placeholders filled the same way.
	body string
	// want gives the expected status per cell: "anon:401 res:deny/deny
	// cadre:ok/deny sub:ok/deny fin:ok/ok admin:ok/ok", each role's
	// in-scope / out-of-scope. ok is any 2xx, deny is 403 or 404; numbers
	// are exact and | separates alternatives.
	want string
	// tracks marks routes authorised by an anonymous filer's tracking
	// token: the tracked case is the caller's own in that cell.
	tracks bool
	// also are more targets sent in the in-scope cells with the same
	// expectation: a list or report without its scope filter, which must
	// default to the caller's scope.
	also []string
	// public marks routes that serve the public view (board, public
	// search): scoped staff are held there to what anyone may read of
	// other scopes, not to nothing.
	public bool
	// ctype is the body's Content-Type; JSON when empty.
	ctype string
	// document marks a fixed document (the OpenAPI description): it names
	// fields such as score and holds no data, so only its status is checked.
	document bool
	// isolate gives every cell callers of its own (the route signs its
	// caller out or changes an account).
	isolate bool
}

// cell is one role in one scope.
type cell struct {
	role, scope string // scope: in, out, anon
}

func (c cell) String() string { return c.role + "/" + c.scope }

// roles maps the matrix's role names to the scope-A users who play them.
var roles = map[string]string{"anon": "", "res": "resident-A", "cadre": "cadre-A", "sub": "sub-A", "fin": "finance", "admin": "admin"}

// cellOrder runs the cells that act outside the callers' scope first, so
// anything an allowed write changes there cannot decide a later cell.
var cellOrder = []cell{
	{"anon", "anon"},
	{"res", "out"}, {"cadre", "out"}, {"sub", "out"}, {"fin", "out"}, {"admin", "out"},
	{"res", "in"}, {"cadre", "in"}, {"sub", "in"}, {"fin", "in"}, {"admin", "in"},
}

// statusSet is the statuses a cell accepts.
type statusSet []string

func (s statusSet) accepts(status int) bool {
	for _, w := range s {
		switch w {
		case "ok":
			if status >= 200 && status < 300 {
				return true
			}
		case "deny":
			if status == 403 || status == 404 {
				return true
			}
		default:
			if strconv.Itoa(status) == w {
				return true
			}
		}
	}
	return false
}

// parseWant turns an entry's want into a status set per cell.
func parseWant(spec string) (map[cell]statusSet, error) {
	out := map[cell]statusSet{}
	for _, part := range strings.Fields(spec) {
		role, vals, ok := strings.Cut(part, ":")
		if _, known := roles[role]; !ok || !known {
			return nil, fmt.Errorf("bad part %q", part)
		}
		if role == "anon" {
			out[cell{role, "anon"}] = strings.Split(vals, "|")
			continue
		}
		in, outv, ok := strings.Cut(vals, "/")
		if !ok {
			return nil, fmt.Errorf("%q: want in/out", part)
		}
		out[cell{role, "in"}], out[cell{role, "out"}] = strings.Split(in, "|"), strings.Split(outv, "|")
	}
	if len(out) != len(cellOrder) {
		return nil, fmt.Errorf("%d cells, want %d", len(out), len(cellOrder))
	}
	return out, nil
}

// routes lists the API routes the router serves, as "METHOD /path". HEAD
// routes are GET's twins (Fiber adds them) and follow GET's entry.
func (w *world) routes() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range w.app.GetRoutes(true) {
		if r.Method == "HEAD" || !(strings.HasPrefix(r.Path, "/api/v1/") || strings.HasPrefix(r.Path, "/mobile/v1/")) {
			continue
		}
		k := r.Method + " " + r.Path
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// fill replaces the placeholders of s with the values of scope d; a
// placeholder of an entity d does not hold is left as it is.
func (w *world) fill(s string, d *scopeData, n int64) string {
	pairs := []string{"{uuid}", uuid.NewString(), "{year}", strconv.Itoa(w.year), "{n}", strconv.FormatInt(n, 10),
		"{phone}", fmt.Sprintf("1350%07d", n)}
	if d != nil {
		pairs = append(pairs, "{comm}", d.org.comm, "{sub}", d.org.sub, "{cadre}", d.cadreID, "{resident}", d.residentID)
		if c := d.priv; c != nil {
			pairs = append(pairs, "{case}", c.id, "{ver}", strconv.FormatInt(c.version, 10), "{number}", c.number)
		}
		if c := d.pub; c != nil {
			pairs = append(pairs, "{pub}", c.id, "{pubver}", strconv.FormatInt(c.version, 10))
		}
		if c := d.anon; c != nil {
			pairs = append(pairs, "{anon}", c.id, "{token}", c.token, "{anonnumber}", c.number, "{anonver}", strconv.FormatInt(c.version, 10))
		}
		for stage, c := range d.staged {
			pairs = append(pairs, "{"+stage+"}", c.id, "{"+stage+"ver}", strconv.FormatInt(c.version, 10), "{"+stage+"photo}", c.photo)
		}
		if d.line.id != "" {
			pairs = append(pairs, "{line}", d.line.id, "{linever}", strconv.FormatInt(d.line.version, 10))
		}
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// forbidden lists what the caller playing role must not read in any
// answer: other scopes' cases and lines for scoped staff; for residents and
// anonymous callers every private field of a case not theirs, the ids of
// non-public cases and a similarity score. own is the case the cell's
// tracking token opens, if any.
func (w *world) forbidden(role string, own *seedCase, public bool) []string {
	var out []string
	private := func(c *seedCase) []string { return []string{c.marker, c.descPhone, c.idNumber, c.contactPhone} }
	for _, c := range w.seeded {
		if c == own {
			continue
		}
		switch role {
		case "cadre", "sub":
			switch {
			case c.scope == "A":
			case public:
				out = append(out, private(c)...)
				if c.kind != "pub" {
					out = append(out, c.id, c.number)
				}
			default:
				out = append(append(out, c.id, c.number), private(c)...)
			}
		case "res", "anon":
			if role == "res" && c.ownerKey == roles["res"] {
				continue
			}
			out = append(out, private(c)...)
			if c.kind != "pub" {
				out = append(out, c.id, c.number)
			}
		}
	}
	switch {
	case (role == "cadre" || role == "sub") && !public:
		for _, l := range w.lines {
			if l.scope != "A" {
				out = append(out, l.id, l.name)
			}
		}
	case role == "res" || role == "anon":
		out = append(out, `"score"`)
	}
	return out
}

// TestAuthzMatrix sends every API route as every role, in and out of its
// scope, and checks the status and that no answer carries what the caller
// may not read. A route without an entry, or an entry without a route,
// fails it.
func TestAuthzMatrix(t *testing.T) {
	reads := newWorld(t)
	r := &runner{top: t, reads: reads, a: reads.seed(t, "A"), b: reads.seed(t, "B")}
	routes := reads.routes()
	checkCoverage(t, routes)
	for _, k := range routes {
		if e, ok := matrix[k]; ok {
			r.route(t, k, e)
		}
	}
	extras := extraCells()
	for _, x := range extras {
		t.Run("extra/"+x.name, x.run)
	}
	t.Logf("authorization matrix: %d routes × %d roles (anonymous, and 5 signed-in roles in-scope and out-of-scope: %d cells a route) = %d cells, plus %d extra cells = %d; %d routes served",
		r.routes, len(roles), len(cellOrder), r.cells, len(extras), r.cells+len(extras), len(routes))
}

// checkCoverage fails for a served route without an entry and for an
// entry without a served route.
func checkCoverage(t *testing.T, routes []string) {
	t.Helper()
	served := map[string]bool{}
	for _, k := range routes {
		served[k] = true
		if _, ok := matrix[k]; !ok {
			t.Errorf("%s is served but has no matrix entry: add a matrix entry for it in e2e/authz/table_test.go", k)
		}
	}
	for k := range matrix {
		if !served[k] {
			t.Errorf("matrix entry %s names no served route: remove or rename it", k)
		}
	}
}

// runner runs the routes' cells: reads on one world seeded once, writes on
// another, on entities seeded for each cell (and callers, for isolate).
type runner struct {
	top           *testing.T
	reads, writes *world
	a, b          *scopeData
	routes, cells int
}

// world picks the world and the scope's entities for one cell.
func (r *runner) world(t *testing.T, e entry, method string, c cell) (*world, *scopeData) {
	t.Helper()
	if method == "GET" {
		if c.scope == "out" {
			return r.reads, r.b
		}
		return r.reads, r.a
	}
	if r.writes == nil {
		r.writes = newWorld(r.top)
	}
	if e.isolate {
		r.writes.freshCallers(t)
	}
	sc := "A"
	if c.scope == "out" {
		sc = "B"
	}
	return r.writes, r.writes.seedFor(t, sc, e.target+e.body+strings.Join(e.also, " "))
}

// route runs one route's cells as subtests.
func (r *runner) route(t *testing.T, k string, e entry) {
	want, err := parseWant(e.want)
	if err != nil {
		t.Errorf("%s: %v", k, err)
		return
	}
	method := strings.Fields(k)[0]
	r.routes++
	t.Run(k, func(t *testing.T) {
		actual := map[cell]int{}
		defer func() {
			if t.Failed() {
				t.Logf("actual row: %s", row(actual))
			}
		}()
		for _, c := range cellOrder {
			r.cells++
			w, d := r.world(t, e, method, c)
			t.Run(c.String(), func(t *testing.T) {
				targets := []string{e.target}
				if c.scope == "in" {
					targets = append(targets, e.also...)
				}
				for i, tmpl := range targets {
					if status := w.check(t, e, c, want[c], method, tmpl, d); i == 0 {
						actual[c] = status
					}
				}
			})
		}
	})
}

func parseCell(name string) cell {
	role, scope, _ := strings.Cut(name, "/")
	return cell{role, scope}
}

// row writes the statuses of one route's cells in want's notation.
func row(got map[cell]int) string {
	st := func(c cell) string {
		if v, ok := got[c]; ok {
			return strconv.Itoa(v)
		}
		return "-"
	}
	parts := []string{"anon:" + st(cell{"anon", "anon"})}
	for _, r := range []string{"res", "cadre", "sub", "fin", "admin"} {
		parts = append(parts, r+":"+st(cell{r, "in"})+"/"+st(cell{r, "out"}))
	}
	return strings.Join(parts, " ")
}

// readable returns an answer as text to search: an XLSX export (a zip of
// XML parts) is unpacked, so exports are held to the same rules.
func readable(body []byte) []byte {
	if !bytes.HasPrefix(body, []byte("PK\x03\x04")) {
		return body
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return body
	}
	var out bytes.Buffer
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			continue
		}
		_, _ = io.Copy(&out, rc)
		rc.Close()
	}
	return out.Bytes()
}

// check sends one cell's request to the target tmpl and checks its status
// and, for an answer, that it carries nothing the caller may not read. It
// returns the status.
func (w *world) check(t *testing.T, e entry, c cell, want statusSet, method, tmpl string, d *scopeData) int {
	t.Helper()
	n := w.seq.Add(1)
	target, body := w.fill(tmpl, d, n), w.fill(e.body, d, n)
	if strings.Contains(target, "{") {
		t.Fatalf("%s: a placeholder is left unfilled", target)
	}
	status, got := w.do(t, roles[c.role], method, target, body, e.ctype)
	if !want.accepts(status) {
		t.Errorf("%s %s as %s: status %d, want %s; body %.300s", method, target, c, status, strings.Join(want, "|"), got)
		return status
	}
	if status < 200 || status >= 300 || e.document {
		return status
	}
	var own *seedCase
	if e.tracks {
		own = d.anon
	}

	got = readable(got)
	for _, s := range w.forbidden(c.role, own, e.public) {
		if strings.Contains(string(got), s) {
			t.Errorf("%s %s as %s: answer carries %q, which the caller may not read; body %.400s", method, target, c, s, got)
		}
	}
	return status
}
