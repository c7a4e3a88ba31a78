package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"minsheng/internal/app"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"encoding/json"
	"io"

	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/idem"
	"minsheng/internal/org"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

// BenchmarkIntake measures one filing through POST /api/v1/cases and each
// of the parts it is made of, alone, on a store already holding n cases,
// against the raw driver's InsertOne of the same case document. It prints
// the breakdown and the ratio of the rates, then the concurrent rows: C
// clients (MINSHENG_BENCH_INTAKE_CLIENTS, default 4, 8, 16) filing at
// once against C goroutines inserting the same documents raw, each
// MINSHENG_BENCH_CONCURRENT_FILINGS (200) of them:
//
//	go test -run '^$' -bench Intake -benchtime 1x -timeout 30m ./bench/
func BenchmarkIntake(b *testing.B) {
	n := envInt("MINSHENG_BENCH_CASES", 10_000)
	m := envInt("MINSHENG_BENCH_FILINGS", 600)
	ctx := context.Background()
	st := storetest.New(b)
	dir := org.Xicheng()
	subs := pilotSubs(dir)
	sub0 := subs[0].Code
	comm0 := dir.CommunitiesOf(sub0)[0].Code
	for range b.N {
		if err := st.EnsureIndexes(ctx, app.Indexes()); err != nil {
			b.Fatal(err)
		}
		if err := st.Collection("cases").InsertMany(ctx, spreadCases(dir, subs, n)); err != nil {
			b.Fatal(err)
		}
		w := wire(b, st)
		if _, err := w.cases.RepairSummaries(ctx); err != nil {
			b.Fatal(err)
		}
		// One cadre per 50 filings keeps every filing under the per-user
		// limit, as a community's cadres share the work (three rows' worth
		// of filings, or attempts, go through the API, and the refusals
		// alone after them).
		var cadres []string
		var principals []auth.Principal
		for i := range (4*m + 49) / 50 {
			tok := w.login(b, fmt.Sprintf("cadre%d", i), auth.RoleCadre, comm0)
			cadres = append(cadres, tok)
			p, err := w.auth.Authenticate(ctx, tok)
			if err != nil {
				b.Fatal(err)
			}
			principals = append(principals, p)
		}
		body := func(i int) map[string]any {
			return map[string]any{"area": "CG", "title": fmt.Sprintf("%s %d", titles[i%len(titles)], i),
				"description": strings.Repeat("居民反映该问题已持续一段时间，请尽快处理。", 12), "community": comm0, "address": "1号院",
				"contact_name": "张三", "contact_phone": "13800000000", "households": 3}
		}
		// post files body with token, as w.call does but with the given
		// Accept-Encoding and without logging refusals.
		post := func(token, encoding, key string, bd map[string]any) int {
			j, _ := json.Marshal(bd)
			req, _ := http.NewRequest("POST", w.base+"/cases", bytes.NewReader(j))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			if encoding != "" {
				req.Header.Set("Accept-Encoding", encoding)
			}
			if key != "" {
				req.Header.Set("Idempotency-Key", key)
			}
			res, err := w.hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.ReadAll(res.Body)
			res.Body.Close()
			return res.StatusCode
		}
		type part struct {
			name string
			t    timings
		}
		var parts []part
		measure := func(name string, fn func(i int)) timings {
			t := timeIt(m, fn)
			parts = append(parts, part{name, t})
			return t
		}

		rawColl := st.Collection("cases_raw")
		var rawIdx []store.Index
		for _, ix := range cases.Indexes {
			if ix.Collection == "cases" {
				ix.Collection = "cases_raw"
				rawIdx = append(rawIdx, ix)
			}
		}
		if err := st.EnsureIndexes(ctx, rawIdx); err != nil {
			b.Fatal(err)
		}
		// The API rows and the raw insert alternate, one of each per step,
		// so a loaded machine weighs on all of them alike.
		var raw, api, plain, refused, keyed timings
		for i := range m {
			c := caseDoc(n+i, fmt.Sprintf("raw-%07d", i), sub0, comm0, time.Now())
			c.Number = fmt.Sprintf("RAW-%07d", i)
			start := time.Now()
			if err := rawColl.InsertOne(ctx, c); err != nil {
				b.Fatal(err)
			}
			raw = append(raw, time.Since(start))
			start = time.Now()
			if code := w.call(b, "POST", "/cases", cadres[i/50], body(i), nil); code != http.StatusCreated {
				b.Fatalf("submit: %d", code)
			}
			api = append(api, time.Since(start))
			// Every address may file 600 times an hour: the rows without
			// gzip and with a key take turns.
			start = time.Now()
			if i%2 == 0 {
				if code := post(cadres[(m+i)/50], "identity", "", body(m+i)); code != http.StatusCreated {
					b.Fatalf("submit without gzip: %d", code)
				}
				plain = append(plain, time.Since(start))
			} else {
				if code := post(cadres[(m+i)/50], "", fmt.Sprintf("bench-filing-%08d", i), body(m+i)); code != http.StatusCreated {
					b.Fatalf("submit with a key: %d", code)
				}
				keyed = append(keyed, time.Since(start))
			}
			bad := body(i)
			bad["title"] = ""
			start = time.Now()
			if code := post(cadres[(2*m+i)/50], "", "", bad); code != http.StatusBadRequest {
				b.Fatalf("refused filing: %d", code)
			}
			refused = append(refused, time.Since(start))
		}
		parts = append(parts, part{"raw InsertOne (cases_raw, same indexes)", raw}, part{"API POST /api/v1/cases", api},
			part{"  the same without gzip (Accept-Encoding: identity)", plain},
			part{"  HTTP, auth, limit, JSON decode, refused at validation (400)", refused},
			part{"API POST with an Idempotency-Key (record claimed, then its answer stored)", keyed})
		// The refusal alone, one after another with no write between: what
		// HTTP, the sign-in, the limit and the JSON check cost by themselves
		// (between the writes above, they share the cores with the engine's
		// work after each).
		measure("  the same refusal alone, one after another", func(i int) {
			bad := body(i)
			bad["title"] = ""
			if code := post(cadres[(3*m+i)/50], "", "", bad); code != http.StatusBadRequest {
				b.Fatalf("refused filing: %d", code)
			}
		})
		measure("  auth: token check (Authenticate)", func(i int) {
			if _, err := w.auth.Authenticate(ctx, cadres[i/50]); err != nil {
				b.Fatal(err)
			}
		})
		measure("  rate limit (AllowFiling)", func(i int) {
			// Another user each time, so the limit never answers 429.
			p := principals[0]
			p.UserID = fmt.Sprintf("bench-limit-%d", i)
			if err := w.auth.AllowFiling(ctx, auth.Attempt{Principal: p, IP: fmt.Sprintf("198.51.100.%d", i%250)}); err != nil {
				b.Fatal(err)
			}
		})
		measure("  rate limit with Idempotency-Key", func(i int) {
			p := principals[0]
			p.UserID = fmt.Sprintf("bench-limitk-%d", i)
			if err := w.auth.AllowFiling(ctx, auth.Attempt{Principal: p, IP: fmt.Sprintf("198.51.100.%d", i%250), IdempotencyKey: fmt.Sprintf("bench-key-%08d", i)}); err != nil {
				b.Fatal(err)
			}
		})
		records := idem.New(st, idem.Config{})
		answer := []byte(strings.Repeat(`{"case":"…"}`, 250))
		measure("  with a key: claim the record (insert)", func(i int) {
			if prev, err := records.Begin(ctx, idem.ID("user:bench", "POST /api/v1/cases", fmt.Sprintf("k-%08d", i)), "POST /api/v1/cases", "h"); err != nil || prev != nil {
				b.Fatalf("claim: %v %v", prev, err)
			}
		})
		measure("  with a key: store its answer (Finish: read the claim, insert the answer)", func(i int) {
			if err := records.Finish(ctx, idem.ID("user:bench", "POST /api/v1/cases", fmt.Sprintf("k-%08d", i)), 201, "application/json", answer); err != nil {
				b.Fatal(err)
			}
		})
		measure("  case number, one $inc per filing (before)", func(int) {
			if _, err := st.NextSequence(ctx, "case_number_BENCH"); err != nil {
				b.Fatal(err)
			}
		})
		sums := st.Collection("case_summaries")
		measure("  summary insert (raw, case_summaries)", func(i int) {
			c := caseDoc(n+i, fmt.Sprintf("sum-%07d", i), sub0, comm0, time.Now())
			doc := bson.D{{Key: "_id", Value: c.ID}, {Key: "number", Value: c.Number}, {Key: "sub_district", Value: sub0},
				{Key: "community", Value: comm0}, {Key: "status", Value: string(c.Status)}, {Key: "area", Value: c.Area},
				{Key: "title", Value: c.Title}, {Key: "filed_at", Value: c.FiledAt}, {Key: "due_at", Value: c.DueAt}, {Key: "version", Value: int64(1)}}
			if err := sums.InsertOne(ctx, doc); err != nil {
				b.Fatal(err)
			}
		})
		casesColl := st.Collection("cases")
		measure("  case insert (raw, cases with n cases)", func(i int) {
			c := caseDoc(n+i, fmt.Sprintf("ins-%07d", i), sub0, comm0, time.Now())
			c.Number = fmt.Sprintf("INS-%07d", i)
			if err := casesColl.InsertOne(ctx, c); err != nil {
				b.Fatal(err)
			}
		})
		measure("  case + summary inserts (raw, one after the other)", func(i int) {
			c := caseDoc(n+i, fmt.Sprintf("two-%07d", i), sub0, comm0, time.Now())
			c.Number = fmt.Sprintf("TWO-%07d", i)
			if err := sums.InsertOne(ctx, bson.D{{Key: "_id", Value: c.ID}, {Key: "number", Value: c.Number}, {Key: "sub_district", Value: sub0},
				{Key: "community", Value: comm0}, {Key: "status", Value: string(c.Status)}, {Key: "area", Value: c.Area},
				{Key: "title", Value: c.Title}, {Key: "filed_at", Value: c.FiledAt}, {Key: "due_at", Value: c.DueAt}, {Key: "version", Value: int64(1)}}); err != nil {
				b.Fatal(err)
			}
			if err := casesColl.InsertOne(ctx, c); err != nil {
				b.Fatal(err)
			}
		})
		measure("  case + summary inserts (raw, both at once)", func(i int) {
			c := caseDoc(n+i, fmt.Sprintf("par-%07d", i), sub0, comm0, time.Now())
			c.Number = fmt.Sprintf("PAR-%07d", i)
			done := make(chan error, 1)
			go func() {
				done <- sums.InsertOne(ctx, bson.D{{Key: "_id", Value: c.ID}, {Key: "number", Value: c.Number}, {Key: "sub_district", Value: sub0},
					{Key: "community", Value: comm0}, {Key: "status", Value: string(c.Status)}, {Key: "area", Value: c.Area},
					{Key: "title", Value: c.Title}, {Key: "filed_at", Value: c.FiledAt}, {Key: "due_at", Value: c.DueAt}, {Key: "version", Value: int64(1)}})
			}()
			err := casesColl.InsertOne(ctx, c)
			if serr := <-done; err == nil {
				err = serr
			}
			if err != nil {
				b.Fatal(err)
			}
		})
		measure("  domain Submit (no HTTP)", func(i int) {
			p := principals[i/50]
			in := cases.NewCase{Area: "CG", Title: fmt.Sprintf("%s d%d", titles[i%len(titles)], i),
				Description: strings.Repeat("居民反映该问题已持续一段时间，请尽快处理。", 12), Community: comm0, Address: "1号院",
				ContactName: "张三", ContactPhone: "13800000000", Households: 3}
			if _, _, err := w.cases.Submit(ctx, p, in); err != nil {
				b.Fatal(err)
			}
		})
		total := func(t timings) time.Duration {
			var s time.Duration
			for _, d := range t {
				s += d
			}
			return s
		}
		ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
		fmt.Printf("\nminsheng intake benchmark: %d cases stored, %d filings per row\n", n, m)
		tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "part\tmean\tp50\tp95\t")
		for _, p := range parts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", p.name, ms(total(p.t)/time.Duration(len(p.t))), ms(p.t.pct(50)), ms(p.t.pct(95)))
		}
		tw.Flush()
		apiRate := float64(m) / total(api).Seconds()
		rawRate := float64(m) / total(raw).Seconds()
		fmt.Printf("intake: API %.0f filings/s, raw %.0f inserts/s, ratio %.2f× (of the p50s %.2f×)\n", apiRate, rawRate, apiRate/rawRate,
			float64(raw.pct(50))/float64(api.pct(50)))
		// Concurrent clients: what a server's intake rate is when
		// residents and cadres file at the same time.
		printConcurrent(concurrentIntake(b, w, sub0, comm0, n+m, envInt("MINSHENG_BENCH_CONCURRENT_FILINGS", 200)))
	}
}

