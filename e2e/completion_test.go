package e2e

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"minsheng/cases/casestest"
)

// completionCase is what the completion test reads of a case.
type completionCase struct {
	ID            string `json:"id"`
	Version       int64  `json:"version"`
	Status        string `json:"status"`
	ActualCostFen int64  `json:"actual_cost_fen"`
	Timeline      []struct {
		Action string `json:"action"`
		Note   string `json:"note"`
	} `json:"timeline"`
}

// uploadAfter posts an after-photo as the cadre.
func uploadAfter(t *testing.T, c *client, token, caseID string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("tag", "after")
	fw, _ := mw.CreateFormFile("photo", "after.jpg")
	_, _ = fw.Write(casestest.JPEG(t, 64, 48))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", c.s.base+"/api/v1/cases/"+caseID+"/photos", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("after photo: status %d", resp.StatusCode)
	}
}

// TestSimultaneousCompletionsOverHTTP is issue 8 item 3 against the real
// binary: per round, 8 simultaneous completions of one case with the same
// version and different costs (exactly one 200; the line books that cost;
// one "办结支出"), then complete×4 against cancel×4 on another case (the
// money matches whichever won). Five rounds on one line that holds the
// other rounds' entries; then `minsheng check` is clean and serve starts.
func TestSimultaneousCompletionsOverHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary")
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
		"fiscal_year": year, "sub_district": "jinrongjie", "item_code": "SQ-05-04",
		"project_name": "金融街旱厕改造（并发办结）", "approved_fen": 100_000_000,
	}, &line, 201)

	n := 0
	// inProgress files a case linked to the line with 600 元 reserved and
	// drives it to in_progress with an after-photo.
	inProgress := func(t *testing.T) completionCase {
		t.Helper()
		n++
		var cv completionCase
		c.must(t, "POST", "/cases", tk.cadre, nil, caseBody(n), &cv, 201)
		step := func(token, action string, body map[string]any) {
			t.Helper()
			body["version"] = cv.Version
			c.must(t, "POST", "/cases/"+cv.ID+"/"+action, token, nil, body, &cv, 200)
		}
		step(tk.street, "accept", map[string]any{})
		step(tk.street, "assign", map[string]any{"cadre_id": me.ID})
		step(tk.street, "catalog-item", map[string]any{"item_code": "SQ-05-04"})
		c.must(t, "POST", "/cases/"+cv.ID+"/budget-link", tk.street, nil, map[string]any{"line_id": line.ID, "estimate_fen": 60_000}, nil, 201)
		c.must(t, "GET", "/cases/"+cv.ID, tk.cadre, nil, nil, &cv, 200)
		step(tk.cadre, "assess", map[string]any{"estimate_fen": 60_000, "households": 6, "risk": 1})
		step(tk.cadre, "start", map[string]any{})
		uploadAfter(t, c, tk.cadre, cv.ID)
		c.must(t, "GET", "/cases/"+cv.ID, tk.cadre, nil, nil, &cv, 200)
		return cv
	}
	entry := func(t *testing.T, caseID string) (state string, spent int64) {
		t.Helper()
		c.must(t, "GET", "/budget/lines/"+line.ID, tk.finance, nil, nil, &line, 200)
		if got, want := line.CommittedFen+line.SpentFen+line.AvailableFen, line.ApprovedFen+line.AdjustedFen; got != want || line.AvailableFen < 0 {
			t.Errorf("line totals: committed %d + spent %d + available %d = %d, want %d", line.CommittedFen, line.SpentFen, line.AvailableFen, got, want)
		}
		for _, r := range line.Reservations {
			if r.CaseID == caseID || r.ReleasedCaseID == caseID {
				return r.State, r.SpentFen
			}
		}
		t.Fatalf("no entry for case %s on the line", caseID)
		return "", 0
	}

	for round := 1; round <= 5; round++ {
		t.Run(fmt.Sprintf("round %d: 8 completions", round), func(t *testing.T) {
			cv := inProgress(t)
			codes := make([]int, 8)
			var wg sync.WaitGroup
			for i := range codes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					code, body, err := c.do("POST", "/cases/"+cv.ID+"/complete", tk.cadre, nil,
						map[string]any{"version": cv.Version, "actual_cost_fen": 50_000 + i*1_000}, nil)
					if err != nil {
						t.Errorf("completion %d: %v", i, err)
					} else if code != 200 && code != 409 {
						t.Errorf("completion %d: status %d %s", i, code, body)
					}
					codes[i] = code
				}()
			}
			wg.Wait()
			winner := -1
			for i, code := range codes {
				if code == 200 {
					if winner >= 0 {
						t.Errorf("completions %d and %d both answered 200", winner, i)
					}
					winner = i
				}
			}
			if winner < 0 {
				t.Fatalf("no completion answered 200: %v", codes)
			}
			cost := int64(50_000 + winner*1_000)
			var got completionCase
			c.must(t, "GET", "/cases/"+cv.ID, tk.cadre, nil, nil, &got, 200)
			notes := 0
			for _, ev := range got.Timeline {
				if strings.Contains(ev.Note, "办结支出") {
					notes++
				}
			}
			if got.Status != "completed" || got.ActualCostFen != cost || notes != 1 {
				t.Errorf("case: %s cost %d, %d 办结支出 notes; want completed at %d with one", got.Status, got.ActualCostFen, notes, cost)
			}
			if state, spent := entry(t, cv.ID); state != "spent" || spent != cost {
				t.Errorf("line entry: %s %d, want spent %d", state, spent, cost)
			}
			t.Logf("statuses %v; the line booked %d fen", codes, cost)
		})
		t.Run(fmt.Sprintf("round %d: complete against cancel", round), func(t *testing.T) {
			cv := inProgress(t)
			codes := make([]int, 8)
			var wg sync.WaitGroup
			for i := range codes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					action, token, body := "complete", tk.cadre, map[string]any{"version": cv.Version, "actual_cost_fen": 55_000}
					if i%2 == 1 {
						action, token, body = "cancel", tk.street, map[string]any{"version": cv.Version, "reason": "居民撤回"}
					}
					code, _, err := c.do("POST", "/cases/"+cv.ID+"/"+action, token, nil, body, nil)
					if err != nil {
						t.Errorf("%s %d: %v", action, i, err)
					}
					codes[i] = code
				}()
			}
			wg.Wait()
			wins := 0
			for _, code := range codes {
				if code == 200 {
					wins++
				}
			}
			var got completionCase
			c.must(t, "GET", "/cases/"+cv.ID, tk.cadre, nil, nil, &got, 200)
			state, spent := entry(t, cv.ID)
			switch {
			case wins != 1:
				t.Errorf("statuses %v, want exactly one 200", codes)
			case got.Status == "completed" && (state != "spent" || spent != 55_000):
				t.Errorf("completed case, line entry %s %d; want spent 55000", state, spent)
			case got.Status == "cancelled" && state != "released":
				t.Errorf("cancelled case, line entry %s; want released", state)
			case got.Status != "completed" && got.Status != "cancelled":
				t.Errorf("status %s", got.Status)
			}
			t.Logf("statuses %v; case %s, line entry %s", codes, got.Status, state)
		})
	}

	c.reset()
	s.stop()
	out, err := s.runCheck()
	if err != nil || !strings.Contains(out, "ledger consistent") {
		t.Errorf("minsheng check: %v\n%s", err, out)
	}
	s.start()
	if rec := s.startCheck(); rec == nil {
		t.Error("no ledger check logged at start")
	} else if p, _ := rec["problems"].([]any); len(p) > 0 {
		t.Errorf("start check found problems: %v", p)
	}
	c.reset()
	s.stop()
}
