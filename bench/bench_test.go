// Package bench measures the pilot's hot paths over HTTP, through the real
// server wired as cmd/minsheng wires it, on the engine under test (embedded
// FerretDB with the project's pushdown patch, or MongoDB when
// MINSHENG_TEST_MONGODB_URI is set), against the raw driver doing the same
// work on the same engine. It prints a table; it asserts no timing.
//
// Run (10,000 cases by default; MINSHENG_BENCH_CASES=50000 for the larger
// pilot, which takes a long time on a loaded machine):
//
//	go test -run '^$' -bench Pilot -benchtime 1x -timeout 60m ./bench/
package bench_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/crypto/bcrypt"

	"minsheng/budgetlink"
	"minsheng/budgetlink/catalog"
	"minsheng/budgetlink/ledger"
	"minsheng/cases"
	"minsheng/handlers"
	"minsheng/internal/app"
	"minsheng/internal/auth"
	"minsheng/internal/media"
	"minsheng/internal/org"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type smsBox struct {
	mu   sync.Mutex
	last map[string]string
}

func (b *smsBox) Send(_ context.Context, phone, text string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last[phone] = regexp.MustCompile(`\d{6}`).FindString(text)
	return nil
}

// world is the wired server and the handles the benchmark needs.
type world struct {
	st     *store.Store
	cases  *cases.Service
	ledger *budgetlink.Service
	auth   *auth.Service
	base   string
	hc     *http.Client
}

