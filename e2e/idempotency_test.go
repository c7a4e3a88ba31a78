package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestIdempotencyKeyReal drives the real binary with the cadre app's
// offline outbox pattern: 12 identical requests with one Idempotency-Key at
// once, five rounds, on a line and a community that already hold entries.
// Each round moves money once and files one case; a key reused with another
// body is 422; another caller's same key is its own; after a restart the
// replays still answer and `minsheng check` exits 0.
func TestIdempotencyKeyReal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary")
	}
	t.Parallel()
	s := newServer(t)
	s.start()
	c := newClient(s)
	tk := setupUsers(t, c)
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()

	var line lineView
	c.must(t, "POST", "/budget/lines", tk.finance, nil, map[string]any{
		"fiscal_year": year, "sub_district": "jinrongjie", "item_code": "SQ-05-04",
		"project_name": "金融街旱厕改造（重放测试）", "approved_fen": 1_000_000,
	}, &line, 201)
	adjPath := "/budget/lines/" + line.ID + "/adjustments"
	c.must(t, "POST", adjPath, tk.finance, nil, map[string]any{"kind": "decrease", "amount_fen": 3_000, "reason": "已有调减"}, nil, 201)
	c.must(t, "POST", "/cases", tk.cadre, nil, caseBody(0), nil, 201)

	const (
		rounds = 5
		n      = 12
	)
	type result struct {
		code     int
		id       string
		replayed bool
		err      error
	}
	burst := func(token, path, key string, body any) []result {
		out := make([]result, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				var v struct {
					ID string `json:"id"`
				}
				code, hdr, err := c.doHeader("POST", path, token, map[string]string{"Idempotency-Key": key}, body, &v)
				out[i] = result{code: code, id: v.ID, replayed: hdr.Get("Idempotency-Replayed") == "true", err: err}
			}()
		}
		close(start)
		wg.Wait()
		return out
	}
	check := func(t *testing.T, what string, res []result, wantReplays int) string {
		t.Helper()
		ids := map[string]bool{}
		replays := 0
		for _, r := range res {
			if r.err != nil || r.code != http.StatusCreated {
				t.Errorf("%s: status %d, %v", what, r.code, r.err)
				continue
			}
			ids[r.id] = true
			if r.replayed {
				replays++
			}
		}
		if len(ids) != 1 || replays != wantReplays {
			t.Errorf("%s: %d distinct results, %d replays; want 1 and %d", what, len(ids), replays, wantReplays)
		}
		for id := range ids {
			return id
		}
		return ""
	}
	countCases := func(t *testing.T) int {
		t.Helper()
		var res struct {
			Items []caseView `json:"items"`
		}
		c.must(t, "GET", "/cases?limit=100", tk.cadre, nil, nil, &res, 200)
		return len(res.Items)
	}
	for r := range rounds {
		t.Run(fmt.Sprintf("round %d", r+1), func(t *testing.T) {
			check(t, "adjustment", burst(tk.finance, adjPath, fmt.Sprintf("e2e-adj-%02d", r),
				map[string]any{"kind": "increase", "amount_fen": 10_000, "reason": "追加"}), n-1)
			var l lineView
			c.must(t, "GET", "/budget/lines/"+line.ID, tk.finance, nil, nil, &l, 200)
			if got, want := l.AvailableFen, int64(1_000_000-3_000+10_000*(r+1)); got != want {
				t.Errorf("available %d fen, want %d", got, want)
			}
			check(t, "filing", burst(tk.cadre, "/cases", fmt.Sprintf("e2e-file-%02d", r), caseBody(r+1)), n-1)
			if got, want := countCases(t), r+2; got != want {
				t.Errorf("%d cases, want %d", got, want)
			}
		})
	}

	t.Run("another body is 422", func(t *testing.T) {
		code, data, err := c.do("POST", adjPath, tk.finance, map[string]string{"Idempotency-Key": "e2e-adj-00"},
			map[string]any{"kind": "increase", "amount_fen": 99_000, "reason": "追加"}, nil)
		if err != nil || code != http.StatusUnprocessableEntity {
			t.Errorf("status %d (%v): %s; want 422", code, err, data)
		}
	})
	t.Run("another caller's key is its own", func(t *testing.T) {
		var cv caseView
		code, hdr, err := c.doHeader("POST", "/cases", tk.street, map[string]string{"Idempotency-Key": "e2e-file-00"}, caseBody(1), &cv)
		if err != nil || code != http.StatusCreated || hdr.Get("Idempotency-Replayed") != "" {
			t.Errorf("street staff with the cadre's key: status %d replayed %q (%v); want a new case", code, hdr.Get("Idempotency-Replayed"), err)
		}
	})
	t.Run("replays survive a restart and check exits 0", func(t *testing.T) {
		c.reset()
		s.stop()
		if out, err := s.runCheck(); err != nil {
			t.Fatalf("minsheng check: %v\n%s", err, out)
		}
		s.start()
		res := burst(tk.finance, adjPath, "e2e-adj-00", map[string]any{"kind": "increase", "amount_fen": 10_000, "reason": "追加"})
		check(t, "adjustment after restart", res, n) // all replays of round 1
		var l lineView
		c.must(t, "GET", "/budget/lines/"+line.ID, tk.finance, nil, nil, &l, 200)
		if got, want := l.AvailableFen, int64(1_000_000-3_000+10_000*rounds); got != want {
			t.Errorf("available %d fen, want %d", got, want)
		}
	})
}

// doHeader is do that also returns the answer's headers.
func (c *client) doHeader(method, path, token string, hdr map[string]string, body, out any) (int, http.Header, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequest(method, c.s.base+"/api/v1"+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, resp.Header, err
	}
	if resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, resp.Header, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, resp.Header, nil
}
