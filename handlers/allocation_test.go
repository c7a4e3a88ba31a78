package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"minsheng/budgetlink/ledger"
	"minsheng/cases"
	"minsheng/internal/auth"
)

const (
	aSub    = "xinjiekou"
	aComm   = "xinjiekou-xilierqu"
	aSubFar = "desheng"
	aRunID  = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c"
)

// allocationApp is the wired server on a fixed clock, with one line and
// two needs seeded; lineID is the line.
type allocationApp struct {
	*fixture
	lineID string
}

func newAllocationApp(t *testing.T) allocationApp {
	t.Helper()
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) }
	a := allocationApp{fixture: newFixture(t, fixtureOptions{now: now})}
	a.staff(t, "staff", auth.RoleSubdistrict, aSub)
	a.staff(t, "stafffar", auth.RoleSubdistrict, aSubFar)
	a.staff(t, "cadre", auth.RoleCadre, aComm)
	a.staff(t, "finance", auth.RoleFinance, "")
	a.resident(t, "resident", "13800000009")
	st, budget := a.st, a.budget

	// One line of 10,000 元 and two needs: 6,000 (older) and 5,000 元, so
	// the run funds one and waitlists the other.
	l, err := budget.CreateLine(ctx, auth.Principal{UserID: "seed", Role: auth.RoleFinance}, ledger.NewLine{
		FiscalYear: 2026, SubDistrict: aSub, ItemCode: "SQ-05-04", ProjectName: "旱厕改造", ApprovedFen: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	a.lineID = l.ID
	for i, amt := range []int64{600_000, 500_000} {
		c := cases.Case{
			ID: "need-" + string(rune('a'+i)), Number: "XC2026-00000" + string(rune('1'+i)), Area: "SQ", Title: "旱厕改造",
			Location: cases.Location{SubDistrict: aSub, Community: aComm, Address: string(rune('a' + i))},
			Status:   cases.StatusAssessed, CatalogItem: "SQ-05-04", FiledAt: now().Add(-time.Duration(100-10*i) * 24 * time.Hour),
			AcceptedAt: ptrTime(now().Add(-time.Duration(100-10*i)*24*time.Hour + time.Hour)),
			// Answered as Accept records it; the rates read these.
			ResponseDueAt: now().Add(-time.Duration(100-10*i)*24*time.Hour + 24*time.Hour),
			RespondedAt:   ptrTime(now().Add(-time.Duration(100-10*i)*24*time.Hour + time.Hour)),
			Assessment:    &cases.Assessment{EstimateFen: amt, Households: 2, Risk: 2},
			Timeline:      []cases.Event{}, Photos: []cases.Photo{}, Cosigners: []string{},
		}
		if err := st.Collection("cases").InsertOne(ctx, &c); err != nil {
			t.Fatal(err)
		}
	}
	// Stored raw, so their queue summaries come from the repair.
	if _, err := a.cases.RepairSummaries(ctx); err != nil {
		t.Fatal(err)
	}
	return a
}

func ptrTime(t time.Time) *time.Time { return &t }

func TestAllocationRefusals(t *testing.T) {
	a := newAllocationApp(t)
	run := map[string]any{"run_id": aRunID, "fiscal_year": 2026, "sub_district": aSub}
	factor := map[string]any{"pool_fen": 1_000_000, "fiscal_year": 2026}
	tests := []struct {
		name, who, method, path string
		body                    any
		want                    int
	}{
		{"anonymous run", "", "POST", "/api/v1/allocation/runs", run, 401},
		{"cadre run", "cadre", "POST", "/api/v1/allocation/runs", run, 403},
		{"resident run", "resident", "POST", "/api/v1/allocation/runs", run, 403},
		{"other sub-district's staff run", "stafffar", "POST", "/api/v1/allocation/runs", run, 403},
		{"cadre factor", "cadre", "POST", "/api/v1/allocation/factor", factor, 403},
		{"resident factor", "resident", "POST", "/api/v1/allocation/factor", factor, 403},
		{"sub-district staff factor", "staff", "POST", "/api/v1/allocation/factor", factor, 403},
		{"staff sets weights", "staff", "PUT", "/api/v1/allocation/weights/2026", map[string]any{"sanbao": 1}, 403},
		{"resident reads weights", "resident", "GET", "/api/v1/allocation/weights/2026", nil, 403},
		{"other sub-district's priorities", "stafffar", "GET", "/api/v1/allocation/priorities?sub_district=" + aSub, nil, 403},
		{"cadre priorities", "cadre", "GET", "/api/v1/allocation/priorities", nil, 403},
		{"other sub-district's completion", "stafffar", "GET", "/api/v1/reports/completion?sub_district=" + aSub, nil, 403},
		{"cadre completion", "cadre", "GET", "/api/v1/reports/completion", nil, 403},
		{"other sub-district's rates", "stafffar", "GET", "/api/v1/reports/rates?sub_district=" + aSub, nil, 403},
		{"resident rates", "resident", "GET", "/api/v1/reports/rates", nil, 403},
		{"run without id", "staff", "POST", "/api/v1/allocation/runs", map[string]any{"fiscal_year": 2026, "sub_district": aSub}, 400},
		{"run with unknown field", "staff", "POST", "/api/v1/allocation/runs", map[string]any{"run_id": aRunID, "fiscal_year": 2026, "sub_district": aSub, "dryrun": true}, 400},
		{"year not a number", "staff", "GET", "/api/v1/allocation/weights/next", nil, 400},
		{"priorities limit too large", "staff", "GET", "/api/v1/allocation/priorities?limit=500", nil, 400},
		{"unknown run", "staff", "GET", "/api/v1/allocation/runs/" + aRunID, nil, 404},
		{"cadre lists runs", "cadre", "GET", "/api/v1/allocation/runs", nil, 403},
		{"other sub-district's runs", "stafffar", "GET", "/api/v1/allocation/runs?sub_district=" + aSub, nil, 403},
		{"runs with unknown query", "staff", "GET", "/api/v1/allocation/runs?page=2", nil, 400},
		// Issue 8 item 11: report years are validated.
		{"execution report year out of range", "finance", "GET", "/api/v1/reports/execution?year=-2147483649", nil, 400},
		{"adjustment report year out of range", "finance", "GET", "/api/v1/reports/adjustments?year=1999", nil, 400},
		{"demand report year out of range", "staff", "GET", "/api/v1/reports/demand?year=2101", nil, 400},
		{"consistency report year out of range", "finance", "GET", "/api/v1/reports/consistency?year=-2147483649", nil, 400},
		{"completion report year out of range", "staff", "GET", "/api/v1/reports/completion?year=-2147483649", nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			if got := a.call(t, tt.who, tt.method, tt.path, tt.body, &e); got != tt.want {
				t.Errorf("status: got %d (%+v), want %d", got, e, tt.want)
			}
			if e.Error.Message == "" {
				t.Errorf("no error message: %+v", e)
			}
		})
	}
	// Nothing above reserved anything.
	l, err := a.budget.FindLineByID(context.Background(), a.lineID)
	if err != nil {
		t.Fatal(err)
	}
	if l.CommittedFen != 0 {
		t.Errorf("committed after refusals: got %d, want 0", l.CommittedFen)
	}
}