// wire does what `minsheng serve` does at start on an existing store:
// indexes, services, the interrupted summaries, the ledger check.
func wire(b *testing.B, st *store.Store) *world {
	b.Helper()
	ctx := context.Background()
	dir, logger := org.Xicheng(), storetest.Logger()
	acfg := auth.DefaultConfig([]byte(strings.Repeat("k", 32)), logger)
	acfg.BcryptCost = bcrypt.MinCost
	acfg.SMS = &smsBox{last: map[string]string{}}
	// Every benchmark client files from 127.0.0.1: the per-address limit
	// (600 an hour) would answer the concurrent intake rows 429. Checking
	// it costs the same whatever its N.
	acfg.FilePerIP = auth.Limit{N: 1_000_000, Window: time.Hour}
	// The intake row files 300 times as one cadre: lift the per-user limit
	// (60 an hour) the same way.
	acfg.FilePerUser = auth.Limit{N: 1_000_000, Window: time.Hour}
	// The soak's 16 clients search by text (/cases?text=) from one address
	// many times a minute: lift the search limits (60 a minute per user,
	// 120 per address) the same way.
	acfg.SearchPerUser = auth.Limit{N: 1_000_000, Window: time.Minute}
	acfg.SearchPerIP = auth.Limit{N: 1_000_000, Window: time.Minute}
	photos, err := media.NewLocal(b.TempDir(), []byte(strings.Repeat("m", 32)), handlers.MediaPath)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := app.Build(ctx, st, app.Options{Org: dir, Logger: logger, Auth: acfg, Photos: photos})
	if err != nil {
		b.Fatal(err)
	}
	authSvc, cs, ledger := svc.Auth, svc.Cases, svc.Budget
	if _, err := cs.EnsureSummaries(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := ledger.Check(ctx); err != nil {
		b.Fatal(err)
	}
	app := svc.Handler(handlers.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	b.Cleanup(func() { _ = app.Shutdown() })
	return &world{st: st, cases: cs, ledger: ledger, auth: authSvc, base: "http://" + ln.Addr().String() + "/api/v1",
		hc: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
}

func (w *world) call(b *testing.B, method, path, token string, body, out any) int {
	b.Helper()
	var r io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, w.base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := w.hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			b.Fatalf("%s %s: %v", method, path, err)
		}
	}
	if res.StatusCode >= 300 && res.StatusCode != http.StatusTooManyRequests {
		b.Logf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	return res.StatusCode
}

func (w *world) login(b *testing.B, name string, role auth.Role, scope string) string {
	b.Helper()
	ctx := context.Background()
	if _, err := w.auth.CreateUser(ctx, auth.NewUser{Username: name, Password: "password-" + name, Name: name, Role: role, Scope: scope}); err != nil {
		b.Fatal(err)
	}
	tok, err := w.auth.Login(ctx, name, "password-"+name, "192.0.2.1")
	if err != nil {
		b.Fatal(err)
	}
	return tok.AccessToken
}

// timings collects durations of one operation.
type timings []time.Duration

func (t timings) pct(p int) time.Duration {
	if len(t) == 0 {
		return 0
	}
	s := slices.Clone(t)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

func timeIt(n int, fn func(i int)) timings {
	out := make(timings, 0, n)
	for i := range n {
		start := time.Now()
		fn(i)
		out = append(out, time.Since(start))
	}
	return out
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

var titles = []string{"楼道照明损坏", "路灯不亮", "垃圾清运不及时", "小区停车难", "楼道堆物", "下水道堵塞", "健身器材损坏"}

// caseDoc is a case as filing leaves it, ~2 KB like a real one.
func caseDoc(i int, id, sub, comm string, filed time.Time) *cases.Case {
	areas := []string{"ZH", "DQ", "MS", "SQ", "CG", "PA"}
	statuses := []cases.Status{cases.StatusSubmitted, cases.StatusAccepted, cases.StatusAssigned, cases.StatusInProgress, cases.StatusClosed}
	st := statuses[i%len(statuses)]
	due := filed.Add(15 * 24 * time.Hour)
	if st == cases.StatusClosed {
		due = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return &cases.Case{
		ID: id, Number: fmt.Sprintf("XC2026-%07d", i+1), Area: areas[i%len(areas)],
		Title:       fmt.Sprintf("%s %d号楼", titles[i%len(titles)], i%300),
		Description: strings.Repeat("居民反映该问题已持续一段时间，影响日常生活，请尽快处理。", 12),
		Location:    cases.Location{SubDistrict: sub, Community: comm, Address: fmt.Sprintf("%d号院%d号楼", i%50, i%300)},
		Status:      st, FiledAt: filed, ResponseDueAt: filed.Add(24 * time.Hour), DueAt: due, Version: 1,
		Households: 1 + i%40, ContactName: "张三", ContactPhone: "13800000000",
		Timeline: []cases.Event{{At: filed, Actor: "res", Action: cases.ActSubmit, To: cases.StatusSubmitted, Note: "居民提交"}},
		Photos:   []cases.Photo{}, Cosigners: []string{},
	}
}

// pilotSubs is the 15 sub-districts the benchmarks spread cases over.
func pilotSubs(dir *org.Directory) []org.SubDistrict {
	subs := dir.District().SubDistricts
	return subs[:min(15, len(subs))]
}

// spreadCases is n case documents filed 10 minutes apart up to now, dealt
// round-robin over subs and, within each, over its communities.
func spreadCases(dir *org.Directory, subs []org.SubDistrict, n int) []any {
	base := time.Now().Add(-time.Duration(n) * 10 * time.Minute)
	docs := make([]any, n)
	for i := range docs {
		sub := subs[i%len(subs)].Code
		comms := dir.CommunitiesOf(sub)
		docs[i] = caseDoc(i, fmt.Sprintf("case-%07d", i), sub, comms[(i/len(subs))%len(comms)].Code, base.Add(time.Duration(i)*10*time.Minute))
	}
	return docs
}

func BenchmarkPilot(b *testing.B) {
	n := envInt("MINSHENG_BENCH_CASES", 10_000)
	iters := envInt("MINSHENG_BENCH_ITERS", 30)
	ctx := context.Background()
	st := storetest.New(b)
	dir := org.Xicheng()
	subs := pilotSubs(dir)
	sub0 := subs[0].Code
	comm0 := dir.CommunitiesOf(sub0)[0].Code
	for range b.N {
		// Seed n cases over 15 sub-districts through the driver, then let
		// the repair `minsheng check` runs build their summaries.
		if err := st.EnsureIndexes(ctx, app.Indexes()); err != nil {
			b.Fatal(err)
		}
		docs := spreadCases(dir, subs, n)
		var ids0 []string // submitted cases of sub0, for transitions
		var all0 []string
		for _, d := range docs {
			c := d.(*cases.Case)
			if c.Location.SubDistrict == sub0 {
				all0 = append(all0, c.ID)
				if c.Status == cases.StatusSubmitted {
					ids0 = append(ids0, c.ID)
				}
			}
		}
		// Cases for the assess and link rows: submitted in comm0 an hour
		// ago, classified to one 社区建设 project item of the year.
		cat, err := catalog.LoadCatalog(reportYear)
		if err != nil {
			b.Fatal(err)
		}
		var chainItem string
		for _, it := range cat.Items {
			if it.Area == "SQ" && it.ExpenseClass == catalog.CatalogProject {
				chainItem = it.Code
				break
			}
		}
		var chain []string
		for i := range iters {
			c := caseDoc(n+10_000+i, fmt.Sprintf("chain-%04d", i), sub0, comm0, time.Now().Add(-time.Hour))
			c.Number = fmt.Sprintf("XC2026-C%06d", i)
			c.Area, c.CatalogItem, c.Status, c.DueAt = "SQ", chainItem, cases.StatusSubmitted, c.FiledAt.Add(15*24*time.Hour)
			docs = append(docs, c)
			chain = append(chain, c.ID)
		}
		seedStart := time.Now()
		if err := st.Collection("cases").InsertMany(ctx, docs); err != nil {
			b.Fatal(err)
		}
		seed := time.Since(seedStart)

		// The first start on cases stored without summaries (a data
		// directory from before them) builds them all.
		firstAt := time.Now()
		w0 := wire(b, st)
		firstStart := time.Since(firstAt)
		checkStart := time.Now()
		if _, err := w0.cases.RepairSummaries(ctx); err != nil {
			b.Fatal(err)
		}
		checkSummaries := time.Since(checkStart)
		if _, err := w0.ledger.Check(ctx); err != nil {
			b.Fatal(err)
		}
		check := time.Since(checkStart)
		// The summary repair again, on a store no longer fresh from the
		// bulk build (the first scans after it read a large WAL).
		againAt := time.Now()
		if _, err := w0.cases.RepairSummaries(ctx); err != nil {
			b.Fatal(err)
		}
		checkAgain := time.Since(againAt)
		startAt := time.Now()
		w := wire(b, st) // a restart on the seeded store
		start := time.Since(startAt)

		staff := w.login(b, "staff", auth.RoleSubdistrict, sub0)
		cadre := w.login(b, "cadre", auth.RoleCadre, comm0)

		type row struct {
			name      string
			api, raw  timings
			rawSimple string
		}
		var rows []row
		sums := st.Collection("case_summaries")
		casesColl := st.Collection("cases")
		rawList := func(q bson.D, sort bson.D) {
			var s []struct {
				ID string `bson:"_id"`
			}
			if err := sums.FindAll(ctx, q, &s, options.Find().SetSort(sort).SetLimit(21)); err != nil {
				b.Fatal(err)
			}
			ids := make([]string, len(s))
			for i := range s {
				ids[i] = s[i].ID
			}
			var found []cases.Case
			if err := casesColl.FindAll(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, &found); err != nil {
				b.Fatal(err)
			}
		}
		byFiled := bson.D{{Key: "filed_at", Value: -1}, {Key: "_id", Value: -1}}
		byDue := bson.D{{Key: "due_at", Value: 1}, {Key: "_id", Value: 1}}
		now := time.Now()
		lists := []struct {
			name, path, token string
			q, sort           bson.D
		}{
			{"staff queue", "/cases?status=submitted", staff, bson.D{{Key: "status", Value: "submitted"}, {Key: "sub_district", Value: sub0}}, byFiled},
			{"cadre queue", "/cases", cadre, bson.D{{Key: "community", Value: comm0}}, byFiled},
			{"overdue", "/cases?overdue=true&sort=deadline", staff, bson.D{{Key: "due_at", Value: bson.D{{Key: "$lt", Value: now}}}, {Key: "sub_district", Value: sub0}}, byDue},
			{"text search", "/cases?text=" + "路灯", staff, bson.D{{Key: "sub_district", Value: sub0}, {Key: "title", Value: bson.D{{Key: "$regex", Value: "路灯"}, {Key: "$options", Value: "i"}}}}, byFiled},
		}
		for _, l := range lists {
			api := timeIt(iters, func(int) {
				if code := w.call(b, "GET", l.path, l.token, nil, nil); code != 200 {
					b.Fatalf("%s: %d", l.path, code)
				}
			})
			raw := timeIt(iters, func(int) { rawList(l.q, l.sort) })
			rows = append(rows, row{name: l.name, api: api, raw: raw})
		}
		var first struct {
			Next string `json:"next_cursor"`
		}
		w.call(b, "GET", "/cases", staff, nil, &first)
		page2 := timeIt(iters, func(int) { w.call(b, "GET", "/cases?cursor="+first.Next, staff, nil, nil) })
		rows = append(rows, row{name: "second page", api: page2, raw: rows[0].raw, rawSimple: "(as staff queue)"})

		// One case opens in about a millisecond: thirty samples make its p95
		// the second-slowest call, so it takes twenty times as many.
		opens := iters * 20
		open := timeIt(opens, func(i int) { w.call(b, "GET", "/cases/"+all0[i%len(all0)], staff, nil, nil) })
		openRaw := timeIt(opens, func(i int) {
			var c cases.Case
			if err := casesColl.FindOne(ctx, bson.D{{Key: "_id", Value: all0[(i+7)%len(all0)]}}, &c); err != nil {
				b.Fatal(err)
			}
		})
		rows = append(rows, row{name: "open a case", api: open, raw: openRaw})

		k := min(iters, len(ids0)/2)
		accept := timeIt(k, func(i int) {
			if code := w.call(b, "POST", "/cases/"+ids0[i]+"/accept", staff, map[string]any{"version": 1}, nil); code != 200 {
				b.Fatalf("accept: %d", code)
			}
		})
		acceptRaw := timeIt(k, func(i int) {
			if _, err := casesColl.UpdateOne(ctx, bson.D{{Key: "_id", Value: ids0[k+i]}, {Key: "version", Value: int64(1)}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: cases.StatusAccepted}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}}}); err != nil {
				b.Fatal(err)
			}
		})
		rows = append(rows, row{name: "accept (transition)", api: accept, raw: acceptRaw})

		// Assess (the cadre, on site) and link (staff, to a line of the
		// sub-district), on cases accepted and assigned untimed first.
		var cadreID string
		{
			var me struct {
				ID     string `json:"id"`
				UserID string `json:"user_id"`
			}
			w.call(b, "GET", "/me", cadre, nil, &me)
			cadreID = cmp.Or(me.ID, me.UserID)
			if cadreID == "" {
				b.Fatal("GET /me: no id for the cadre")
			}
		}
		for _, id := range chain {
			if code := w.call(b, "POST", "/cases/"+id+"/accept", staff, map[string]any{"version": 1}, nil); code != 200 {
				b.Fatalf("accept %s: %d", id, code)
			}
			if code := w.call(b, "POST", "/cases/"+id+"/assign", staff, map[string]any{"version": 2, "cadre_id": cadreID}, nil); code != 200 {
				b.Fatalf("assign %s: %d", id, code)
			}
		}
		assess := timeIt(len(chain), func(i int) {
			if code := w.call(b, "POST", "/cases/"+chain[i]+"/assess", cadre, map[string]any{"version": 3, "estimate_fen": 120_000,
				"households": 4, "risk": 2, "elderly": 1, "disabled": 0, "note": "现场查看"}, nil); code != 200 {
				b.Fatalf("assess: %d", code)
			}
		})
		rows = append(rows, row{name: "assess (transition)", api: assess, raw: acceptRaw, rawSimple: "(as accept)"})
		line, err := w.ledger.CreateLine(ctx, auth.System, ledger.NewLine{FiscalYear: reportYear, SubDistrict: sub0, ItemCode: chainItem,
			ProjectName: "基准测试项目", ApprovedFen: int64(len(chain)) * 200_000})
		if err != nil {
			b.Fatal(err)
		}
		link := timeIt(len(chain), func(i int) {
			if code := w.call(b, "POST", "/cases/"+chain[i]+"/budget-link", staff, map[string]any{"line_id": line.ID}, nil); code != 201 && code != 200 {
				b.Fatalf("link: %d", code)
			}
		})
		rows = append(rows, row{name: "link to a line", api: link, raw: acceptRaw, rawSimple: "(as accept)"})

		// Intake: filings through the API (a cadre, so no per-address
		// limit) against raw inserts of the same documents one by one.
		// A filing takes a millisecond or two: 300 samples give its p95 the
		// weight the open row's 600 give it.
		m := iters * 10
		limited := 0
		intake := timeIt(m, func(i int) {
			code := w.call(b, "POST", "/cases", cadre, map[string]any{"area": "CG", "title": fmt.Sprintf("%s %d", titles[i%len(titles)], i),
				"description": strings.Repeat("居民反映该问题已持续一段时间，请尽快处理。", 12), "community": comm0, "address": "1号院",
				"contact_name": "张三", "contact_phone": "13800000000", "households": 3}, nil)
			if code == http.StatusTooManyRequests {
				limited++
			} else if code != 201 && code != 200 {
				b.Fatalf("submit: %d", code)
			}
		})
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
		intakeRaw := timeIt(m, func(i int) {
			c := caseDoc(n+i, fmt.Sprintf("raw-%07d", i), sub0, comm0, time.Now())
			c.Number = fmt.Sprintf("RAW-%07d", i)
			if err := rawColl.InsertOne(ctx, c); err != nil {
				b.Fatal(err)
			}
		})
		rows = append(rows, row{name: "intake (one filing)", api: intake, raw: intakeRaw})

		tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(os.Stdout, "\nminsheng pilot benchmark: %d cases over %d sub-districts, %d iterations each\n", n, len(subs), iters)
		fmt.Fprintln(tw, "operation\tAPI p50\tAPI p95\traw p50\traw p95\tp95 ratio\t")
		ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
		for _, r := range rows {
			ratio := fmt.Sprintf("%.2f×", float64(r.api.pct(95))/float64(max(r.raw.pct(95), 1)))
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", r.name, ms(r.api.pct(50)), ms(r.api.pct(95)), ms(r.raw.pct(50)), ms(r.raw.pct(95)), ratio)
		}
		tw.Flush()
		total := func(t timings) time.Duration {
			var s time.Duration
			for _, d := range t {
				s += d
			}
			return s
		}
		apiRate := float64(m) / total(intake).Seconds()
		rawRate := float64(m) / total(intakeRaw).Seconds()
		fmt.Printf("intake: API %.0f filings/s, raw %.0f inserts/s, ratio %.2f× (%d of %d answered 429)\n", apiRate, rawRate, apiRate/rawRate, limited, m)
		// The same from C clients at once (MINSHENG_BENCH_INTAKE_CLIENTS,
		// default 4, 8, 16), which group commit serves (bench/intake_test.go).
		printConcurrent(concurrentIntake(b, w, sub0, comm0, n+m, envInt("MINSHENG_BENCH_CONCURRENT_FILINGS", 200)))
		fmt.Printf("seed (raw InsertMany): %d cases in %s (%.0f/s)\n", n, seed.Round(time.Millisecond), float64(n)/seed.Seconds())
		fmt.Printf("first start, building every summary from the raw cases: %s\n", firstStart.Round(time.Millisecond))
		fmt.Printf("check (summaries compared + ledger check): %s (summaries %s, ledger %s)\n", check.Round(time.Millisecond),
			checkSummaries.Round(time.Millisecond), (check - checkSummaries).Round(time.Millisecond))
		fmt.Printf("summary repair again, on the settled store: %s\n", checkAgain.Round(time.Millisecond))
		fmt.Printf("server start on the seeded store (indexes, interrupted summaries, ledger check, listen): %s\n", start.Round(time.Millisecond))

		// Before: the same staff queue on the cases themselves, as the
		// lists queried them before the summaries (location.* is never
		// pushed down), once.
		oldStart := time.Now()
		var old []cases.Case
		if err := casesColl.FindAll(ctx, bson.D{{Key: "location.sub_district", Value: sub0}, {Key: "status", Value: "submitted"}}, &old,
			options.Find().SetSort(byFiled).SetLimit(21)); err != nil {
			// At 50,000 cases it outlives the store's 10 s deadline.
			fmt.Printf("before (staff queue on the cases, raw driver, once): failed after %s: %v\n", time.Since(oldStart).Round(time.Millisecond), err)
		} else {
			fmt.Printf("before (staff queue on the cases, raw driver, once): %s\n", time.Since(oldStart).Round(time.Millisecond))
		}
	}
}
