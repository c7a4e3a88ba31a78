package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
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
// the breakdown and the ratio of the rates:
//
//	go test -run '^$' -bench Intake -benchtime 1x -timeout 30m ./bench/
func BenchmarkIntake(b *testing.B) {
	n := envInt("MINSHENG_BENCH_CASES", 10_000)
	m := envInt("MINSHENG_BENCH_FILINGS", 200)
	ctx := context.Background()
	st := storetest.New(b)
	dir := org.Xicheng()
	subs := pilotSubs(dir)
	sub0 := subs[0].Code
	comm0 := dir.CommunitiesOf(sub0)[0].Code
	for range b.N {
		for _, idx := range allIndexes {
			if err := st.EnsureIndexes(ctx, idx); err != nil {
				b.Fatal(err)
			}
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
		// of filings, or attempts, go through the API).
		var cadres []string
		var principals []auth.Principal
		for i := range (3*m + 49) / 50 {
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
	}
}
