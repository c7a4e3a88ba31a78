package handlers_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"minsheng/cases"
	"minsheng/internal/auth"
)

// rateJSON is one rate as both endpoints send it.
type rateJSON struct {
	Num      int64  `json:"num"`
	Den      int64  `json:"den"`
	PerMille *int64 `json:"per_mille"`
	Text     string `json:"text"`
}

func (r rateJSON) String() string {
	pm := "null"
	if r.PerMille != nil {
		pm = fmt.Sprint(*r.PerMille)
	}
	return fmt.Sprintf("%d/%d=%s‰ %q", r.Num, r.Den, pm, r.Text)
}

type threeRates struct {
	Response     rateJSON `json:"response"`
	Resolution   rateJSON `json:"resolution"`
	Satisfaction rateJSON `json:"satisfaction"`
}

// TestRatesBoardAndReportsAgree pins issue 22 item 1: the public board and
// the console's rates report read one definition, so on a dataset with
// merges, rejections, fresh filings, reopenings and unrated cases they give
// the same numerator, denominator and text per sub-district; new filings do
// not lower 响应率; a sub-district with nothing due shows "—".
func TestRatesBoardAndReportsAgree(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	f := newFixture(t, fixtureOptions{now: now})
	f.staff(t, "finance", auth.RoleFinance, "")
	f.resident(t, "resident", hPhone)
	ctx := context.Background()

	const subA, commA, subB, commB = "xichanganjie", hComm, "desheng", "desheng-andelunan"
	h := time.Hour
	n := 0
	add := func(sub, comm string, filed time.Time, status cases.Status, answered time.Duration, accepted bool, verdicts ...cases.VerdictRecord) {
		n++
		c := cases.Case{ID: fmt.Sprintf("r%02d", n), Number: fmt.Sprintf("XC2026-9%05d", n), Area: "CG", Title: "诉求",
			Location: cases.Location{SubDistrict: sub, Community: comm}, Status: status, FiledAt: filed,
			ResponseDueAt: filed.Add(24 * h), Timeline: []cases.Event{}, Photos: []cases.Photo{}, Cosigners: []string{}, Verdicts: verdicts}
		if answered > 0 {
			at := filed.Add(answered)
			c.RespondedAt = &at
			if accepted {
				c.AcceptedAt = &at
			}
		}
		if status == cases.StatusRejected || status == cases.StatusMerged {
			c.Reason = "不属于受理范围"
		}
		if k := len(verdicts); k > 0 {
			c.Verdict = verdicts[k-1].Verdict
		}
		if err := f.st.Collection("cases").InsertOne(ctx, &c); err != nil {
			t.Fatal(err)
		}
	}
	v := func(verdict cases.Verdict, resolved *bool) cases.VerdictRecord {
		return cases.VerdictRecord{Verdict: verdict, Resolved: resolved, At: clock.Add(-24 * h)}
	}
	yes, no := true, false
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 2, 0, 0, 0, time.UTC) }
	// 西长安街: closed 满意 (answered 2 h); closed 基本满意 but "not solved",
	// late (30 h); reopened after 不满意, in progress; reworked 不满意 → 满意
	// "solved"; accepted, unrated; rejected and merged with a reason; never
	// answered (long due); filed two hours ago (not yet due); last year's.
	add(subA, commA, day(3, 1), cases.StatusClosed, 2*h, true, v(cases.VerdictSatisfied, &yes))
	add(subA, commA, day(3, 2), cases.StatusClosed, 30*h, true, v(cases.VerdictBasicallySatisfied, &no))
	add(subA, commA, day(4, 1), cases.StatusInProgress, 3*h, true, v(cases.VerdictDissatisfied, &no))
	add(subA, commA, day(5, 1), cases.StatusClosed, 1*h, true, v(cases.VerdictDissatisfied, &no), v(cases.VerdictSatisfied, &yes))
	add(subA, commA, day(6, 1), cases.StatusAssigned, 5*h, true)
	add(subA, commA, day(6, 2), cases.StatusRejected, 1*h, false)
	add(subA, commA, day(6, 3), cases.StatusMerged, 2*h, false)
	add(subA, commA, day(7, 1), cases.StatusSubmitted, 0, false)
	add(subA, commA, clock.Add(-2*h), cases.StatusSubmitted, 0, false)
	add(subA, commA, time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), cases.StatusClosed, h, true, v(cases.VerdictSatisfied, nil))
	// 德胜: one closed 满意 without the "solved" answer (counts as solved),
	// one completed awaiting its 回访.
	add(subB, commB, day(8, 1), cases.StatusClosed, h, true, v(cases.VerdictSatisfied, nil))
	add(subB, commB, day(8, 2), cases.StatusCompleted, 26*h, true)
	if _, err := f.cases.RepairSummaries(ctx); err != nil {
		t.Fatal(err)
	}

	board := func(sub string) threeRates {
		t.Helper()
		var b struct {
			Rates threeRates `json:"rates"`
		}
		if st := f.call(t, "", "GET", "/api/v1/public/board?fiscal_year=2026&sub_district="+sub, nil, &b); st != 200 {
			t.Fatalf("board %s: status %d", sub, st)
		}
		return b.Rates
	}
	report := func() map[string]threeRates {
		t.Helper()
		var rep struct {
			SubDistricts []struct {
				SubDistrict string `json:"sub_district"`
				threeRates
			} `json:"sub_districts"`
		}
		if st := f.call(t, "finance", "GET", "/api/v1/reports/rates?from=2026-01-01&to=2027-01-01", nil, &rep); st != 200 {
			t.Fatalf("report: status %d", st)
		}
		out := map[string]threeRates{}
		for _, u := range rep.SubDistricts {
			out[u.SubDistrict] = u.threeRates
		}
		return out
	}
	r := func(num, den, pm int64, text string) rateJSON {
		return rateJSON{Num: num, Den: den, PerMille: &pm, Text: text}
	}
	none := rateJSON{Text: "—"}
	want := map[string]threeRates{
		// Response: in time 1 3 4 5 6 7 of due 1 2 3 4 5 6 7 8 = 6/8.
		// 回访 answers 1 2 3 4: solved 1 4 = 2/4; satisfied 1 2 4 = 3/4.
		subA: {r(6, 8, 750, "75.0%"), r(2, 4, 500, "50.0%"), r(3, 4, 750, "75.0%")},
		// Response 1/2; one answer, 满意: solved and satisfied.
		subB: {r(1, 2, 500, "50.0%"), r(1, 1, 1000, "100.0%"), r(1, 1, 1000, "100.0%")},
		// Nothing filed: "—", never 0.0 %.
		"jinrongjie": {none, none, none},
	}
	same := func(t *testing.T, name string, got, want threeRates) {
		t.Helper()
		for _, c := range []struct {
			label     string
			got, want rateJSON
		}{{"响应率", got.Response, want.Response}, {"解决率", got.Resolution, want.Resolution}, {"满意率", got.Satisfaction, want.Satisfaction}} {
			if c.got.String() != c.want.String() {
				t.Errorf("%s %s: got %v, want %v", name, c.label, c.got, c.want)
			}
		}
	}
	check := func(t *testing.T) {
		t.Helper()
		rep := report()
		for sub, w := range want {
			same(t, sub+" board", board(sub), w)
			if got, ok := rep[sub]; ok {
				same(t, sub+" report", got, w)
			} else {
				t.Errorf("report: no %s", sub)
			}
		}
	}
	t.Run("board and report agree per sub-district", check)
	t.Run("new filings do not lower 响应率", func(t *testing.T) {
		for range 4 {
			if st := f.call(t, "resident", "POST", "/api/v1/cases", newCaseBody(), nil); st != 201 {
				t.Fatalf("file: status %d", st)
			}
		}
		advance(2 * time.Minute) // past the board's cache
		check(t)
	})
}
