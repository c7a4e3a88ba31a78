package mobileapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"

	"minsheng/cases"
	"minsheng/cases/casestest"
)

func TestLoginWithDevice(t *testing.T) {
	f := newFixture(t)
	t.Run("cadre signs in and the device survives a refresh", func(t *testing.T) {
		var s struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
			Device       string `json:"device"`
		}
		body := map[string]any{"username": "wangfang", "password": "password-wangfang", "device": "王芳的手机"}
		if st := f.call(t, "", "POST", "/mobile/v1/auth/login", body, &s); st != http.StatusOK {
			t.Fatalf("login: status %d", st)
		}
		if s.Device != "王芳的手机" || s.AccessToken == "" {
			t.Errorf("device = %q, token %q; want 王芳的手机 and a token", s.Device, s.AccessToken)
		}
		var r struct {
			RefreshToken string `json:"refresh_token"`
			Device       string `json:"device"`
		}
		if st := f.call(t, "", "POST", "/mobile/v1/auth/refresh", map[string]any{"refresh_token": s.RefreshToken}, &r); st != http.StatusOK {
			t.Fatalf("refresh: status %d", st)
		}
		if r.Device != "王芳的手机" {
			t.Errorf("device after refresh = %q, want 王芳的手机", r.Device)
		}
		if st := f.call(t, "", "POST", "/mobile/v1/auth/logout", map[string]any{"refresh_token": r.RefreshToken}, nil); st != http.StatusNoContent {
			t.Errorf("logout: status %d, want 204", st)
		}
		if st := f.call(t, "", "POST", "/mobile/v1/auth/refresh", map[string]any{"refresh_token": r.RefreshToken}, nil); st != http.StatusUnauthorized {
			t.Errorf("refresh after logout: status %d, want 401", st)
		}
	})
	t.Run("finance is refused", func(t *testing.T) {
		f.user(t, "cai", "finance", "")
		var e apiError
		body := map[string]any{"username": "cai", "password": "password-cai", "device": "电脑"}
		if st := f.call(t, "", "POST", "/mobile/v1/auth/login", body, &e); st != http.StatusForbidden {
			t.Errorf("status %d, want 403", st)
		}
	})
}

func TestMeCounts(t *testing.T) {
	f := newFixture(t)
	f.assigned(t, "wangfang")
	f.assigned(t, "lisi")
	f.file(t, "wangfang")
	var me struct {
		CommunityName string `json:"community_name"`
		Counts        struct {
			Open         int            `json:"open"`
			OpenByStatus map[string]int `json:"open_by_status"`
		} `json:"counts"`
		Unread int `json:"unread_notifications"`
	}
	if st := f.call(t, "wangfang", "GET", "/mobile/v1/me", nil, &me); st != http.StatusOK {
		t.Fatalf("status %d", st)
	}
	if me.CommunityName != "六部口社区" {
		t.Errorf("community_name = %q, want 六部口社区", me.CommunityName)
	}
	// Mine: the one assigned to me and the unassigned one; not lisi's.
	if me.Counts.Open != 2 || me.Counts.OpenByStatus["assigned"] != 1 || me.Counts.OpenByStatus["submitted"] != 1 {
		t.Errorf("counts = %+v, want 2 open: 1 assigned, 1 submitted", me.Counts)
	}
	if me.Unread != 1 {
		t.Errorf("unread = %d, want 1 (the assignment)", me.Unread)
	}
}

