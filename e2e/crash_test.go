package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type caseView struct {
	ID      string `json:"id"`
	Number  string `json:"number"`
	Version int64  `json:"version"`
	Status  string `json:"status"`
	Budget  *struct {
		LineID      string `json:"line_id"`
		EstimateFen int64  `json:"estimate_fen"`
		ReservedFen int64  `json:"reserved_fen"`
		SpentFen    int64  `json:"spent_fen"`
		State       string `json:"state"`
	} `json:"budget"`
}

type lineView struct {
	ID           string `json:"id"`
	ApprovedFen  int64  `json:"approved_fen"`
	AdjustedFen  int64  `json:"adjusted_fen"`
	CommittedFen int64  `json:"committed_fen"`
	SpentFen     int64  `json:"spent_fen"`
	AvailableFen int64  `json:"available_fen"`
	Reservations []struct {
		CaseID         string `json:"case_id"`
		ReleasedCaseID string `json:"released_case_id"`
		AmountFen      int64  `json:"amount_fen"`
		SpentFen       int64  `json:"spent_fen"`
		State          string `json:"state"`
	} `json:"reservations"`
}

type linkView struct {
	LineID      string `json:"line_id"`
	ReservedFen int64  `json:"reserved_fen"`
	State       string `json:"state"`
}

// outcome of one request: a status, or a transport error (the crash).
type outcome struct {
	code int
	err  error
	link linkView
}

