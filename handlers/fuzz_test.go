package handlers_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"minsheng/internal/auth"
)

// sentinel is in the description of a case no fuzzing caller may read:
// an answer that carries it leaked a case.
const sentinel = "SENTINEL-13912345678"

// fuzzServer is the real server for the HTTP fuzz targets, with a public
// case and a non-public one (carrying sentinel) in hComm, a resident and a
// sub-district staff member of another sub-district — neither may read the
// non-public case — and a client address that changes with every request,
// so the per-address limits do not turn a run into a wall of 429s.
type fuzzServer struct {
	*fixture
	clients atomic.Int64
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	unlimited := auth.Limit{N: 1 << 40, Window: time.Hour}
	s := &fuzzServer{fixture: newFixture(f, fixtureOptions{proxyHeader: "X-Fuzz-Client", auth: func(c *auth.Config) {
		c.FilePerUser, c.FilePerIP, c.FileAnonymousPerIP = unlimited, unlimited, unlimited
	}})}
	s.staff(f, "cadre", auth.RoleCadre, hComm)
	s.staff(f, "stafffar", auth.RoleSubdistrict, hSubFar)
	s.resident(f, "resident", "13800000001")
	for _, c := range []map[string]any{
		{"area": "CG", "title": "楼道漏水严重", "description": "三层楼道漏水", "community": hComm, "address": "六部口1号楼", "public": true},
		{"area": "CG", "title": "楼道漏水严重", "description": "漏水，联系 " + sentinel, "community": hComm, "address": "六部口2号楼",
			"contact_name": "张三", "contact_phone": hPhone},
	} {
		if st := s.call(f, "cadre", "POST", "/api/v1/cases", c, nil); st != http.StatusCreated {
			f.Fatalf("seed case: status %d", st)
		}
	}
	return s
}

// do sends a request as who from a fresh client address and checks the
// invariants of every fuzz answer: no 5xx (Fiber's recover answers a
// panic with 500) and no sentinel, unless the caller sent it themselves.
func (s *fuzzServer) do(t *testing.T, who, method, target string, body []byte) {
	t.Helper()
	req := fuzzRequest(method, target, body)
	n := s.clients.Add(1)
	req.Header.Set("X-Fuzz-Client", fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255))
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+s.tokens[who])
	}
	resp, err := s.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s as %q: status %d: %s", method, target, who, resp.StatusCode, data)
	}
	if bytes.Contains(data, []byte(sentinel)) && !bytes.Contains(body, []byte("SENTINEL")) && !strings.Contains(target, "SENTINEL") {
		t.Fatalf("%s %s as %q: the answer carries a case the caller may not read: %s", method, target, who, data)
	}
}

// fuzzRequest builds a request without httptest.NewRequest, which panics on
// a target it cannot parse: the fuzzed part is already escaped.
func fuzzRequest(method, target string, body []byte) *http.Request {
	path, query, _ := strings.Cut(target, "?")
	req := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}, Host: "example.com",
		Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	if body != nil {
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// escapeQuery keeps a fuzzed query string as the fuzzer wrote it (bad
// percent escapes included) but escapes the bytes that would break the
// request line.
func escapeQuery(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if c := q[i]; c <= ' ' || c >= 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// FuzzSubmitCase posts arbitrary bodies to POST /api/v1/cases, anonymous
// or as a resident.
func FuzzSubmitCase(f *testing.F) {
	valid := `{"area":"CG","title":"3号楼楼道灯不亮","description":"二单元楼道灯坏了一个月","community":"xichanganjie-liubukou",` +
		`"address":"六部口3号楼二单元","contact_name":"张三","contact_phone":"13912345678","households":12}`
	for _, body := range []string{
		valid,
		`{"area":"CG","title":"楼道漏水严重","description":"漏水","community":"xichanganjie-liubukou","address":"六部口","public":true}`,
		`{"area":"CG","title":"t","description":"d","community":"xichanganjie-liubukou","address":"a","lat":39.9,"lng":116.37}`,
		`{"area":"CG","title":"t","description":"d","community":"xichanganjie-liubukou","address":"a","lat":1e308,"lng":-1e308}`,
		`{"area":"CG","title":"t","description":"d","community":"xichanganjie-liubukou","address":"a","households":9223372036854775807}`,
		`{"area":"CG","title":"t","description":"d","community":"xichanganjie-liubukou","address":"a","households":1e400}`,
		`{"area":"CG","title":"t","description":"d","sub_district":"xinjiekou","community":"xichanganjie-liubukou","address":"a"}`,
		`{"area":"CG","title":"t","description":"d","community":"xichanganjie-liubukou","address":"a","resident_id":"x"}`,
		`{"area":"CG","area":"SQ","title":"重复的键","description":"d","community":"xichanganjie-liubukou","address":"a"}`,
		`{"area":null,"title":null,"description":null,"community":null,"lat":null}`,
		`{"area":1,"title":["t"],"description":{"$gt":""},"community":true}`,
		`{"title":"\u0000\ud800\u202e𠀀😀","description":"` + strings.Repeat("长", 3000) + `","area":"CG","community":"xichanganjie-liubukou","address":"a"}`,
		`{"unknown":1}`, `{}`, `[]`, `null`, `"x"`, `{"area":"CG"`, `{"a":{"b":{"c":{"d":[[[[[]]]]]}}}}`, ``, "\xff\xfe",
	} {
		f.Add([]byte(body), false)
		f.Add([]byte(body), true)
	}
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte, resident bool) {
		who := ""
		if resident {
			who = "resident"
		}
		s.do(t, who, "POST", "/api/v1/cases", body)
	})
}

