package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"minsheng/cases"
	"minsheng/internal/org"
)

// readCSV parses an export, without its BOM.
func readCSV(t testing.TB, raw []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(raw, []byte("\ufeff")) {
		t.Fatalf("no BOM: %.80q", raw)
	}
	rows, err := csv.NewReader(bytes.NewReader(raw[3:])).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v: %.200s", err, raw)
	}
	return rows
}

func column(rows [][]string, name string) int {
	for i, h := range rows[0] {
		if h == name {
			return i
		}
	}
	return -1
}

func TestCaseExportFiltersScopeAndFormulas(t *testing.T) {
	a := newCasesApp(t)
	plain := a.file(t)
	body := newCaseBody()
	body["title"] = "=HYPERLINK(\"http://x\",\"点我\")"
	var evil caseJSON
	if st := a.call(t, "resident", "POST", "/api/v1/cases", body, &evil); st != 201 {
		t.Fatalf("file: %d", st)
	}
	accepted := a.step(t, "staff", a.file(t), "accept", nil, 200)
	accepted = a.step(t, "staff", accepted, "assign", map[string]any{"cadre_id": a.ids["cadre"]}, 200)
	accepted = a.step(t, "cadre", accepted, "assess", map[string]any{"estimate_fen": 123456, "households": 7, "risk": 1}, 200)
	far := a.fileFar(t)

	t.Run("scope and formulas", func(t *testing.T) {
		var raw []byte
		if st := a.call(t, "staff", "GET", "/api/v1/cases/export?format=csv", nil, &raw); st != 200 {
			t.Fatalf("status %d: %s", st, raw)
		}
		rows := readCSV(t, raw)
		if len(rows) != 4 {
			t.Fatalf("%d rows, want header and 3: %v", len(rows), rows)
		}
		text := string(raw)
		if strings.Contains(text, far.Number) {
			t.Errorf("another sub-district's case %s exported", far.Number)
		}
		if strings.Contains(text, hPhone) || strings.Contains(text, "张三") {
			t.Errorf("personal data exported")
		}
		title, est := column(rows, "标题"), column(rows, "估算（元）")
		byNumber := map[string][]string{}
		for _, r := range rows[1:] {
			byNumber[r[0]] = r
		}
		if got := byNumber[evil.Number][title]; got != "'=HYPERLINK(\"http://x\",\"点我\")" {
			t.Errorf("formula title exported as %q", got)
		}
		if got := byNumber[accepted.Number][est]; got != "1234.56" {
			t.Errorf("estimate %q, want 1234.56", got)
		}
		if got := byNumber[plain.Number][column(rows, "状态")]; got != "待受理" {
			t.Errorf("status %q", got)
		}
		if got := byNumber[plain.Number][column(rows, "街道")]; got == "" || got == hSub {
			t.Errorf("sub-district %q, want its name", got)
		}
	})
	t.Run("filters", func(t *testing.T) {
		var raw []byte
		if st := a.call(t, "staff", "GET", "/api/v1/cases/export?format=csv&status=assessed&area=CG", nil, &raw); st != 200 {
			t.Fatalf("status %d: %s", st, raw)
		}
		if rows := readCSV(t, raw); len(rows) != 2 || rows[1][0] != accepted.Number {
			t.Errorf("filtered rows %v, want only %s", rows, accepted.Number)
		}
		if st := a.call(t, "staff", "GET", "/api/v1/cases/export?format=csv&text=HYPERLINK", nil, &raw); st != 200 || len(readCSV(t, raw)) != 2 {
			t.Errorf("text filter: status %d rows %d", st, len(readCSV(t, raw)))
		}
	})
	t.Run("xlsx opens with numbers as numbers", func(t *testing.T) {
		var raw []byte
		if st := a.call(t, "finance", "GET", "/api/v1/cases/export?format=xlsx", nil, &raw); st != 200 {
			t.Fatalf("status %d: %s", st, raw)
		}
		f, err := excelize.OpenReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows("诉求")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 5 { // finance sees every sub-district
			t.Fatalf("%d rows, want header and 4", len(rows))
		}
		for i, r := range rows[1:] {
			cell := func(col int) string { n, _ := excelize.CoordinatesToCellName(col+1, i+2); return n }
			switch r[0] {
			case accepted.Number:
				typ, _ := f.GetCellType("诉求", cell(10))
				v, _ := f.GetCellValue("诉求", cell(10), excelize.Options{RawCellValue: true})
				if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber || v != "1234.56" {
					t.Errorf("estimate cell type %v value %q, want the number 1234.56", typ, v)
				}
				if typ, _ := f.GetCellType("诉求", cell(7)); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
					t.Errorf("households cell type %v", typ)
				}
			case evil.Number:
				if typ, _ := f.GetCellType("诉求", cell(1)); typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
					t.Errorf("formula title stored as %v, want text", typ)
				}
				if fm, _ := f.GetCellFormula("诉求", cell(1)); fm != "" {
					t.Errorf("title became formula %q", fm)
				}
			}
		}
	})
	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			who, query string
			want       int
		}{
			{"staff", "format=pdf", 400},
			{"staff", "format=csv&limit=5", 400},
			{"staff", "format=csv&sub_district=" + hSubFar, 403},
			{"resident", "format=csv", 403},
			{"", "format=csv", 401},
		} {
			if st := a.call(t, tc.who, "GET", "/api/v1/cases/export?"+tc.query, nil, nil); st != tc.want {
				t.Errorf("%s %s: status %d, want %d", tc.who, tc.query, st, tc.want)
			}
		}
	})
}

