package mobileapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"minsheng/cases"
	"minsheng/cases/casestest"
	"minsheng/internal/auth"
)

// done takes a filed case through acceptance, assignment to wangfang,
// assessment, work and completion with an after-photo, and returns it
// awaiting the verdict.
func (f *fixture) done(t *testing.T, c mcase) mcase {
	t.Helper()
	ctx := context.Background()
	got, err := f.cases.Accept(ctx, f.who["zhou"], c.ID, c.Version, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err = f.cases.Assign(ctx, f.who["zhou"], c.ID, got.Version, f.ids["wangfang"], ""); err != nil {
		t.Fatal(err)
	}
	v := mcase{Version: got.Version}
	for _, s := range []struct {
		action string
		body   map[string]any
	}{
		{"assess", map[string]any{"estimate_fen": 100_000, "households": 1, "risk": 1}},
		{"start", map[string]any{}},
		{"complete", map[string]any{"actual_cost_fen": 90_000}},
	} {
		if s.action == "complete" {
			if st := f.call(t, "wangfang", "PUT", "/mobile/v1/cases/"+c.ID+"/photos/"+uuid.NewString()+"?tag=after", casestest.JPEG(t, 32, 32), &v); st != http.StatusCreated && st != http.StatusOK {
				t.Fatalf("after-photo: status %d", st)
			}
		}
		s.body["version"] = v.Version
		if st := f.act(t, "wangfang", c.ID, s.action, uuid.NewString(), s.body, &v); st != http.StatusOK {
			t.Fatalf("%s: status %d", s.action, st)
		}
	}
	if v.Status != string(cases.StatusCompleted) {
		t.Fatalf("status %s, want completed", v.Status)
	}
	c.Version, c.Status = v.Version, v.Status
	return c
}

// fileAnonymously files a case on the site without an account and returns
// it with its tracking token.
func (f *fixture) fileAnonymously(t *testing.T) mcase {
	t.Helper()
	body := map[string]any{"area": "CG", "title": "大件垃圾堆放", "description": "旧沙发", "community": commA, "address": "六部口"}
	var c mcase
	if st := f.call(t, "", "POST", "/api/v1/cases", body, &c); st != http.StatusCreated || c.Token == "" {
		t.Fatalf("anonymous filing: status %d, token %q", st, c.Token)
	}
	return c
}

// stored is the case as the store holds it, unredacted.
func (f *fixture) stored(t *testing.T, id string) *cases.Case {
	t.Helper()
	c, err := f.cases.FindByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTokenOfFilingOnBehalfOnlyReads: the tracking token a cadre gets in
// the answer to a filing on a resident's behalf (the QR code) follows the
// case but cannot give its verdict, which sets the rates the cadre is
// judged by (issue 21, finding 7).
func TestTokenOfFilingOnBehalfOnlyReads(t *testing.T) {
	f := newFixture(t)
	c := f.done(t, f.file(t, "wangfang"))
	if c.Token == "" {
		t.Fatal("the filing's answer carries no tracking token")
	}
	var tracked struct {
		Status      string `json:"status"`
		LinkMayRate bool   `json:"link_may_rate"`
	}
	if st := f.call(t, "", "GET", "/api/v1/cases/track?number="+c.Number+"&token="+c.Token, nil, &tracked); st != http.StatusOK {
		t.Fatalf("track: status %d, want 200", st)
	}
	if tracked.Status != string(cases.StatusCompleted) || tracked.LinkMayRate {
		t.Errorf("track: status %s, link_may_rate %v; want completed, false", tracked.Status, tracked.LinkMayRate)
	}
	body := map[string]any{"number": c.Number, "token": c.Token, "version": c.Version, "verdict": "satisfied", "resolved": true}
	for _, who := range []string{"", "wangfang"} {
		t.Run("posted by "+map[string]string{"": "an anonymous caller", "wangfang": "the filing cadre, signed in"}[who], func(t *testing.T) {
			var e apiError
			if st := f.call(t, who, "POST", "/api/v1/track/verdict", body, &e); st != http.StatusForbidden {
				t.Fatalf("status %d (%s), want 403", st, e.Error.Code)
			}
			got := f.stored(t, c.ID)
			if got.Status != cases.StatusCompleted || got.Verdict != "" || len(got.Verdicts) != 0 || got.Version != c.Version {
				t.Fatalf("case %s, verdict %q, %d verdicts, version %d; want it unchanged", got.Status, got.Verdict, len(got.Verdicts), got.Version)
			}
		})
	}
}

// TestVerdictAttributed: each legitimate route records the verdict with who
// gave it — the resident signed in, the anonymous filer through their own
// link, the cadre recording the resident's answer on site.
func TestVerdictAttributed(t *testing.T) {
	f := newFixture(t)
	f.resident(t, "zhang")
	yes := true
	t.Run("the resident, signed in with the phone the cadre filed with", func(t *testing.T) {
		c := f.done(t, f.file(t, "wangfang"))
		if st := f.call(t, "zhang", "GET", "/api/v1/me/cases", nil, nil); st != http.StatusOK { // links the case
			t.Fatalf("mine: status %d", st)
		}
		var out mcase
		body := map[string]any{"version": c.Version, "verdict": "satisfied", "resolved": true}
		if st := f.call(t, "zhang", "POST", "/api/v1/me/cases/"+c.ID+"/verdict", body, &out); st != http.StatusOK {
			t.Fatalf("status %d, want 200", st)
		}
		want := cases.VerdictRecord{Verdict: cases.VerdictSatisfied, Resolved: &yes, By: f.ids["zhang"], Role: auth.RoleResident, Source: cases.VerdictByResident}
		checkVerdict(t, f.stored(t, c.ID), cases.StatusClosed, want)
	})
	t.Run("the anonymous filer, through their own link", func(t *testing.T) {
		c := f.fileAnonymously(t)
		c = f.done(t, c)
		var out struct {
			Status string `json:"status"`
		}
		body := map[string]any{"number": c.Number, "token": c.Token, "version": c.Version, "verdict": "basically_satisfied", "resolved": true}
		if st := f.call(t, "", "POST", "/api/v1/track/verdict", body, &out); st != http.StatusOK {
			t.Fatalf("status %d, want 200", st)
		}
		want := cases.VerdictRecord{Verdict: cases.VerdictBasicallySatisfied, Resolved: &yes, Source: cases.VerdictByLink}
		checkVerdict(t, f.stored(t, c.ID), cases.StatusClosed, want)
	})
	t.Run("the cadre, recording the resident's answer on site", func(t *testing.T) {
		c := f.done(t, f.file(t, "wangfang"))
		body := map[string]any{"version": c.Version, "verdict": "dissatisfied", "resolved": false, "comment": "墙角还在渗水"}
		if st := f.act(t, "wangfang", c.ID, "verdict", uuid.NewString(), body, nil); st != http.StatusOK {
			t.Fatalf("status %d, want 200", st)
		}
		no := false
		want := cases.VerdictRecord{Verdict: cases.VerdictDissatisfied, Resolved: &no, Comment: "墙角还在渗水",
			By: f.ids["wangfang"], Role: auth.RoleCadre, Source: cases.VerdictOnSite}
		got := f.stored(t, c.ID)
		checkVerdict(t, got, cases.StatusInProgress, want)
		last := got.Timeline[len(got.Timeline)-1]
		if last.Action != cases.ActReopen || last.Actor != f.ids["wangfang"] || !strings.Contains(last.Note, "代居民录入") {
			t.Errorf("timeline %+v, want a reopening by wangfang saying 代居民录入", last)
		}
	})
}

// checkVerdict compares c's only verdict with want, At aside.
func checkVerdict(t *testing.T, c *cases.Case, status cases.Status, want cases.VerdictRecord) {
	t.Helper()
	if c.Status != status || len(c.Verdicts) != 1 {
		t.Fatalf("status %s, %d verdicts; want %s with one", c.Status, len(c.Verdicts), status)
	}
	got := c.Verdicts[0]
	if got.Verdict != want.Verdict || got.By != want.By || got.Role != want.Role || got.Source != want.Source ||
		got.Comment != want.Comment || got.Resolved == nil || *got.Resolved != *want.Resolved || got.At.IsZero() {
		t.Errorf("verdict = %+v, want %+v", got, want)
	}
}

// TestOneVerdictRule: the same answer — 不满意 with no reason — gets the
// same refusal on every route that records a verdict, and changes nothing
// (issue 22, item 2).
func TestOneVerdictRule(t *testing.T) {
	f := newFixture(t)
	f.resident(t, "zhang")
	behalf := f.done(t, f.file(t, "wangfang"))
	if st := f.call(t, "zhang", "GET", "/api/v1/me/cases", nil, nil); st != http.StatusOK { // links the case
		t.Fatalf("mine: status %d", st)
	}
	anon := f.done(t, f.fileAnonymously(t))
	bare := func(c mcase) map[string]any { return map[string]any{"version": c.Version, "verdict": "dissatisfied"} }
	tracked := bare(anon)
	tracked["number"], tracked["token"] = anon.Number, anon.Token
	routes := []struct {
		name, who, path string
		c               mcase
		body            map[string]any
		header          []string
	}{
		{"resident site", "zhang", "/api/v1/me/cases/" + behalf.ID + "/verdict", behalf, bare(behalf), nil},
		{"web API as the resident", "zhang", "/api/v1/cases/" + behalf.ID + "/verdict", behalf, bare(behalf), nil},
		{"web API as the cadre (console)", "wangfang", "/api/v1/cases/" + behalf.ID + "/verdict", behalf, bare(behalf), nil},
		{"cadre app action", "wangfang", "/mobile/v1/cases/" + behalf.ID + "/actions/verdict", behalf, bare(behalf), []string{"Idempotency-Key", uuid.NewString()}},
		{"tracking link", "", "/api/v1/track/verdict", anon, tracked, nil},
	}
	for _, r := range routes {
		t.Run(r.name, func(t *testing.T) {
			var e apiError
			if st := f.call(t, r.who, "POST", r.path, r.body, &e, r.header...); st != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", st)
			}
			if e.Error.Code != "invalid" || e.Error.Fields["comment"] != "请说明不满意的原因" {
				t.Errorf("error %+v, want invalid with comment 请说明不满意的原因", e.Error)
			}
			got := f.stored(t, r.c.ID)
			if got.Status != cases.StatusCompleted || len(got.Verdicts) != 0 || got.Version != r.c.Version {
				t.Fatalf("case %s, %d verdicts, version %d; want it unchanged", got.Status, len(got.Verdicts), got.Version)
			}
		})
	}
}