// TestCreateReplayed: the outbox sends a filing again after a lost answer,
// or several copies at once; the server holds one case per client UUID,
// in a community that already holds other cases, over several rounds.
func TestCreateReplayed(t *testing.T) {
	f := newFixture(t)
	f.file(t, "wangfang")
	f.file(t, "lisi")
	const copies = 12
	for round := range 5 {
		id := uuid.NewString()
		body := caseBody()
		got := make([]mcase, copies)
		status := make([]int, copies)
		var wg sync.WaitGroup
		for i := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status[i] = f.call(t, "wangfang", "PUT", "/mobile/v1/cases/"+id, body, &got[i])
			}()
		}
		wg.Wait()
		for i := range copies {
			if status[i] != http.StatusCreated || got[i].ID != got[0].ID || got[i].ClientID != id {
				t.Fatalf("round %d copy %d: status %d id %q client %q, want 201 and %q", round, i, status[i], got[i].ID, got[i].ClientID, got[0].ID)
			}
		}
		var again mcase
		if st := f.call(t, "wangfang", "PUT", "/mobile/v1/cases/"+id, body, &again); st != http.StatusCreated || again.ID != got[0].ID {
			t.Errorf("round %d replay: status %d id %q, want 201 %q", round, st, again.ID, got[0].ID)
		}
	}
	n := 0
	err := f.cases.EachCase(context.Background(), cases.Filter{Community: commA}, func(*cases.Case) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if n != 7 {
		t.Errorf("cases stored = %d, want 7 (2 before + one per round)", n)
	}

	t.Run("another body under the same uuid is 422", func(t *testing.T) {
		id := uuid.NewString()
		if st := f.call(t, "wangfang", "PUT", "/mobile/v1/cases/"+id, caseBody(), nil); st != http.StatusCreated {
			t.Fatalf("first: %d", st)
		}
		var e apiError
		if st := f.call(t, "wangfang", "PUT", "/mobile/v1/cases/"+id, caseBody(), &e); st != http.StatusUnprocessableEntity || e.Error.Code != "unprocessable" {
			t.Errorf("status %d code %q, want 422 unprocessable", st, e.Error.Code)
		}
	})
	t.Run("another cadre's uuid makes their own case", func(t *testing.T) {
		id, body := uuid.NewString(), caseBody()
		var a, b mcase
		f.call(t, "wangfang", "PUT", "/mobile/v1/cases/"+id, body, &a)
		f.call(t, "lisi", "PUT", "/mobile/v1/cases/"+id, body, &b)
		if a.ID == "" || a.ID == b.ID {
			t.Errorf("ids %q and %q, want two different cases", a.ID, b.ID)
		}
	})
	t.Run("a filing on a resident's behalf carries a working tracking token", func(t *testing.T) {
		c := f.file(t, "wangfang")
		if c.Token == "" {
			t.Fatal("no tracking token")
		}
		if st := f.call(t, "", "GET", "/api/v1/cases/track?number="+c.Number+"&token="+c.Token, nil, nil); st != http.StatusOK {
			t.Errorf("track: status %d, want 200", st)
		}
	})
}

