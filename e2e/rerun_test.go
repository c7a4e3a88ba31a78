package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

type runView struct {
	RunID       string `json:"run_id"`
	State       string `json:"state"`
	Applied     int    `json:"applied"`
	FundedCases int    `json:"funded_cases"`
	FundedFen   int64  `json:"funded_fen"`
	Failed      []any  `json:"failed"`
}

// TestKilledRunRePostedOverHTTP: an allocation run is SIGKILLed while it
// reserves, on a line that already holds other reservations; after the
// restart 8 clients re-POST the same run id at once. Every funded case ends
// reserved once and `minsheng check` exits 0.
func TestKilledRunRePostedOverHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the real binary")
	}
	t.Parallel()
	s := newServer(t)
	s.start()
	c := newClient(s)
	tk := setupUsers(t, c)
	var me struct {
		ID string `json:"id"`
	}
	c.must(t, "GET", "/me", tk.cadre, nil, nil, &me, 200)
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	var line lineView
	c.must(t, "POST", "/budget/lines", tk.finance, nil, map[string]any{
		"fiscal_year": year, "sub_district": "jinrongjie", "item_code": "SQ-05-04", "project_name": "旱厕改造（分配重放）", "approved_fen": 10_000_000,
	}, &line, 201)
	newCase := func(i int, assess bool) string {
		var cv caseView
		c.must(t, "POST", "/cases", tk.cadre, map[string]string{"Idempotency-Key": fmt.Sprintf("run-case-%02d", i)}, caseBody(i), &cv, 201)
		c.must(t, "POST", "/cases/"+cv.ID+"/accept", tk.street, nil, map[string]any{"version": cv.Version}, &cv, 200)
		c.must(t, "POST", "/cases/"+cv.ID+"/catalog-item", tk.street, nil, map[string]any{"version": cv.Version, "item_code": "SQ-05-04"}, &cv, 200)
		if assess {
			c.must(t, "POST", "/cases/"+cv.ID+"/assign", tk.street, nil, map[string]any{"version": cv.Version, "cadre_id": me.ID}, &cv, 200)
			c.must(t, "POST", "/cases/"+cv.ID+"/assess", tk.cadre, nil, map[string]any{"version": cv.Version, "estimate_fen": 20_000 + int64(i)*1_000, "households": 5, "risk": 1}, &cv, 200)
		}
		return cv.ID
	}
	for i := range 3 {
		c.must(t, "POST", "/cases/"+newCase(i, false)+"/budget-link", tk.street, nil, map[string]any{"line_id": line.ID, "estimate_fen": 10_000}, nil, 201)
	}
	const needs = 30
	for i := range needs {
		newCase(10+i, true)
	}
	getLine := func() lineView {
		var l lineView
		c.must(t, "GET", "/budget/lines/"+line.ID, tk.finance, nil, nil, &l, 200)
		return l
	}
	seeded := getLine().CommittedFen

	body := map[string]any{"run_id": uuid.NewString(), "fiscal_year": year, "sub_district": "jinrongjie"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _, _ = c.do("POST", "/allocation/runs", tk.street, nil, body, nil)
	}()
	// Kill once the run has begun reserving.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		code, _, err := c.do("GET", "/budget/lines/"+line.ID, tk.finance, nil, nil, &line)
		if err == nil && code == 200 && line.CommittedFen > seeded {
			break
		}
	}
	s.kill()
	<-done
	c.reset()
	killedAt := line.CommittedFen - seeded
	s.start()

	var mu sync.Mutex
	var reports []runView
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var r runView
			code, data, err := c.do("POST", "/allocation/runs", tk.street, nil, body, &r)
			if err != nil || (code != http.StatusOK && code != http.StatusCreated) {
				t.Errorf("client %d: %d %v %s", i, code, err, data)
				return
			}
			mu.Lock()
			reports = append(reports, r)
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	after := getLine()
	held := map[string]int{}
	for _, r := range after.Reservations {
		if r.State == "reserved" || r.State == "spent" {
			held[r.CaseID]++
		}
	}
	for id, n := range held {
		if n != 1 {
			t.Errorf("case %s reserved %d times", id, n)
		}
	}
	for _, r := range reports {
		if r.State != "done" || r.Applied != r.FundedCases || len(r.Failed) != 0 {
			t.Errorf("report: state %s applied %d of %d funded, failed %v", r.State, r.Applied, r.FundedCases, r.Failed)
		}
		if after.CommittedFen != seeded+r.FundedFen {
			t.Errorf("committed %d, want seeded %d + funded %d", after.CommittedFen, seeded, r.FundedFen)
		}
	}
	if len(reports) > 0 {
		t.Logf("killed with %d fen reserved by the run; after 8 simultaneous re-POSTs: %d funded cases, %d live reservations on the line",
			killedAt, reports[0].FundedCases, len(held))
	}
	c.reset()
	s.stop()
	if out, err := s.runCheck(); err != nil {
		t.Errorf("minsheng check: %v\n%s", err, out)
	}
}
