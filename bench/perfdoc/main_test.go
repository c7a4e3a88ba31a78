package main

import (
	"strings"
	"testing"
)

const sample = `# date: 2026-12-08 04:00 CST
# commit: abc1234
goos: linux
cpu: Some CPU
BenchmarkQueues/cases=1000/community_queue-2         	      20	   1520000 ns/op
BenchmarkRun1M-2   	       1	2500000000 ns/op	        12.5 input_MiB	         3.25 result_MiB

minsheng pilot benchmark: 10000 cases over 15 sub-districts, 30 iterations each
         operation  API p50  API p95  raw p50  raw p95  p95 ratio
       staff queue   3.1 ms   4.2 ms   1.0 ms   2.1 ms      2.00×
  open one (by id)   1.5 ms   2.0 ms   0.5 ms   1.0 ms      2.00×

intake: API 700 filings/s, raw 1100 inserts/s, ratio 0.64× (0 of 60 answered 429)
PASS
ok  	minsheng/bench	12.3s
# load average at end: 0.50 0.40 0.30
`

func TestParseAndCompare(t *testing.T) {
	a, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.values["BenchmarkQueues/cases=1000/community_queue ms/op"], 1.52; got != want {
		t.Errorf("queue ns/op = %v, want %v", got, want)
	}
	if got, want := a.values["BenchmarkRun1M result_MiB"], 3.25; got != want {
		t.Errorf("result_MiB = %v, want %v", got, want)
	}
	if got, want := a.pilot["open one (by id)"][1], "2.0 ms"; got != want {
		t.Errorf("pilot p95 = %q, want %q", got, want)
	}
	if got, want := len(a.header), 3; got != want {
		t.Errorf("header lines = %d, want %d", got, want)
	}
	b, _ := parse(strings.NewReader(strings.ReplaceAll(sample, "4.2 ms", "2.1 ms")))
	var sb strings.Builder
	write(&sb, a, b)
	doc := sb.String()
	for _, want := range []string{"| staff queue | 3.1 ms | 4.2 ms | 2.1 ms | 2.00× | 2.1 ms | 2.00× |",
		"| BenchmarkRun1M | input_MiB | 12.50 | 12.50 | 1.00× |", "intake: API 700 filings/s", "| commit | abc1234 | abc1234 |"} {
		if !strings.Contains(doc, want) {
			t.Errorf("document lacks %q:\n%s", want, doc)
		}
	}
}

func TestMedianOfRuns(t *testing.T) {
	var runs []*run
	for _, p95 := range []string{"4.2 ms", "9.9 ms", "3.0 ms"} {
		r, err := parse(strings.NewReader(strings.ReplaceAll(strings.ReplaceAll(sample, "4.2 ms", p95), "abc1234", "c-"+p95)))
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}
	runs[1].values["BenchmarkQueues/cases=1000/community_queue ms/op"] = 9
	m := median(runs)
	if got, want := m.pilot["staff queue"], [5]string{"3.1 ms", "4.2 ms", "1.0 ms", "2.1 ms", "2.00×"}; got != want {
		t.Errorf("median staff queue = %q, want %q", got, want)
	}
	if got, want := m.values["BenchmarkQueues/cases=1000/community_queue ms/op"], 1.52; got != want {
		t.Errorf("median queue = %v, want %v", got, want)
	}
	if got, want := headerOf(m, "commit"), "c-4.2 ms · c-9.9 ms · c-3.0 ms"; got != want {
		t.Errorf("commit header = %q, want %q", got, want)
	}
	if got, want := headerOf(m, "date"), "2026-12-08 04:00 CST"; got != want {
		t.Errorf("date header = %q, want %q", got, want)
	}
}