// seedCases stores n cases of sub-district sub as bench/ seeds them
// (straight into the store, then their summaries), oldest first.
func seedCases(t testing.TB, a casesApp, prefix, sub string, n int) {
	t.Helper()
	ctx := context.Background()
	comms := org.Xicheng().CommunitiesOf(sub)
	base := time.Now().Add(-time.Duration(n) * time.Minute)
	docs := make([]any, 0, 5000)
	flush := func() {
		if len(docs) > 0 {
			if err := a.st.Collection("cases").InsertMany(ctx, docs); err != nil {
				t.Fatal(err)
			}
			docs = docs[:0]
		}
	}
	for i := range n {
		filed := base.Add(time.Duration(i) * time.Minute)
		docs = append(docs, &cases.Case{
			ID: fmt.Sprintf("%s-%07d", prefix, i), Number: fmt.Sprintf("XC2025-%s%06d", prefix, i), Area: "CG",
			Title:       fmt.Sprintf("楼道照明损坏 %d号楼", i%300),
			Description: strings.Repeat("居民反映该问题已持续一段时间，影响日常生活，请尽快处理。", 12),
			Location:    cases.Location{SubDistrict: sub, Community: comms[i%len(comms)].Code, Address: fmt.Sprintf("%d号院", i%50)},
			Status:      cases.StatusAccepted, FiledAt: filed, ResponseDueAt: filed.Add(24 * time.Hour), DueAt: filed.Add(15 * 24 * time.Hour),
			Version: 2, Households: 1 + i%40, ContactName: "张三", ContactPhone: "13800000000",
			Assessment: &cases.Assessment{EstimateFen: int64(i) * 101},
			Timeline:   []cases.Event{{At: filed, Actor: "res", Action: cases.ActSubmit, To: cases.StatusSubmitted}},
			Photos:     []cases.Photo{}, Cosigners: []string{},
		})
		if len(docs) == cap(docs) {
			flush()
		}
	}
	flush()
	if _, err := a.cases.RepairSummaries(ctx); err != nil {
		t.Fatal(err)
	}
}

// serve runs the app on a loopback port, so an export streams over a real
// connection (app.Test buffers whole answers).
func serve(t testing.TB, a casesApp) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.app.Listener(ln) }()
	t.Cleanup(func() { _ = a.app.Shutdown() })
	return "http://" + ln.Addr().String()
}

// download streams an export and counts its CSV records.
func download(t testing.TB, base, token, query string) (records int, bytesRead int64) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/cases/export?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	counter := &countingReader{r: resp.Body}
	r := csv.NewReader(bufio.NewReader(counter))
	r.ReuseRecord = true
	for {
		_, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		records++
	}
	return records - 1, counter.n
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestCaseExportStreamsEveryPage(t *testing.T) {
	a := newCasesApp(t)
	seedCases(t, a, "A", hSub, 1234) // three export pages
	seedCases(t, a, "F", hSubFar, 300)
	base := serve(t, a)
	if got, _ := download(t, base, a.tokens["staff"], "format=csv"); got != 1234 {
		t.Errorf("staff exported %d cases, want 1234", got)
	}
	if got, _ := download(t, base, a.tokens["finance"], "format=csv&sort=deadline"); got != 1534 {
		t.Errorf("finance exported %d cases, want 1534", got)
	}
}

// BenchmarkCaseExport50k exports a sub-district's 50,000 cases as CSV and
// as XLSX over a real connection and reports the peak heap in use while it
// streams (sampled every 5 ms) beside the time:
//
//	go test -run '^$' -bench CaseExport50k -benchtime 1x -timeout 40m ./handlers/
//
// MINSHENG_BENCH_CASES sets another count (a profile on fewer cases).
func BenchmarkCaseExport50k(b *testing.B) {
	n := 50_000
	if v, err := strconv.Atoi(os.Getenv("MINSHENG_BENCH_CASES")); err == nil && v > 0 {
		n = v
	}
	a := casesApp{newFixture(b, fixtureOptions{})}
	a.staff(b, "staff", "subdistrict", hSub)
	seedCases(b, a, "B", hSub, n)
	base := serve(b, a)
	for _, format := range []string{"csv", "xlsx"} {
		b.Run(format, func(b *testing.B) {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := ms.HeapInuse
			var peak atomic.Uint64
			done := make(chan struct{})
			go func() {
				var ms runtime.MemStats
				for {
					select {
					case <-done:
						return
					case <-time.After(5 * time.Millisecond):
						runtime.ReadMemStats(&ms)
						if ms.HeapInuse > peak.Load() {
							peak.Store(ms.HeapInuse)
						}
					}
				}
			}()
			var size int64
			b.ResetTimer()
			for range b.N {
				if format == "csv" {
					got, read := download(b, base, a.tokens["staff"], "format=csv")
					if got != n {
						b.Fatalf("exported %d, want %d", got, n)
					}
					size = read
				} else {
					req, _ := http.NewRequest("GET", base+"/api/v1/cases/export?format=xlsx", nil)
					req.Header.Set("Authorization", "Bearer "+a.tokens["staff"])
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					size, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
			b.StopTimer()
			close(done)
			b.ReportMetric(float64(peak.Load()-min(before, peak.Load()))/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(size)/(1<<20), "file-MiB")
		})
	}
}
