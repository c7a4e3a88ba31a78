package authz_test

import (
	"fmt"
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
	// pending names the cells a known finding breaks ("res/out"), with the
	// finding; they are skipped until its fix lands.
	pending map[string]string
	// tracks marks routes authorised by an anonymous filer's tracking
	// token: the tracked case is the caller's own in that cell.
	tracks bool
	// public marks routes that serve the public view (board, public
	// search): scoped staff are held there to what anyone may read of
	// other scopes, not to nothing.
	public bool
	// ctype is the body's Content-Type; JSON when empty.
	ctype string
	// isolate gives every cell a world of its own (the route signs its
	// caller out or changes the caller's account).
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

// fill replaces the placeholders of s with the values of scope d.
func (w *world) fill(s string, d *scopeData, n int64) string {
	return strings.NewReplacer(
		"{case}", d.priv.id, "{ver}", strconv.FormatInt(d.priv.version, 10), "{number}", d.priv.number,
		"{pub}", d.pub.id, "{pubver}", strconv.FormatInt(d.pub.version, 10),
		"{anon}", d.anon.id, "{token}", d.anon.token, "{anonnumber}", d.anon.number,
		"{anonver}", strconv.FormatInt(d.anon.version, 10), "{linever}", strconv.FormatInt(d.line.version, 10),
		"{line}", d.line.id, "{comm}", d.org.comm, "{sub}", d.org.sub,
		"{cadre}", d.cadreID, "{resident}", d.residentID,
		"{year}", strconv.Itoa(w.year), "{uuid}", uuid.NewString(), "{n}", strconv.FormatInt(n, 10),
		"{phone}", fmt.Sprintf("1350%07d", n),
	).Replace(s)
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
	top := t
	reads := newWorld(t)
	readA, readB := reads.seed(t, "A"), reads.seed(t, "B")

	routes := reads.routes()
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

	var cells, skipped, routesRun int
	var writes *world
	for _, k := range routes {
		e, ok := matrix[k]
		if !ok {
			continue
		}
		want, err := parseWant(e.want)
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		for name := range e.pending {
			if _, ok := want[parseCell(name)]; !ok {
				t.Errorf("%s: pending names unknown cell %q", k, name)
			}
		}
		method := strings.Fields(k)[0]
		routesRun++
		t.Run(k, func(t *testing.T) {
			actual := map[cell]int{}
			defer func() {
				if t.Failed() {
					t.Logf("actual row: %s", row(actual))
				}
			}()
			for _, c := range cellOrder {
				cells++
				w, d := reads, readA
				if c.scope == "out" {
					d = readB
				}
				if method != "GET" {
					// Writes act on entities seeded for the cell alone.
					switch {
					case e.isolate:
						writes = newWorld(t)
					case writes == nil:
						writes = newWorld(top)
					}
					w = writes
					sc := "A"
					if c.scope == "out" {
						sc = "B"
					}
					d = w.seed(t, sc)
				}
				t.Run(c.String(), func(t *testing.T) {
					if why, ok := e.pending[c.String()]; ok {
						skipped++
						t.Skipf("pending: %s", why)
					}
					n := w.seq.Add(1)
					target, body := w.fill(e.target, d, n), w.fill(e.body, d, n)
					status, got := w.do(t, roles[c.role], method, target, body, e.ctype)
					actual[c] = status
					if !want[c].accepts(status) {
						t.Fatalf("%s %s as %s: status %d, want %s; body %.300s", method, target, c, status, strings.Join(want[c], "|"), got)
					}
					if status < 200 || status >= 300 {
						return
					}
					var own *seedCase
					if e.tracks {
						own = d.anon
					}
					for _, s := range w.forbidden(c.role, own, e.public) {
						if strings.Contains(string(got), s) {
							t.Errorf("%s %s as %s: answer carries %q, which the caller may not read; body %.400s", method, target, c, s, got)
						}
					}
				})
			}
		})
		if e.isolate {
			writes = nil
		}
	}
	t.Logf("authorization matrix: %d routes × %d roles × in-scope/out-of-scope/anonymous = %d cells (%d routes served, %d cells pending a fix)",
		routesRun, len(roles), cells, len(routes), skipped)
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