// TestKillDuringBudgetLinks links 30 cases to one line that can fund only
// some of them, from several goroutines, and SIGKILLs the server while the
// links are in flight, twice. After the last restart (which runs the ledger check)
// every link is sent again, as a client does after a failure; then the
// line must add up, hold each case at most once, hold exactly the cases
// that were told 201, refuse only cases it truly could not fund, and every
// case's copy must agree with the line. `minsheng check` on the stopped
// data must find nothing left to repair by a person.
func TestKillDuringBudgetLinks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the real binary")
	}
	t.Parallel()
	s := newServer(t)
	s.start()
	c := newClient(s)
	tk := setupUsers(t, c)

	const (
		nCases      = 30
		approvedFen = 3_000_000
		workers     = 6
	)
	killRounds := []int{4, 10} // answers of 201 in a round before its SIGKILL
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	var line lineView
	c.must(t, "POST", "/budget/lines", tk.finance, nil, map[string]any{
		"fiscal_year": year, "sub_district": "jinrongjie", "item_code": "SQ-05-04",
		"project_name": "金融街旱厕改造（故障测试）", "approved_fen": approvedFen,
	}, &line, 201)

	ids := make([]string, nCases)
	estimate := make([]int64, nCases)
	total := int64(0)
	for i := range nCases {
		var cv caseView
		c.must(t, "POST", "/cases", tk.cadre, map[string]string{"Idempotency-Key": fmt.Sprintf("link-case-%02d", i)}, caseBody(i), &cv, 201)
		c.must(t, "POST", "/cases/"+cv.ID+"/accept", tk.street, nil, map[string]any{"version": cv.Version}, &cv, 200)
		c.must(t, "POST", "/cases/"+cv.ID+"/catalog-item", tk.street, nil, map[string]any{"version": cv.Version, "item_code": "SQ-05-04"}, &cv, 200)
		ids[i] = cv.ID
		estimate[i] = 100_000 + int64(i%5)*50_000 // 1,000–3,000 yuan; 30 of them ask twice what the line has
		total += estimate[i]
	}
	if total <= approvedFen {
		t.Fatalf("estimates %d fit the line %d; the test needs refusals", total, approvedFen)
	}

	link := func(i int) outcome {
		var lv linkView
		code, _, err := c.do("POST", "/cases/"+ids[i]+"/budget-link", tk.street, nil,
			map[string]any{"line_id": line.ID, "estimate_fen": estimate[i]}, &lv)
		return outcome{code: code, err: err, link: lv}
	}

	// Rounds of links in flight, each ended by the fault and a restart.
	// Each round starts at another case, so different cases are cut off.
	ever201 := make([]bool, nCases)
	ever409 := make([]bool, nCases)
	for round, killAfter := range killRounds {
		res := make([]outcome, nCases)
		ks := newKillSwitch(killAfter)
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			parallel(nCases, workers, func(j int) {
				i := (j + round*11) % nCases
				res[i] = link(i)
				if res[i].err == nil && res[i].code == http.StatusCreated {
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
		var ok, refused, failed int
		for i, o := range res {
			switch {
			case o.err != nil:
				failed++
			case o.code == http.StatusCreated:
				ok++
				ever201[i] = true
			case o.code == http.StatusConflict:
				refused++
				ever409[i] = true
			default:
				t.Errorf("round %d, case %d: unexpected status %d", round+1, i, o.code)
			}
		}
		t.Logf("round %d, SIGKILL after %d answers of 201: %d answered 201, %d refused (409), %d cut off by the crash",
			round+1, killAfter, ok, refused, failed)

		// Restart: the ledger check runs before the server listens.
		s.start()
		if rec := s.startCheck(); rec == nil {
			t.Error("no ledger check logged at start")
		} else {
			if p, _ := rec["problems"].([]any); len(p) > 0 {
				t.Errorf("start check found problems: %v", p)
			}
			fixes, _ := rec["fixes"].([]any)
			kinds := map[string]int{}
			for _, f := range fixes {
				if m, ok := f.(map[string]any); ok {
					kinds[fmt.Sprint(m["kind"])]++
				}
			}
			t.Logf("start check after crash %d repaired: %v", round+1, kinds)
		}
	}

	// Last: clients retry every link until it is answered.
	second := make([]outcome, nCases)
	parallel(nCases, workers, func(i int) {
		var lv linkView
		code, body, err := retry(t, 20, func() (int, []byte, error) {
			return c.do("POST", "/cases/"+ids[i]+"/budget-link", tk.street, nil,
				map[string]any{"line_id": line.ID, "estimate_fen": estimate[i]}, &lv)
		})
		second[i] = outcome{code: code, err: err, link: lv}
		if err == nil && code != http.StatusCreated && code != http.StatusConflict {
			second[i].err = fmt.Errorf("status %d: %s", code, body)
		}
	})

	// The line, from the API.
	c.must(t, "GET", "/budget/lines/"+line.ID, tk.finance, nil, nil, &line, 200)
	if got, want := line.CommittedFen+line.SpentFen+line.AvailableFen, line.ApprovedFen+line.AdjustedFen; got != want {
		t.Errorf("committed %d + spent %d + available %d = %d, want approved %d + adjusted %d = %d",
			line.CommittedFen, line.SpentFen, line.AvailableFen, got, line.ApprovedFen, line.AdjustedFen, want)
	}
	if line.ApprovedFen != approvedFen || line.AdjustedFen != 0 || line.SpentFen != 0 {
		t.Errorf("line: approved %d adjusted %d spent %d, want %d, 0, 0", line.ApprovedFen, line.AdjustedFen, line.SpentFen, approvedFen)
	}
	if line.AvailableFen < 0 {
		t.Errorf("available %d < 0", line.AvailableFen)
	}
	live := map[string]int64{} // case id → reserved amount
	var sumReserved int64
	for _, r := range line.Reservations {
		switch r.State {
		case "reserved", "spent":
			if _, dup := live[r.CaseID]; dup {
				t.Errorf("case %s holds money on the line twice", r.CaseID)
			}
			live[r.CaseID] += r.AmountFen
			if r.State == "reserved" {
				sumReserved += r.AmountFen
			}
		case "released":
		default:
			t.Errorf("reservation in unknown state %q", r.State)
		}
	}
	if sumReserved != line.CommittedFen {
		t.Errorf("committed_fen %d, but the live reservations sum to %d", line.CommittedFen, sumReserved)
	}

	var ok2 int
	for i, id := range ids {
		o2 := second[i]
		amount, isLive := live[id]
		if o2.err != nil {
			t.Errorf("case %d: retried link failed: %v", i, o2.err)
			continue
		}
		got201 := o2.code == http.StatusCreated || ever201[i]
		switch {
		case got201 && !isLive:
			t.Errorf("case %d (%s): told 201 (before a crash: %v, after: %d) but has no live reservation", i, id, ever201[i], o2.code)
		case isLive && o2.code != http.StatusCreated:
			t.Errorf("case %d: reserved on the line, yet the retry answered %d", i, o2.code)
		case isLive && amount != estimate[i]:
			t.Errorf("case %d: reserved %d, estimate %d", i, amount, estimate[i])
		case !isLive && estimate[i] <= line.AvailableFen:
			t.Errorf("case %d refused (409) although the line still has %d available for its %d: money leaked", i, line.AvailableFen, estimate[i])
		}
		if o2.code == http.StatusCreated {
			ok2++
			if o2.link.LineID != line.ID || o2.link.ReservedFen != estimate[i] {
				t.Errorf("case %d: link answer %+v", i, o2.link)
			}
		}
		if ever409[i] && isLive {
			// Refused once, funded later: possible only if money was
			// freed, and nothing here frees any.
			t.Errorf("case %d: refused before a crash but reserved after", i)
		}

		var cv caseView
		c.must(t, "GET", "/cases/"+id, tk.street, nil, nil, &cv, 200)
		switch {
		case isLive && (cv.Budget == nil || cv.Budget.LineID != line.ID || cv.Budget.ReservedFen != amount || cv.Budget.State != "reserved"):
			t.Errorf("case %d: copy %+v disagrees with the line (reserved %d)", i, cv.Budget, amount)
		case !isLive && cv.Budget != nil && cv.Budget.State != "released":
			t.Errorf("case %d: copy %+v, but the line holds nothing for it", i, cv.Budget)
		}
	}
	// The audit trail: per case, what was reserved less what was released
	// is what the line holds, with no movement written twice.
	net, seen := map[string]int64{}, map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page == 20 {
			t.Fatal("more than 20 pages of audit entries")
		}
		var res struct {
			Items []struct {
				ID        string `json:"id"`
				Kind      string `json:"kind"`
				CaseID    string `json:"case_id"`
				AmountFen int64  `json:"amount_fen"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		q := url.Values{"line_id": {line.ID}, "limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		c.must(t, "GET", "/budget/audit?"+q.Encode(), tk.finance, nil, nil, &res, 200)
		for _, e := range res.Items {
			if seen[e.ID] {
				t.Errorf("audit entry %s listed twice", e.ID)
			}
			seen[e.ID] = true
			switch e.Kind {
			case "reserve", "release", "reestimate":
				net[e.CaseID] += e.AmountFen
			}
		}
		if res.NextCursor == "" || len(res.Items) == 0 {
			break
		}
		cursor = res.NextCursor
	}
	for i, id := range ids {
		if net[id] != live[id] {
			t.Errorf("case %d: audit trail nets %d fen, the line holds %d", i, net[id], live[id])
		}
	}
	if len(live) != ok2 {
		t.Errorf("%d live reservations, %d cases answered 201", len(live), ok2)
	}
	t.Logf("after restart and retries: %d cases reserved (%d fen committed), %d refused, %d fen left", len(live), line.CommittedFen, nCases-ok2, line.AvailableFen)

	// The offline checker on the cleanly stopped data.
	c.reset()
	s.stop()
	out, err := s.runCheck()
	if err != nil {
		t.Errorf("minsheng check: %v\n%s", err, out)
	}
	if strings.Contains(out, "problem:") {
		t.Errorf("minsheng check left problems:\n%s", out)
	}
	if !strings.Contains(out, "ledger consistent") && !strings.Contains(out, "fixed:") {
		t.Errorf("minsheng check output:\n%s", out)
	}
	t.Logf("minsheng check: %s", strings.TrimSpace(out))
}

// TestKillDuringFilings files 40 cases with distinct Idempotency-Keys at
// once, SIGKILLs the server mid-way, restarts it and submits all 40 again
// with the same keys: exactly 40 cases exist, and every key names the same
// case before and after the crash.
func TestKillDuringFilings(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the real binary")
	}
	t.Parallel()
	s := newServer(t)
	s.start()
	c := newClient(s)
	tk := setupUsers(t, c)

	const (
		n         = 40
		workers   = 8
		killAfter = 10
	)
	key := func(i int) map[string]string {
		return map[string]string{"Idempotency-Key": fmt.Sprintf("crash-file-%03d", i)}
	}
	type filing struct {
		code int
		err  error
		cv   caseView
	}
	first := make([]filing, n)
	began := time.Now()
	ks := newKillSwitch(killAfter)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		parallel(n, workers, func(i int) {
			f := &first[i]
			f.code, _, f.err = c.do("POST", "/cases", tk.cadre, key(i), caseBody(i), &f.cv)
			if f.err == nil && f.code == http.StatusCreated {
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
	var ok1 int
	for i, f := range first {
		if f.err == nil {
			if f.code != http.StatusCreated {
				t.Errorf("filing %d before the crash: status %d", i, f.code)
			}
			ok1++
		}
	}
	t.Logf("before SIGKILL: %d of %d filings answered (%s)", ok1, n, time.Since(began).Round(time.Millisecond))

	s.start()
	began = time.Now()
	second := make([]filing, n)
	parallel(n, workers/2, func(i int) {
		f := &second[i]
		var body []byte
		f.code, body, f.err = retry(t, 20, func() (int, []byte, error) {
			return c.do("POST", "/cases", tk.cadre, key(i), caseBody(i), &f.cv)
		})
		if f.err == nil && f.code != http.StatusCreated {
			f.err = fmt.Errorf("status %d: %s", f.code, body)
		}
	})
	t.Logf("resubmitted %d filings in %s", n, time.Since(began).Round(time.Millisecond))
	byID := map[string]int{}
	numbers := map[string]bool{}
	for i := range n {
		f1, f2 := first[i], second[i]
		if f2.err != nil {
			t.Fatalf("filing %d resubmitted: %v", i, f2.err)
		}
		if f1.err == nil && (f1.cv.ID != f2.cv.ID || f1.cv.Number != f2.cv.Number) {
			t.Errorf("key %d: %s (%s) before the crash, %s (%s) after", i, f1.cv.Number, f1.cv.ID, f2.cv.Number, f2.cv.ID)
		}
		if j, dup := byID[f2.cv.ID]; dup {
			t.Errorf("keys %d and %d answered the same case %s", j, i, f2.cv.Number)
		}
		byID[f2.cv.ID] = i
		if numbers[f2.cv.Number] {
			t.Errorf("case number %s given twice", f2.cv.Number)
		}
		numbers[f2.cv.Number] = true
	}

	// Every case the sub-district sees.
	listed := map[string]string{}
	cursor := ""
	for page := 0; ; page++ {
		if page == 20 {
			t.Fatal("more than 20 pages of cases")
		}
		var res struct {
			Items      []caseView `json:"items"`
			NextCursor string     `json:"next_cursor"`
		}
		q := url.Values{"limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		c.must(t, "GET", "/cases?"+q.Encode(), tk.street, nil, nil, &res, 200)
		for _, it := range res.Items {
			if _, dup := listed[it.ID]; dup {
				t.Errorf("case %s listed twice", it.Number)
			}
			listed[it.ID] = it.Number
		}
		if res.NextCursor == "" || len(res.Items) == 0 {
			break
		}
		cursor = res.NextCursor
	}
	if len(listed) != n {
		t.Errorf("%d cases exist after the crash and the resubmission, want %d", len(listed), n)
	}
	for id, num := range listed {
		if _, ok := byID[id]; !ok {
			t.Errorf("case %s (%s) exists but no key names it", num, id)
		}
	}
	c.reset()
	s.stop()
}
