package mobileapi_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// sentinel is in the description of a case in commA that no fuzzing
// caller may read: an answer that carries it leaked a case.
const sentinel = "SENTINEL-13912345678"

// FuzzMobileFiling puts arbitrary bodies to PUT /mobile/v1/cases/{uuid}
// as a cadre of commB, under a fresh client UUID or a fuzzed one (which
// also replays and conflicts with earlier filings). No answer may be a
// 5xx (Fiber's recover answers a panic with 500) or carry the non-public
// case of commA, which that cadre may not read.
func FuzzMobileFiling(f *testing.F) {
	valid := `{"area":"CG","title":"楼道漏水严重","description":"三层楼道漏水","address":"育德胡同1号","contact_name":"张大爷",` +
		`"contact_phone":"13812345678","households":6}`
	id := "3f2b8c1e-7d4a-4b6e-9a0c-5e1f2d3c4b5a"
	for _, body := range []string{
		valid,
		`{"area":"CG","title":"楼道漏水严重","description":"d","address":"a","lat":39.95,"lng":116.37,"gps_accuracy":12,"datum":"gcj02"}`,
		`{"area":"CG","title":"t","description":"d","address":"a","lat":91,"lng":181,"gps_accuracy":-1}`,
		`{"area":"CG","title":"t","description":"d","address":"a","lat":1e308,"lng":1,"gps_accuracy":9223372036854775807}`,
		`{"area":"CG","title":"t","description":"d","address":"a","community":"xichanganjie-liubukou"}`,
		`{"area":"CG","title":"t","description":"d","address":"a","resident_id":"u-1","households":-5}`,
		`{"area":"CG","area":"SQ","title":"重复的键","description":"d","address":"a"}`,
		`{"area":null,"title":null,"lat":null,"gps_accuracy":null}`,
		`{"area":["CG"],"title":{"$gt":""},"households":"6"}`,
		`{"title":"\u0000\ud800\u202e😀","description":"` + strings.Repeat("长", 3000) + `","area":"CG","address":"a"}`,
		`{"unknown":1}`, `{}`, `[]`, `null`, `{"area":"CG"`, ``, "\xff",
	} {
		f.Add(id, []byte(body), true)
		f.Add(id, []byte(body), false)
	}
	for _, id := range []string{"", "not-a-uuid", strings.ToUpper(id), id + "x", "../../cases", "%00", strings.Repeat("a", 5000)} {
		f.Add(id, []byte(valid), false)
	}
	s := newFixture(f)
	sealed := map[string]any{"area": "CG", "title": "楼道漏水严重", "description": "漏水，联系 " + sentinel, "address": "六部口2号楼",
		"contact_name": "张三", "contact_phone": "13912345678"}
	if st := s.call(f, "wangfang", "PUT", "/mobile/v1/cases/"+uuid.NewString(), sealed, nil); st != http.StatusCreated {
		f.Fatalf("seed case: status %d", st)
	}
	f.Fuzz(func(t *testing.T, id string, body []byte, fresh bool) {
		if fresh {
			id = uuid.NewString()
		}
		req := &http.Request{Method: "PUT", URL: &url.URL{Path: "/mobile/v1/cases/" + id, RawPath: "/mobile/v1/cases/" + url.PathEscape(id)},
			Host: "example.com", Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + s.tokens["far"]}},
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
		resp, err := s.app.Test(req, -1)
		if err != nil {
			t.Fatalf("PUT %q: %v", id, err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 {
			t.Fatalf("PUT %q %q: status %d: %s", id, body, resp.StatusCode, data)
		}
		if bytes.Contains(data, []byte(sentinel)) && !bytes.Contains(body, []byte("SENTINEL")) {
			t.Fatalf("PUT %q %q: the answer carries a case the caller may not read: %s", id, body, data)
		}
	})
}
