// Command perfdoc writes docs/PERFORMANCE.md from the raw output of the
// benchmark runs bench/perf makes, so the figures in the document are the
// ones a run printed, with the date, the machine and the commit they came
// from. Given a second run (-before), every row is shown beside it with
// the ratio, so a change's cost is read off one table. Either side may name
// several runs, comma-separated: each figure is then the median of the
// runs, which a two-core machine's noise needs before a ratio means much.
//
//	go run ./bench/perfdoc -after a1.txt,a2.txt,a3.txt [-before b1.txt,b2.txt,b3.txt] > docs/PERFORMANCE.md
//
// It reads three kinds of lines: the header bench/perf writes (`# key:
// value`), Go's benchmark result lines (name, iterations, value unit
// pairs), and the rows of the pilot table (`operation  API p50  API p95
// raw p50  raw p95  p95 ratio`); other lines a benchmark prints are kept
// verbatim under "Printed by the benchmarks".
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// run is one benchmark run's output, parsed.
type run struct {
	header  [][2]string          // `# key: value`, in order
	values  map[string]float64   // "Benchmark…/sub unit" → value
	order   []string             // keys of values, in the order printed
	pilot   map[string][5]string // operation → API p50, API p95, raw p50, raw p95, ratio
	pilotOf []string             // operations in order
	printed []string
}