// TestActionsReplayed: copies of each step under one Idempotency-Key,
// sent at the same moment, answer the same result and write the timeline
// once — assess, start, complete with an after-photo, verdict — on a
// community that holds other cases, over several rounds.
func TestActionsReplayed(t *testing.T) {
	f := newFixture(t)
	f.assigned(t, "lisi")
	jpg := casestest.JPEG(t, 64, 48)
	const copies = 10
	for round := range 5 {
		c := f.assigned(t, "wangfang")
		steps := []struct {
			action string
			body   func(v int64) map[string]any
		}{
			{"assess", func(v int64) map[string]any {
				return map[string]any{"version": v, "estimate_fen": 1200000, "households": 6, "risk": 2, "elderly": 3, "disabled": 1}
			}},
			{"start", func(v int64) map[string]any { return map[string]any{"version": v} }},
			{"complete", func(v int64) map[string]any { return map[string]any{"version": v, "actual_cost_fen": 1150000} }},
			{"verdict", func(v int64) map[string]any { return map[string]any{"version": v, "verdict": "satisfied"} }},
		}
		version := c.Version
		var last mcase
		for _, s := range steps {
			if s.action == "complete" {
				var withPhoto mcase
				if st := f.call(t, "wangfang", "PUT", "/mobile/v1/cases/"+c.ID+"/photos/"+uuid.NewString()+"?tag=after", jpg, &withPhoto); st != http.StatusCreated {
					t.Fatalf("after photo: status %d", st)
				}
				version = withPhoto.Version
			}
			key, body := uuid.NewString(), s.body(version)
			got := make([]mcase, copies)
			status := make([]int, copies)
			var wg sync.WaitGroup
			for i := range copies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					status[i] = f.act(t, "wangfang", c.ID, s.action, key, body, &got[i])
				}()
			}
			wg.Wait()
			for i := range copies {
				if status[i] != http.StatusOK || got[i].Version != got[0].Version {
					t.Fatalf("round %d %s copy %d: status %d version %d, want 200 and %d", round, s.action, i, status[i], got[i].Version, got[0].Version)
				}
			}
			version, last = got[0].Version, got[0]
		}
		var fresh mcase
		f.call(t, "wangfang", "GET", "/mobile/v1/cases/"+c.ID, nil, &fresh)
		for _, a := range []string{"assess", "start", "complete", "verdict"} {
			if n := fresh.count(a); n != 1 {
				t.Errorf("round %d: timeline has %d %q entries, want 1", round, n, a)
			}
		}
		if fresh.Status != "closed" || last.Status != "closed" {
			t.Errorf("round %d: status %q, want closed", round, fresh.Status)
		}
	}
	t.Run("the same key with another body is 422", func(t *testing.T) {
		c := f.assigned(t, "wangfang")
		key := uuid.NewString()
		body := map[string]any{"version": c.Version, "estimate_fen": 100, "households": 1, "risk": 1}
		if st := f.act(t, "wangfang", c.ID, "assess", key, body, nil); st != http.StatusOK {
			t.Fatalf("first: %d", st)
		}
		body["estimate_fen"] = 999
		if st := f.act(t, "wangfang", c.ID, "assess", key, body, nil); st != http.StatusUnprocessableEntity {
			t.Errorf("status %d, want 422", st)
		}
	})
	t.Run("a refused step is answered the same way again", func(t *testing.T) {
		c := f.assigned(t, "wangfang")
		key := uuid.NewString()
		body := map[string]any{"version": c.Version}
		var e1, e2 apiError
		s1 := f.act(t, "wangfang", c.ID, "start", key, body, &e1)
		s2 := f.act(t, "wangfang", c.ID, "start", key, body, &e2)
		if s1 != http.StatusConflict || s2 != s1 || e1.Error.Message != e2.Error.Message {
			t.Errorf("statuses %d, %d (%q, %q); want 409 twice with one message", s1, s2, e1.Error.Message, e2.Error.Message)
		}
	})
}

func TestPhotos(t *testing.T) {
	f := newFixture(t)
	c := f.assigned(t, "wangfang")
	jpg := casestest.JPEG(t, 320, 240)
	t.Run("simultaneous copies of one upload store one photo", func(t *testing.T) {
		for round := range 3 {
			pid := uuid.NewString()
			const copies = 8
			status := make([]int, copies)
			var wg sync.WaitGroup
			for i := range copies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					status[i] = f.call(t, "wangfang", "PUT", "/mobile/v1/cases/"+c.ID+"/photos/"+pid+"?tag=before", jpg, nil)
				}()
			}
			wg.Wait()
			for i, st := range status {
				if st != http.StatusCreated {
					t.Fatalf("round %d copy %d: status %d", round, i, st)
				}
			}
			var got mcase
			f.call(t, "wangfang", "GET", "/mobile/v1/cases/"+c.ID, nil, &got)
			if len(got.Photos) != round+1 {
				t.Fatalf("round %d: %d photos, want %d", round, len(got.Photos), round+1)
			}
		}
	})
	t.Run("a wrongly taken photo is deleted, and a repeated delete is harmless", func(t *testing.T) {
		var got mcase
		f.call(t, "wangfang", "GET", "/mobile/v1/cases/"+c.ID, nil, &got)
		pid := got.Photos[0].ID
		for range 2 {
			var after mcase
			if st := f.call(t, "wangfang", "DELETE", "/mobile/v1/cases/"+c.ID+"/photos/"+pid, nil, &after); st != http.StatusOK {
				t.Fatalf("delete: status %d", st)
			}
			if len(after.Photos) != 2 {
				t.Errorf("photos after delete = %d, want 2", len(after.Photos))
			}
		}
		if st := f.call(t, "far", "DELETE", "/mobile/v1/cases/"+c.ID+"/photos/"+got.Photos[1].ID, nil, nil); st != http.StatusForbidden {
			t.Errorf("another community's cadre: status %d, want 403", st)
		}
	})
}
