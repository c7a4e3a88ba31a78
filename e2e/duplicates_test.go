package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

type adjView struct {
	ID    string `json:"id"`
	State string `json:"state"`
}

// TestSimultaneousDuplicatesOverHTTP is issue 8 items 1 and 2 against the
// real binary: amounts beyond the bound are refused with 400/409 and never
// stored; 12 simultaneous identical adjustments (one Idempotency-Key),
// transfers and budget links, on lines that already hold other entries,
// move money once, over 5 rounds; transfers cut off by SIGKILL and retried
// with their keys are debited once and credited once. `minsheng check`
// exits 0 afterwards.
func TestSimultaneousDuplicatesOverHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the real binary")
	}
	t.Parallel()
	s := newServer(t)
	s.start()
	c := newClient(s)
	tk := setupUsers(t, c)
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()

	newLine := func(item, name string, approved int64) lineView {
		var l lineView
		c.must(t, "POST", "/budget/lines", tk.finance, nil, map[string]any{
			"fiscal_year": year, "sub_district": "jinrongjie", "item_code": item, "project_name": name, "approved_fen": approved,
		}, &l, 201)
		return l
	}
	getLine := func(id string) lineView {
		var l lineView
		c.must(t, "GET", "/budget/lines/"+id, tk.finance, nil, nil, &l, 200)
		return l
	}
	newCase := func(i int) string {
		var cv caseView
		c.must(t, "POST", "/cases", tk.cadre, map[string]string{"Idempotency-Key": fmt.Sprintf("dup-case-%02d", i)}, caseBody(i), &cv, 201)
		c.must(t, "POST", "/cases/"+cv.ID+"/accept", tk.street, nil, map[string]any{"version": cv.Version}, &cv, 200)
		c.must(t, "POST", "/cases/"+cv.ID+"/catalog-item", tk.street, nil, map[string]any{"version": cv.Version, "item_code": "SQ-05-04"}, &cv, 200)
		return cv.ID
	}
	a := newLine("SQ-05-04", "旱厕改造（并发重放）", 5_000_000)
	b := newLine("CG-01-02", "大件垃圾清运（并发重放）", 1_000_000)
	for i := range 3 {
		for _, l := range []lineView{a, b} {
			c.must(t, "POST", "/budget/lines/"+l.ID+"/adjustments", tk.finance, map[string]string{"Idempotency-Key": fmt.Sprintf("seed-%s-%d", l.ID, i)},
				map[string]any{"kind": "increase", "amount_fen": 100, "reason": "既有调增"}, nil, 201)
		}
		c.must(t, "POST", "/cases/"+newCase(i)+"/budget-link", tk.street, nil, map[string]any{"line_id": a.ID, "estimate_fen": 10_000}, nil, 201)
	}

	t.Run("amounts beyond the bound", func(t *testing.T) {
		before := getLine(a.ID)
		c.must(t, "POST", "/budget/lines/"+a.ID+"/adjustments", tk.finance, nil,
			map[string]any{"kind": "increase", "amount_fen": int64(9223372036854775807), "reason": "溢出"}, nil, 400)
		c.must(t, "POST", "/budget/lines", tk.finance, nil, map[string]any{
			"fiscal_year": year, "sub_district": "jinrongjie", "item_code": "SQ-05-04", "project_name": "批复溢出", "approved_fen": int64(9223372036854775807),
		}, nil, 400)
		full := newLine("SQ-05-04", "满额项目", 1_000_000_000_000)
		c.must(t, "POST", "/budget/lines/"+full.ID+"/adjustments", tk.finance, nil,
			map[string]any{"kind": "increase", "amount_fen": 1, "reason": "再加一分"}, nil, 409)
		if got := getLine(a.ID); got.AvailableFen != before.AvailableFen {
			t.Errorf("available %d after refusals, want %d", got.AvailableFen, before.AvailableFen)
		}
	})

	const copies = 12
	together := func(f func(i int)) {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				f(i)
			}()
		}
		close(start)
		wg.Wait()
	}
	adjustTogether := func(t *testing.T, line, key string, body map[string]any) {
		t.Helper()
		ids := make([]string, copies)
		together(func(i int) {
			var v adjView
			code, data, err := c.do("POST", "/budget/lines/"+line+"/adjustments", tk.finance, map[string]string{"Idempotency-Key": key}, body, &v)
			if err != nil || code != http.StatusCreated || v.State != "applied" {
				t.Errorf("copy %d: %d %v %s", i, code, err, data)
			}
			ids[i] = v.ID
		})
		for i := range ids {
			if ids[i] != ids[0] {
				t.Errorf("copy %d answered %s, copy 0 %s", i, ids[i], ids[0])
			}
		}
	}
	for round := range 5 {
		t.Run(fmt.Sprintf("round %d", round+1), func(t *testing.T) {
			ba, bb := getLine(a.ID), getLine(b.ID)
			adjustTogether(t, a.ID, fmt.Sprintf("increase-%d", round), map[string]any{"kind": "increase", "amount_fen": 1_000, "reason": "离线重发"})
			adjustTogether(t, a.ID, fmt.Sprintf("transfer-%d", round), map[string]any{"kind": "transfer", "to_line_id": b.ID, "amount_fen": 500, "reason": "离线重发调剂"})
			ga, gb := getLine(a.ID), getLine(b.ID)
			if ga.AvailableFen != ba.AvailableFen+500 || gb.AvailableFen != bb.AvailableFen+500 {
				t.Errorf("available a %d→%d, b %d→%d; want +500 each (raised 1000, moved 500 once)", ba.AvailableFen, ga.AvailableFen, bb.AvailableFen, gb.AvailableFen)
			}

			id := newCase(10 + round)
			before := getLine(a.ID)
			together(func(i int) {
				var lv linkView
				code, data, err := c.do("POST", "/cases/"+id+"/budget-link", tk.street, nil, map[string]any{"line_id": a.ID, "estimate_fen": 20_000}, &lv)
				if err != nil || code != http.StatusCreated || lv.ReservedFen != 20_000 {
					t.Errorf("link copy %d: %d %v %s", i, code, err, data)
				}
			})
			after := getLine(a.ID)
			n := 0
			for _, r := range after.Reservations {
				if r.CaseID == id && (r.State == "reserved" || r.State == "spent") {
					n++
				}
			}
			if n != 1 || after.CommittedFen != before.CommittedFen+20_000 {
				t.Errorf("case held %d times, committed %d→%d; want once, +20000", n, before.CommittedFen, after.CommittedFen)
			}
		})
	}

	// Transfers of 150 元 cut off by SIGKILL, then retried with their keys.
	for round := range 2 {
		const n, amount = 20, 15_000
		ba, bb := getLine(a.ID), getLine(b.ID)
		ks := newKillSwitch(4)
		finished := make(chan struct{})
		send := func(i int) (int, []byte, error) {
			return c.do("POST", "/budget/lines/"+a.ID+"/adjustments", tk.finance, map[string]string{"Idempotency-Key": fmt.Sprintf("kill-%d-%02d", round, i)},
				map[string]any{"kind": "transfer", "to_line_id": b.ID, "amount_fen": amount, "reason": "跨项目调剂（故障测试）"}, nil)
		}
		var mu sync.Mutex
		answered, cut := 0, 0
		go func() {
			defer close(finished)
			parallel(n, 6, func(i int) {
				code, _, err := send(i)
				mu.Lock()
				if err != nil {
					cut++
				} else if code == http.StatusCreated {
					answered++
				}
				mu.Unlock()
				if err == nil && code == http.StatusCreated {
					ks.success()
				}
			})
		}()
		select {
		case <-ks.ch:
		case <-finished:
		}
		s.kill()
		<-finished
		c.reset()
		t.Logf("kill round %d: %d transfers answered 201, %d failed in transit (in flight at the SIGKILL or sent after it), %d other", round+1, answered, cut, n-answered-cut)
		s.start()
		if rec := s.startCheck(); rec != nil {
			if p, _ := rec["problems"].([]any); len(p) > 0 {
				t.Errorf("start check after kill %d found problems: %v", round+1, p)
			}
		}
		parallel(n, 6, func(i int) {
			code, body, err := retry(t, 20, func() (int, []byte, error) { return send(i) })
			if err != nil || code != http.StatusCreated {
				t.Errorf("kill round %d, transfer %d: %d %v %s", round+1, i, code, err, body)
			}
		})
		ga, gb := getLine(a.ID), getLine(b.ID)
		if ga.AvailableFen != ba.AvailableFen-n*amount || gb.AvailableFen != bb.AvailableFen+n*amount {
			t.Errorf("kill round %d: a %d→%d, b %d→%d; want each of %d transfers debited once and credited once (∓%d)",
				round+1, ba.AvailableFen, ga.AvailableFen, bb.AvailableFen, gb.AvailableFen, n, n*amount)
		}
	}

	c.reset()
	s.stop()
	if out, err := s.runCheck(); err != nil {
		t.Errorf("minsheng check: %v\n%s", err, out)
	} else {
		t.Logf("minsheng check:\n%s", out)
	}
}