var (
	resultLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.+)$`)
	cols       = regexp.MustCompile(`\s{2,}`)
)

func parse(r io.Reader) (*run, error) {
	out := &run{values: map[string]float64{}, pilot: map[string][5]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	inPilot := false
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t")
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "# "):
			k, v, ok := strings.Cut(line[2:], ": ")
			if ok {
				out.header = append(out.header, [2]string{k, v})
			}
		case strings.HasPrefix(line, "goos:"), strings.HasPrefix(line, "goarch:"), strings.HasPrefix(line, "pkg:"),
			strings.HasPrefix(line, "cpu:"), line == "PASS", strings.HasPrefix(line, "ok "), strings.HasPrefix(line, "? "), strings.HasPrefix(line, "--- BENCH"),
			strings.HasPrefix(trimmed, "bench_test.go"), trimmed == "":
			// Go's own framing (the header carries the machine); it ends
			// the pilot's table too.
			inPilot = false
		case strings.HasPrefix(line, "minsheng pilot benchmark:"):
			inPilot = true
			out.printed = append(out.printed, line)
		case resultLine.MatchString(line):
			m := resultLine.FindStringSubmatch(line)
			f := strings.Fields(m[3])
			for i := 0; i+1 < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					continue
				}
				unit := f[i+1]
				if unit == "ns/op" { // read as milliseconds
					v, unit = v/1e6, "ms/op"
				}
				k := m[1] + " " + unit
				if _, seen := out.values[k]; !seen {
					out.order = append(out.order, k)
				}
				out.values[k] = v
			}
		case inPilot:
			f := cols.Split(trimmed, -1)
			switch {
			case len(f) == 6 && f[0] == "operation":
			case len(f) == 6:
				out.pilot[f[0]] = [5]string{f[1], f[2], f[3], f[4], f[5]}
				out.pilotOf = append(out.pilotOf, f[0])
			default: // the intake lines and the concurrent intake table
				out.printed = append(out.printed, line)
			}
		default:
			out.printed = append(out.printed, line)
		}
	}
	return out, sc.Err()
}

func load(path string) (*run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parse(f)
}

// loadAll reads each comma-separated path and merges the runs.
func loadAll(paths string) (*run, error) {
	var runs []*run
	for _, p := range strings.Split(paths, ",") {
		r, err := load(p)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return median(runs), nil
}

// median merges runs of the same benchmarks into one: every figure is the
// median of the runs that printed it, the pilot's ratio is recomputed from
// the median p95s, a header line lists each run's value where they differ,
// and what the benchmarks printed is the first run's.
func median(runs []*run) *run {
	if len(runs) == 1 {
		return runs[0]
	}
	out := &run{values: map[string]float64{}, pilot: map[string][5]string{}, printed: runs[0].printed}
	out.header = append(out.header, [2]string{"runs (each figure is their median)", strconv.Itoa(len(runs))})
	for _, kv := range runs[0].header {
		var each []string
		for _, r := range runs {
			each = append(each, headerOf(r, kv[0]))
		}
		if len(slices.Compact(slices.Clone(each))) == 1 {
			each = each[:1]
		}
		out.header = append(out.header, [2]string{kv[0], strings.Join(each, " · ")})
	}
	mid := func(vs []float64) float64 {
		slices.Sort(vs)
		if n := len(vs); n%2 == 0 {
			return (vs[n/2-1] + vs[n/2]) / 2
		}
		return vs[len(vs)/2]
	}
	for _, k := range runs[0].order {
		var vs []float64
		for _, r := range runs {
			if v, ok := r.values[k]; ok {
				vs = append(vs, v)
			}
		}
		out.order = append(out.order, k)
		out.values[k] = mid(vs)
	}
	for _, op := range runs[0].pilotOf {
		var cols [4][]float64
		for _, r := range runs {
			row, ok := r.pilot[op]
			for i := range cols {
				if v, okv := ms(row[i]); ok && okv {
					cols[i] = append(cols[i], v)
				}
			}
		}
		var row [5]string
		var m [4]float64
		for i := range cols {
			if len(cols[i]) > 0 {
				m[i] = mid(cols[i])
				row[i] = fmt.Sprintf("%.1f ms", m[i])
			}
		}
		if m[3] > 0 {
			row[4] = fmt.Sprintf("%.2f×", m[1]/m[3])
		}
		out.pilot[op] = row
		out.pilotOf = append(out.pilotOf, op)
	}
	return out
}

func main() {
	after := flag.String("after", "", "output of the run(s) to document, comma-separated (required)")
	before := flag.String("before", "", "output of earlier run(s) to compare with, comma-separated")
	flag.Parse()
	if *after == "" {
		flag.Usage()
		os.Exit(2)
	}
	a, err := loadAll(*after)
	if err != nil {
		fmt.Fprintln(os.Stderr, "perfdoc:", err)
		os.Exit(1)
	}
	var b *run
	if *before != "" {
		if b, err = loadAll(*before); err != nil {
			fmt.Fprintln(os.Stderr, "perfdoc:", err)
			os.Exit(1)
		}
	}
	write(os.Stdout, a, b)
}

// ratio is after ÷ before, or "" when either is missing or zero.
func ratio(after, before float64, ok bool) string {
	if !ok || before == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", after/before)
}

func num(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// ms reads "12.3 ms" as 12.3.
func ms(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, " ms"), 64)
	return v, err == nil
}

func write(w io.Writer, a, b *run) {
	fmt.Fprintln(w, "# Performance")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Generated by `go run ./bench/perfdoc` from the output of `bench/perf` — do not edit by hand; rerun")
	fmt.Fprintln(w, "`bash bench/perf` on a quiet machine instead. Every figure is what the run printed. Benchmarks time the real")
	fmt.Fprintln(w, "server and services on the engine under test; no test asserts a time.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| | this run |"+cond(b != nil, " earlier run |", ""))
	fmt.Fprintln(w, "| --- | --- |"+cond(b != nil, " --- |", ""))
	for _, kv := range a.header {
		row := "| " + kv[0] + " | " + kv[1] + " |"
		if b != nil {
			row += " " + headerOf(b, kv[0]) + " |"
		}
		fmt.Fprintln(w, row)
	}
	fmt.Fprintln(w)
	if len(a.pilotOf) > 0 {
		fmt.Fprintln(w, "## The pilot's hot paths over HTTP (BenchmarkPilot)")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "API is the request through the server; raw is the driver doing the same work on the same engine.")
		fmt.Fprintln(w)
		if b != nil {
			fmt.Fprintln(w, "| operation | API p50 | API p95 | raw p95 | API ÷ raw (p95) | earlier API p95 | this ÷ earlier (p95) |")
			fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
		} else {
			fmt.Fprintln(w, "| operation | API p50 | API p95 | raw p95 | API ÷ raw (p95) |")
			fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: |")
		}
		for _, op := range a.pilotOf {
			r := a.pilot[op]
			row := fmt.Sprintf("| %s | %s | %s | %s | %s |", op, r[0], r[1], r[3], r[4])
			if b != nil {
				old, ok := b.pilot[op]
				now, ok1 := ms(r[1])
				was, ok2 := ms(old[1])
				row += fmt.Sprintf(" %s | %s |", old[1], ratio(now, was, ok && ok1 && ok2))
			}
			fmt.Fprintln(w, row)
		}
		fmt.Fprintln(w)
	}
	if len(a.order) > 0 {
		fmt.Fprintln(w, "## Go benchmark results")
		fmt.Fprintln(w)
		if b != nil {
			fmt.Fprintln(w, "| benchmark | unit | this run | earlier run | this ÷ earlier |")
			fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: |")
		} else {
			fmt.Fprintln(w, "| benchmark | unit | value |")
			fmt.Fprintln(w, "| --- | --- | ---: |")
		}
		for _, k := range a.order {
			name, unit, _ := strings.Cut(k, " ")
			row := fmt.Sprintf("| %s | %s | %s |", strings.ReplaceAll(name, "|", "\\|"), unit, num(a.values[k]))
			if b != nil {
				was, ok := b.values[k]
				row += fmt.Sprintf(" %s | %s |", cond(ok, num(was), ""), ratio(a.values[k], was, ok))
			}
			fmt.Fprintln(w, row)
		}
		fmt.Fprintln(w)
	}
	if len(a.printed) > 0 {
		fmt.Fprintln(w, "## Printed by the benchmarks (this run)")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "```")
		for _, l := range a.printed {
			fmt.Fprintln(w, l)
		}
		fmt.Fprintln(w, "```")
	}
}

func headerOf(r *run, key string) string {
	for _, kv := range r.header {
		if kv[0] == key {
			return kv[1]
		}
	}
	return ""
}

func cond(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}