func TestAllocationFlow(t *testing.T) {
	a := newAllocationApp(t)

	t.Run("weights", func(t *testing.T) {
		var w struct {
			Sanbao  int64 `json:"sanbao"`
			Default bool  `json:"default"`
		}
		if got := a.call(t, "staff", "GET", "/api/v1/allocation/weights/2026", nil, &w); got != 200 || !w.Default || w.Sanbao != 30_000 {
			t.Errorf("GET: status %d %+v, want the defaults", got, w)
		}
		var e apiError
		if got := a.call(t, "finance", "PUT", "/api/v1/allocation/weights/2026", map[string]any{"sanbao": -1, "fiscal_year": 2026}, &e); got != 400 || e.Error.Fields["sanbao"] == "" {
			t.Errorf("PUT negative: status %d %+v, want 400 naming sanbao", got, e)
		}
		body := map[string]any{"fiscal_year": 2026, "sanbao": 40_000, "safety_per_level": 10_000, "households": 3_000, "co_signers": 2_000,
			"elderly": 1_000, "disabled": 1_500, "vulnerable_cap": 10, "waiting_per_day": 100, "waiting_cap_days": 180,
			"repeat_complaints": 4_000, "cost_per_household": 20_000, "cost_reference_fen": 500_000}
		if got := a.call(t, "finance", "PUT", "/api/v1/allocation/weights/2026", body, &w); got != 200 || w.Default || w.Sanbao != 40_000 {
			t.Errorf("PUT: status %d %+v", got, w)
		}
	})

	t.Run("priorities", func(t *testing.T) {
		var list struct {
			Needs []struct {
				Rank   int    `json:"rank"`
				CaseID string `json:"case_id"`
				Score  struct {
					Total int64 `json:"total"`
					Parts []struct {
						Factor string `json:"factor"`
						Points int64  `json:"points"`
					} `json:"parts"`
				} `json:"score"`
			} `json:"needs"`
		}
		if got := a.call(t, "staff", "GET", "/api/v1/allocation/priorities?year=2026&limit=100", nil, &list); got != 200 {
			t.Fatalf("status %d", got)
		}
		if len(list.Needs) != 2 || list.Needs[0].CaseID != "need-a" || len(list.Needs[0].Score.Parts) != 9 {
			t.Fatalf("got %+v, want need-a then need-b with 9 parts each", list.Needs)
		}
		var sum int64
		for _, p := range list.Needs[0].Score.Parts {
			sum += p.Points
		}
		if sum != list.Needs[0].Score.Total {
			t.Errorf("parts sum to %d, total %d", sum, list.Needs[0].Score.Total)
		}
	})

	type runReport struct {
		RunID     string `json:"run_id"`
		State     string `json:"state"`
		DryRun    bool   `json:"dry_run"`
		Applied   int    `json:"applied"`
		FundedFen int64  `json:"funded_fen"`
		Lines     []struct {
			LineID       string `json:"line_id"`
			ShortfallFen int64  `json:"shortfall_fen"`
			Funded       []struct {
				CaseID string `json:"case_id"`
			} `json:"funded"`
			Waitlisted []struct {
				CaseID string `json:"case_id"`
			} `json:"waitlisted"`
		} `json:"lines"`
		NextYear []struct {
			ItemCode  string `json:"item_code"`
			DemandFen int64  `json:"demand_fen"`
		} `json:"next_year"`
	}
	committed := func(t *testing.T) int64 {
		t.Helper()
		l, err := a.budget.FindLineByID(context.Background(), a.lineID)
		if err != nil {
			t.Fatal(err)
		}
		return l.CommittedFen
	}

	t.Run("dry run", func(t *testing.T) {
		var r runReport
		body := map[string]any{"run_id": "00000000-0000-4000-8000-000000000001", "fiscal_year": 2026, "sub_district": aSub, "dry_run": true}
		if got := a.call(t, "staff", "POST", "/api/v1/allocation/runs", body, &r); got != 200 || !r.DryRun || r.State != "preview" {
			t.Fatalf("status %d %+v", got, r)
		}
		if len(r.Lines) != 1 || len(r.Lines[0].Funded) != 1 || r.Lines[0].Funded[0].CaseID != "need-a" || r.Lines[0].ShortfallFen != 100_000 {
			t.Errorf("got %+v, want need-a funded and a 1,000 元 shortfall", r.Lines)
		}
		if c := committed(t); c != 0 {
			t.Errorf("committed after a dry run: %d", c)
		}
		var raw []byte
		if got := a.call(t, "staff", "POST", "/api/v1/allocation/runs", body, &raw); got != 200 || bytes.Contains(raw, []byte("0001-01-01")) {
			t.Errorf("dry run again: status %d, body shows year 0001: %s", got, raw)
		}
		var stored runReport
		if got := a.call(t, "staff", "GET", "/api/v1/allocation/runs/00000000-0000-4000-8000-000000000001", nil, &stored); got != 200 || !stored.DryRun || stored.State != "preview" {
			t.Errorf("GET a dry run: status %d %+v, want the stored preview", got, stored)
		}
	})

	body := map[string]any{"run_id": aRunID, "fiscal_year": 2026, "sub_district": aSub}
	var first runReport
	t.Run("commit", func(t *testing.T) {
		if got := a.call(t, "staff", "POST", "/api/v1/allocation/runs", body, &first); got != 200 || first.State != "done" || first.Applied != 1 || first.FundedFen != 600_000 {
			t.Fatalf("status %d %+v", got, first)
		}
		if len(first.NextYear) != 1 || first.NextYear[0].DemandFen != 500_000 {
			t.Errorf("next year: got %+v, want SQ-05-04 500000", first.NextYear)
		}
		if c := committed(t); c != 600_000 {
			t.Errorf("committed: got %d, want 600000", c)
		}
	})
	t.Run("repeat is idempotent", func(t *testing.T) {
		var again runReport
		if got := a.call(t, "staff", "POST", "/api/v1/allocation/runs", body, &again); got != 200 || again.State != "done" || again.Applied != 1 {
			t.Fatalf("status %d %+v", got, again)
		}
		if c := committed(t); c != 600_000 {
			t.Errorf("committed after repeat: got %d, want 600000", c)
		}
		var viaGet runReport
		if got := a.call(t, "finance", "GET", "/api/v1/allocation/runs/"+aRunID, nil, &viaGet); got != 200 || viaGet.RunID != aRunID || viaGet.Applied != 1 {
			t.Errorf("GET: status %d %+v", got, viaGet)
		}
		if got := a.call(t, "stafffar", "GET", "/api/v1/allocation/runs/"+aRunID, nil, nil); got != 403 {
			t.Errorf("GET by another sub-district: status %d, want 403", got)
		}
		var list struct {
			Items []struct {
				RunID       string `json:"run_id"`
				FundedCases int    `json:"funded_cases"`
				FundedFen   int64  `json:"funded_fen"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if got := a.call(t, "staff", "GET", "/api/v1/allocation/runs?year=2026&kind=committed", nil, &list); got != 200 ||
			len(list.Items) != 1 || list.Items[0].RunID != aRunID || list.Items[0].FundedCases != 1 || list.Items[0].FundedFen != 600_000 {
			t.Errorf("GET runs: status %d %+v, want the one committed run funding 600000", got, list)
		}
		var far apiError
		if got := a.call(t, "stafffar", "POST", "/api/v1/allocation/runs", map[string]any{"run_id": aRunID, "fiscal_year": 2026, "sub_district": aSubFar}, &far); got != 409 ||
			strings.Contains(far.Error.Message, "新街口") || strings.Contains(far.Error.Message, "2026") {
			t.Errorf("another sub-district reuses the run id: status %d %+v, want 409 naming nothing", got, far)
		}
		other := map[string]any{"run_id": aRunID, "fiscal_year": 2027, "sub_district": aSub}
		var e apiError
		if got := a.call(t, "staff", "POST", "/api/v1/allocation/runs", other, &e); got != 409 || e.Error.Code != "conflict" {
			t.Errorf("same id, other body: status %d %+v, want 409", got, e)
		}
	})

	t.Run("factor", func(t *testing.T) {
		var rep struct {
			PoolFen int64 `json:"pool_fen"`
			Shares  []struct {
				SubDistrictCode string `json:"sub_district_code"`
				TotalFen        int64  `json:"total_fen"`
				Parts           []struct {
					Factor   string `json:"factor"`
					ShareFen int64  `json:"share_fen"`
				} `json:"parts"`
			} `json:"shares"`
			Comparison []struct {
				DiffFen int64 `json:"diff_fen"`
			} `json:"comparison"`
		}
		req := map[string]any{"pool_fen": 123_456_789, "fiscal_year": 2026,
			"compare_weights":      map[string]any{"population_bp": 10_000},
			"tax_growth_per_mille": map[string]int64{aSub: 150}}
		// No cases in 2025: case volume and performance have no data, and
		// finance is asked rather than the pool split equally.
		var ask struct {
			NeedsChoice bool     `json:"needs_choice"`
			Missing     []string `json:"missing"`
			Shares      []any    `json:"shares"`
		}
		if got := a.call(t, "finance", "POST", "/api/v1/allocation/factor", req, &ask); got != 200 || !ask.NeedsChoice || len(ask.Shares) != 0 ||
			strings.Join(ask.Missing, ",") != "cases,performance" {
			t.Fatalf("status %d, %+v; want a question about cases and performance", got, ask)
		}
		req["missing"] = "exclude"
		if got := a.call(t, "finance", "POST", "/api/v1/allocation/factor", req, &rep); got != 200 {
			t.Fatalf("status %d", got)
		}
		var total, diff int64
		for _, s := range rep.Shares {
			total += s.TotalFen
			if len(s.Parts) != 6 {
				t.Errorf("%s: %d parts, want 6", s.SubDistrictCode, len(s.Parts))
			}
		}
		for _, r := range rep.Comparison {
			diff += r.DiffFen
		}
		if len(rep.Shares) != 15 || total != 123_456_789 || len(rep.Comparison) != 15 || diff != 0 {
			t.Errorf("got %d shares summing to %d, %d comparison rows with net %d; want 15, the pool, 15, 0", len(rep.Shares), total, len(rep.Comparison), diff)
		}
	})

	t.Run("reports", func(t *testing.T) {
		var comp struct {
			Lines []struct {
				LineID       string `json:"line_id"`
				CommittedFen int64  `json:"committed_fen"`
				Completion   struct {
					Funded         int64 `json:"funded"`
					CompletionRate struct {
						Num      int64  `json:"num"`
						Den      int64  `json:"den"`
						PerMille *int64 `json:"per_mille"`
					} `json:"completion_rate"`
				} `json:"completion"`
			} `json:"lines"`
		}
		if got := a.call(t, "staff", "GET", "/api/v1/reports/completion?year=2026", nil, &comp); got != 200 {
			t.Fatalf("completion: status %d", got)
		}
		if len(comp.Lines) != 1 || comp.Lines[0].CommittedFen != 600_000 || comp.Lines[0].Completion.Funded != 1 ||
			comp.Lines[0].Completion.CompletionRate.Den != 1 || comp.Lines[0].Completion.CompletionRate.PerMille == nil || *comp.Lines[0].Completion.CompletionRate.PerMille != 0 {
			t.Errorf("completion: got %+v", comp.Lines)
		}
		var rates struct {
			Total struct {
				Response struct {
					Num      int64  `json:"num"`
					Den      int64  `json:"den"`
					PerMille *int64 `json:"per_mille"`
				} `json:"response"`
			} `json:"total"`
			Communities []struct {
				Community string `json:"community"`
			} `json:"communities"`
		}
		// Both needs were accepted an hour after filing.
		if got := a.call(t, "cadre", "GET", "/api/v1/reports/rates?from=2026-01-01&to=2026-12-01", nil, &rates); got != 200 {
			t.Fatalf("rates: status %d", got)
		}
		r := rates.Total.Response
		if r.Num != 2 || r.Den != 2 || r.PerMille == nil || *r.PerMille != 1000 || len(rates.Communities) != 1 || rates.Communities[0].Community != aComm {
			t.Errorf("rates: got %+v", rates)
		}
		var e apiError
		if got := a.call(t, "staff", "GET", "/api/v1/reports/rates?from=someday", nil, &e); got != 400 || e.Error.Fields["from"] == "" {
			t.Errorf("bad from: status %d %+v", got, e)
		}
	})
}

// TestAllocationWeightsBody pins issue 8 items 8 and 11: a partial PUT must
// not zero the weights it leaves out, GET's output is PUT-able as is, and
// the role is checked before the body.
func TestAllocationWeightsBody(t *testing.T) {
	a := newAllocationApp(t)
	const path = "/api/v1/allocation/weights/2027"
	type weights struct {
		Sanbao           int64 `json:"sanbao"`
		Households       int64 `json:"households"`
		RepeatComplaints int64 `json:"repeat_complaints"`
		Default          bool  `json:"default"`
	}
	get := func(t *testing.T) ([]byte, weights) {
		t.Helper()
		var raw []byte
		if got := a.call(t, "finance", "GET", path, nil, &raw); got != 200 {
			t.Fatalf("GET: status %d %s", got, raw)
		}
		var w weights
		if err := json.Unmarshal(raw, &w); err != nil {
			t.Fatal(err)
		}
		return raw, w
	}

	t.Run("partial body is refused", func(t *testing.T) {
		var e apiError
		if got := a.call(t, "finance", "PUT", path, map[string]any{"sanbao": 50_000}, &e); got != 400 {
			t.Fatalf("status: got %d (%+v), want 400", got, e)
		}
		for _, name := range []string{"households", "co_signers", "repeat_complaints", "cost_reference_fen"} {
			if e.Error.Fields[name] == "" {
				t.Errorf("field %s: got no error, want 必填 (%+v)", name, e.Error.Fields)
			}
		}
		if _, w := get(t); !w.Default || w.Households != 3_000 {
			t.Errorf("after a partial PUT: got %+v, want the defaults untouched", w)
		}
	})
	t.Run("GET output round-trips", func(t *testing.T) {
		raw, before := get(t) // the defaults: default true, no updated_at
		var out weights
		if got := a.call(t, "finance", "PUT", path, string(raw), &out); got != 200 {
			t.Fatalf("PUT of the default GET output: status %d %+v", got, out)
		}
		raw, after := get(t) // now stored: updated_by and updated_at present
		if after.Default || after.Sanbao != before.Sanbao || after.Households != before.Households {
			t.Errorf("after PUT: got %+v, want %+v stored", after, before)
		}
		if got := a.call(t, "finance", "PUT", path, string(raw), nil); got != 200 {
			t.Errorf("PUT of the stored GET output %s: status %d, want 200", raw, got)
		}
	})
	t.Run("role before body", func(t *testing.T) {
		for _, body := range []string{`{"nonsense": 1}`, `not json`, `{"sanbao": 1}`} {
			var e apiError
			if got := a.call(t, "staff", "PUT", path, body, &e); got != 403 {
				t.Errorf("staff PUT %s: status %d (%+v), want 403", body, got, e)
			}
		}
	})
}

// TestRatesShowFirstSatisfaction: the rates report carries 一次满意率
// (first_satisfaction) beside the final 满意率 in every unit.
func TestRatesShowFirstSatisfaction(t *testing.T) {
	a := newAllocationApp(t)
	var rep struct {
		Total        map[string]json.RawMessage   `json:"total"`
		SubDistricts []map[string]json.RawMessage `json:"sub_districts"`
	}
	if got := a.call(t, "staff", "GET", "/api/v1/reports/rates?from=2026-01-01&to=2026-12-01", nil, &rep); got != 200 {
		t.Fatalf("status %d", got)
	}
	for _, key := range []string{"response", "resolution", "satisfaction", "first_satisfaction"} {
		if _, ok := rep.Total[key]; !ok {
			t.Errorf("total: no %s in %v", key, rep.Total)
		}
	}
	if len(rep.SubDistricts) != 1 || rep.SubDistricts[0]["first_satisfaction"] == nil {
		t.Errorf("sub-districts: got %v, want one with first_satisfaction", rep.SubDistricts)
	}
}