// FuzzSimilar asks the similar search for arbitrary text, community and
// area: anonymously (/api/v1/public/similar) or as the resident
// (/api/v1/cases/similar). Neither may ever see the non-public case.
func FuzzSimilar(f *testing.F) {
	for _, q := range [][3]string{
		{"楼道漏水严重", "", ""}, {"漏水", hComm, "CG"}, {"SENTINEL", "", ""}, {"13912345678", "", ""}, {"联系", hComm, ""},
		{"", "", ""}, {" ", "", ""}, {"楼道漏水严重", "nowhere", "XX"}, {"楼道漏水严重", hComm + "\x00", "CG"},
		{strings.Repeat("漏", 500), "", ""}, {".*", "", ""}, {`{"$ne":null}`, "", ""}, {"\xff\xfe", "", ""}, {"😀𠀀\u202e", "", ""},
	} {
		f.Add(q[0], q[1], q[2], false)
		f.Add(q[0], q[1], q[2], true)
	}
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, text, community, area string, resident bool) {
		q := url.Values{"text": {text}}
		if community != "" {
			q.Set("community", community)
		}
		if area != "" {
			q.Set("area", area)
		}
		if resident {
			s.do(t, "resident", "GET", "/api/v1/cases/similar?"+q.Encode(), nil)
		} else {
			s.do(t, "", "GET", "/api/v1/public/similar?"+q.Encode(), nil)
		}
	})
}

// fuzzLists are the list routes FuzzListQuery reads, with the caller.
var fuzzLists = []struct{ who, path string }{
	{"resident", "/api/v1/cases"},
	{"stafffar", "/api/v1/cases"},
	{"resident", "/api/v1/me/cases"},
	{"stafffar", "/api/v1/budget/lines"},
	{"stafffar", "/api/v1/budget/audit"},
	{"stafffar", "/api/v1/budget/adjustments"},
	{"stafffar", "/api/v1/allocation/runs"},
	{"stafffar", "/api/v1/allocation/priorities"},
	{"stafffar", "/api/v1/users"},
	{"", "/api/v1/public/board"},
	{"", "/api/v1/cases/track"},
}

// FuzzListQuery sends arbitrary query strings (cursor, limit, filters,
// unknown and repeated parameters, bad escapes) to the list routes as a
// caller who may not read the non-public case.
func FuzzListQuery(f *testing.F) {
	cursor := "eyJ0IjoiMjAyNi0wMy0wMVQwOTowMDowMFoiLCJpIjoiYSJ9" // {"t":"2026-03-01T09:00:00Z","i":"a"}
	for i, q := range []string{
		"limit=1", "limit=100", "limit=0", "limit=101", "limit=-1", "limit=1e2", "limit=99999999999999999999",
		"cursor=" + cursor, "cursor=" + cursor + "&limit=5", "cursor=!!!", "cursor=", "cursor=1772355600000.RUN-1", "cursor=-1",
		"status=submitted&area=CG&sort=filed", "text=楼道漏水&community=" + hComm, "text=SENTINEL", "overdue=maybe", "overdue=true",
		"year=2026&sub_district=xinjiekou", "year=abc", "fiscal_year=99999999999", "number=C-1&token=x",
		"limit=1&limit=2", "unknown=1", "%zz=1", "a=%", "&&&", "=", "status[$ne]=x", "text=%00%FF",
	} {
		// One route each, round the list: every seed on every route would
		// make the baseline alone outlast a short run.
		f.Add(q, uint8(i%len(fuzzLists)))
	}
	for i := range fuzzLists {
		f.Add("", uint8(i))
	}
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, query string, route uint8) {
		r := fuzzLists[int(route)%len(fuzzLists)]
		s.do(t, r.who, "GET", r.path+"?"+escapeQuery(query), nil)
	})
}