// intakeClients are the client counts of the concurrent intake rows:
// MINSHENG_BENCH_INTAKE_CLIENTS (say "8" or "4,16"), by default 4, 8, 16.
func intakeClients() []int {
	var out []int
	for _, f := range strings.Split(os.Getenv("MINSHENG_BENCH_INTAKE_CLIENTS"), ",") {
		if c, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && c > 0 {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		out = []int{4, 8, 16}
	}
	return out
}

// concurrentRow is one concurrent intake row: the same number of filings
// through the API and of raw inserts, each from the same number of clients
// at once.
type concurrentRow struct {
	clients, count int
	api, raw       time.Duration // wall time of all of them
	apiT, rawT     timings       // each one's latency
}

func (r concurrentRow) rates() (api, raw float64) {
	return float64(r.count) / r.api.Seconds(), float64(r.count) / r.raw.Seconds()
}

// concurrently runs fn(i) for i in [0, count) from clients goroutines at
// once and returns the wall time and every call's latency.
func concurrently(clients, count int, fn func(i int)) (time.Duration, timings) {
	var next atomic.Int64
	lat := make(timings, count)
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				t := time.Now()
				fn(i)
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	return time.Since(start), lat
}

// concurrentIntake measures, for every client count, count filings
// through POST /api/v1/cases from that many clients at once (cadres of
// comm, 50 filings each, so no filing meets the per-user limit) against
// count raw InsertOne of the same case documents into cases_raw (indexed
// as cases) from as many goroutines, taking turns in four parts.
func concurrentIntake(b *testing.B, w *world, sub, comm string, seq, count int) []concurrentRow {
	b.Helper()
	ctx := context.Background()
	rawColl := w.st.Collection("cases_raw")
	var rawIdx []store.Index
	for _, ix := range cases.Indexes {
		if ix.Collection == "cases" {
			ix.Collection = "cases_raw"
			rawIdx = append(rawIdx, ix)
		}
	}
	if err := w.st.EnsureIndexes(ctx, rawIdx); err != nil {
		b.Fatal(err)
	}
	var rows []concurrentRow
	for ci, c := range intakeClients() {
		var tokens []string
		for k := range (count + 49) / 50 {
			tokens = append(tokens, w.login(b, fmt.Sprintf("ccadre%d-%d", ci, k), auth.RoleCadre, comm))
		}
		r := concurrentRow{clients: c, count: count}
		// In four parts, API and raw taking turns, so that a shared
		// machine's load weighs on both alike.
		const parts = 4
		for part := range parts {
			lo, hi := part*count/parts, (part+1)*count/parts
			d, t := concurrently(c, hi-lo, func(i int) {
				i += lo
				if code := w.call(b, "POST", "/cases", tokens[i/50], map[string]any{"area": "CG", "title": fmt.Sprintf("%s c%d-%d", titles[i%len(titles)], ci, i),
					"description": strings.Repeat("居民反映该问题已持续一段时间，请尽快处理。", 12), "community": comm, "address": "1号院",
					"contact_name": "张三", "contact_phone": "13800000000", "households": 3}, nil); code != http.StatusCreated {
					b.Errorf("concurrent submit: %d", code)
				}
			})
			r.api, r.apiT = r.api+d, append(r.apiT, t...)
			d, t = concurrently(c, hi-lo, func(i int) {
				i += lo
				doc := caseDoc(seq+i, fmt.Sprintf("craw-%d-%07d", ci, i), sub, comm, time.Now())
				doc.Number = fmt.Sprintf("CRAW-%d-%07d", ci, i)
				if err := rawColl.InsertOne(ctx, doc); err != nil {
					b.Error(err)
				}
			})
			r.raw, r.rawT = r.raw+d, append(r.rawT, t...)
		}
		rows = append(rows, r)
	}
	return rows
}

// printConcurrent prints the concurrent intake rows with their ratios.
func printConcurrent(rows []concurrentRow) {
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	fmt.Fprintln(tw, "concurrent intake\tfilings\tAPI /s\traw /s\tratio\tAPI p50\tAPI p95\traw p50\traw p95\t")
	for _, r := range rows {
		api, raw := r.rates()
		fmt.Fprintf(tw, "%d clients\t%d\t%.0f\t%.0f\t%.2f×\t%s\t%s\t%s\t%s\t\n", r.clients, r.count, api, raw, api/raw,
			ms(r.apiT.pct(50)), ms(r.apiT.pct(95)), ms(r.rawT.pct(50)), ms(r.rawT.pct(95)))
	}
	tw.Flush()
}
