package cases_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"minsheng"
	"minsheng/cases"
	"minsheng/cases/casestest"
	"minsheng/internal/auth"
)

func TestGetAndRedact(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.to(t, cases.StatusAssigned)
	if _, err := e.svc.Cosign(ctx, neighbour, c.ID); err != nil {
		t.Fatal(err)
	}
	masked := auth.MaskPhone(phone)
	tests := []struct {
		name      string
		p         string
		code      string // Get's error code, "" for success
		wantPhone string
	}{
		{"filer", "resident", "", phone},
		{"handling cadre", "cadre", "", phone},
		{"subdistrict staff of the sub-district", "staff", "", phone},
		{"admin", "admin", "", phone},
		{"finance sees it masked", "finance", "", masked},
		{"co-signer sees the public view, no contact", "neighbour", "", ""},
		{"cadre of another community", "cadreNext", minsheng.EFORBIDDEN, masked},
		{"cadre of another sub-district", "cadreFar", minsheng.EFORBIDDEN, masked},
		{"subdistrict staff elsewhere", "staffFar", minsheng.EFORBIDDEN, masked},
		{"unrelated resident", "stranger", minsheng.EFORBIDDEN, ""},
		{"anonymous", "anonymous", minsheng.EUNAUTHORIZED, masked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := principalBy[tt.p]
			got, err := e.svc.Get(ctx, p, c.ID)
			if code := minsheng.ErrorCode(err); code != tt.code {
				t.Fatalf("Get code = %q (%v), want %q", code, err, tt.code)
			}
			if err == nil && got.ContactPhone != tt.wantPhone {
				t.Errorf("Get phone = %q, want %q", got.ContactPhone, tt.wantPhone)
			}
			// Redact decides on its own too, whatever path shows a case.
			if got, want := c.Redact(p).ContactPhone, tt.wantPhone; got != want {
				t.Errorf("Redact phone = %q, want %q", got, want)
			}
		})
	}
	t.Run("others' ids are hidden from a co-signer", func(t *testing.T) {
		got, err := e.svc.Get(ctx, neighbour, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.FilerID != "" || got.Cosigners != nil || got.CosignCount != 1 || got.ContactName != "" || !got.IsPublicView() {
			t.Errorf("filer %q cosigners %v count %d name %q public %v", got.FilerID, got.Cosigners, got.CosignCount, got.ContactName, got.IsPublicView())
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		_, err := e.svc.Get(ctx, staff, "nope")
		wantCode(t, err, minsheng.ENOTFOUND)
	})
}

// TestPublicView is issue 8 item 5: a co-signer, and anyone shown a
// similar case, gets the public view only. The case carries everything a
// leak could expose — exact address, GPS from a photo's EXIF, contact,
// assigned staff, a timeline with staff names — and none of it appears in
// any answer a co-signer gets.
func TestPublicView(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.submit(t, resident, input())
	if _, err := e.svc.AddPhoto(ctx, resident, c.ID, cases.TagBefore, bytesReader(casestest.JPEGWithGPS(t, 32, 32))); err != nil {
		t.Fatal(err)
	}
	c, _ = e.svc.FindByID(ctx, c.ID)
	var err error
	if c, err = e.svc.Accept(ctx, staff, c.ID, c.Version, "已受理"); err != nil {
		t.Fatal(err)
	}
	if c, err = e.svc.Assign(ctx, staff, c.ID, c.Version, cadre.UserID, ""); err != nil {
		t.Fatal(err)
	}
	if full, _ := e.svc.FindByID(ctx, c.ID); full.Location.Lat == nil || full.AssignedName == "" {
		t.Fatalf("set-up: lat %v assigned %q, want both", full.Location.Lat, full.AssignedName)
	}

	absent := []string{"description", "location", "address", "lat", "lng", "contact_name", "contact_phone",
		"filer_id", "filed_by", "cosigners", "timeline", "assigned_to", "assigned_name", "assessment", "budget",
		"uploaded_by", "key", "thumb_key", "version"}
	// check encodes v as a client would get it and looks for the keys
	// anywhere in it, and for the values that must not leak.
	check := func(t *testing.T, v any) {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		_ = json.Unmarshal(b, &doc)
		keys := map[string]bool{}
		var walk func(any)
		walk = func(x any) {
			switch x := x.(type) {
			case map[string]any:
				for k, v := range x {
					keys[k] = true
					walk(v)
				}
			case []any:
				for _, v := range x {
					walk(v)
				}
			}
		}
		walk(doc)
		for _, k := range absent {
			if keys[k] {
				t.Errorf("public view has %q: %s", k, b)
			}
		}
		for _, leak := range []string{"六部口3号楼", phone, "138****", "张三", cadre.Name, staff.Name, resident.UserID} {
			if strings.Contains(string(b), leak) {
				t.Errorf("public view leaks %q: %s", leak, b)
			}
		}
		for _, k := range []string{"id", "number", "title", "area", "community", "status", "filed_at", "photos", "public_view"} {
			if !keys[k] {
				t.Errorf("public view lacks %q: %s", k, b)
			}
		}
	}
	t.Run("similar", func(t *testing.T) {
		got, err := e.svc.Similar(ctx, neighbour, commA, cases.AreaUrban, "楼道灯不亮")
		if err != nil || len(got) != 1 || got[0].ID != c.ID {
			t.Fatalf("similar = %+v, %v", got, err)
		}
		if len(got[0].Photos) != 1 || got[0].Photos[0].ThumbURL == "" {
			t.Errorf("photos = %+v, want the photo with a link", got[0].Photos)
		}
		check(t, got)
	})
	t.Run("cosign answer", func(t *testing.T) {
		got, err := e.svc.Cosign(ctx, neighbour, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		check(t, got)
	})
	t.Run("co-signer reads the case", func(t *testing.T) {
		got, err := e.svc.Get(ctx, neighbour, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Location.Address != "" || got.Location.Lat != nil || got.AssignedName != "" || len(got.Timeline) != 0 {
			t.Errorf("Go value keeps address %q lat %v assigned %q timeline %d", got.Location.Address, got.Location.Lat, got.AssignedName, len(got.Timeline))
		}
		check(t, got)
	})
	t.Run("co-signer's list", func(t *testing.T) {
		items, _, err := e.svc.Find(ctx, neighbour, cases.Filter{})
		if err != nil || len(items) != 1 {
			t.Fatalf("list = %d items, %v", len(items), err)
		}
		check(t, items)
	})
	t.Run("the filer still sees everything", func(t *testing.T) {
		got, err := e.svc.Get(ctx, resident, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(got)
		if got.IsPublicView() || !strings.Contains(string(b), `"address"`) || !strings.Contains(string(b), phone) {
			t.Errorf("filer's view = %s", b)
		}
	})
}

func TestCosign(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.submit(t, resident, input())
	got, err := e.svc.Cosign(ctx, neighbour, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := e.svc.FindByID(ctx, c.ID)
	if got.CosignCount != 1 || !got.IsPublicView() || stored.Version != c.Version {
		t.Errorf("count %d public %v version %d, want 1, the public view and unchanged %d", got.CosignCount, got.IsPublicView(), stored.Version, c.Version)
	}
	closed := e.to(t, cases.StatusClosed)
	in := input()
	in.Public = false
	private := e.submit(t, resident, in)
	tests := []struct {
		name string
		p    string
		id   string
		code string
	}{
		{"twice", "neighbour", c.ID, minsheng.ECONFLICT},
		{"own case", "resident", c.ID, minsheng.ECONFLICT},
		{"closed case", "stranger", closed.ID, minsheng.ECONFLICT},
		{"another's 不公开 case, as if unknown", "stranger", private.ID, minsheng.ENOTFOUND},
		{"staff", "cadre", c.ID, minsheng.EFORBIDDEN},
		{"anonymous", "anonymous", c.ID, minsheng.EFORBIDDEN},
		{"unknown case", "stranger", "nope", minsheng.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Cosign(ctx, principalBy[tt.p], tt.id)
			wantCode(t, err, tt.code)
		})
	}
	stored, _ = e.svc.FindByID(ctx, c.ID)
	if got := stored.CosignCount; got != 1 {
		t.Errorf("co-signers after refusals = %d, want 1", got)
	}
}

// TestSimultaneousCosigns: 8 copies of one resident's +1 at once, on a case
// that already holds other co-signers, over 5 rounds: one succeeds, the
// rest are ECONFLICT, and the case holds one voice and one event for it.
func TestSimultaneousCosigns(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.submit(t, resident, input())
	for round := 0; round < 5; round++ {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			p := auth.Principal{UserID: fmt.Sprintf("res-cosign-%d", round), Role: auth.RoleResident}
			errs := make([]error, 8)
			var wg sync.WaitGroup
			for i := range errs {
				wg.Go(func() { _, errs[i] = e.svc.Cosign(ctx, p, c.ID) })
			}
			wg.Wait()
			ok := 0
			for i, err := range errs {
				switch {
				case err == nil:
					ok++
				case !isCode(err, minsheng.ECONFLICT):
					t.Errorf("cosign %d: %v", i, err)
				}
			}
			got, _ := e.svc.FindByID(ctx, c.ID)
			voices, events := 0, 0
			for _, u := range got.Cosigners {
				if u == p.UserID {
					voices++
				}
			}
			for _, ev := range got.Timeline {
				if ev.Action == cases.ActCosign && ev.Actor == p.UserID {
					events++
				}
			}
			if ok != 1 || voices != 1 || events != 1 || len(got.Cosigners) != round+1 {
				t.Errorf("%d succeeded, %d voices, %d events, %d co-signers; want 1, 1, 1, %d", ok, voices, events, len(got.Cosigners), round+1)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	kept := e.submit(t, resident, input())
	in := input()
	in.Title = "楼道灯坏了"
	dup := e.submit(t, neighbour, in)
	if _, err := e.svc.Cosign(ctx, stranger, dup.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddPhoto(ctx, neighbour, dup.ID, cases.TagBefore, bytesReader(jpeg(t))); err != nil {
		t.Fatal(err)
	}
	dup, _ = e.svc.FindByID(ctx, dup.ID)

	got, err := e.svc.Merge(ctx, staff, dup.ID, dup.Version, kept.ID, "同一楼道")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != cases.StatusMerged || got.MergedInto != kept.ID || got.ClosedAt == nil {
		t.Errorf("merged case: %s into %q", got.Status, got.MergedInto)
	}
	k, _ := e.svc.FindByID(ctx, kept.ID)
	if got, want := strings.Join(k.Cosigners, ","), stranger.UserID+","+neighbour.UserID; got != want {
		t.Errorf("kept co-signers = %s, want %s", got, want)
	}
	if len(k.Photos) != 1 || k.Photos[0].Key != dup.Photos[0].Key || k.PhotoCount != 1 {
		t.Errorf("kept photos = %+v, want the duplicate's", k.Photos)
	}
	if last := k.Timeline[len(k.Timeline)-1]; last.Action != cases.ActMergedIn || !strings.Contains(last.Note, dup.Number) {
		t.Errorf("kept last event = %+v", last)
	}

	t.Run("refused", func(t *testing.T) {
		far := input()
		far.Community = commB
		farCase := e.submit(t, resident, far)
		other := e.submit(t, resident, input())
		tests := []struct {
			name, p, into, code string
		}{
			{"into a case elsewhere", "staff", farCase.ID, minsheng.EFORBIDDEN},
			{"into a merged case", "staff", dup.ID, minsheng.EINVALID},
			{"by a cadre", "cadre", kept.ID, minsheng.EFORBIDDEN},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.svc.Merge(ctx, principalBy[tt.p], other.ID, other.Version, tt.into, "")
				wantCode(t, err, tt.code)
			})
		}
		_, err := e.svc.Merge(ctx, staff, dup.ID, got.Version, kept.ID, "")
		wantCode(t, err, minsheng.ECONFLICT)
		t.Run("across sub-districts, even by admin", func(t *testing.T) {
			_, err := e.svc.Merge(ctx, admin, other.ID, other.Version, farCase.ID, "")
			if minsheng.ErrorCode(err) != minsheng.EINVALID || minsheng.ErrorFields(err)["into"] == "" {
				t.Errorf("err = %v, want EINVALID on into", err)
			}
			if c, _ := e.svc.FindByID(ctx, farCase.ID); len(c.Cosigners) != 0 || len(c.MergedFrom) != 0 {
				t.Errorf("far case = %v co-signers, merged from %v; want untouched", c.Cosigners, c.MergedFrom)
			}
		})
	})
}

// TestMergeKeepsThePhotoCap: a duplicate's photos join the kept case only
// up to MaxPhotos; the rest stay with the duplicate and the timeline says so.
func TestMergeKeepsThePhotoCap(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	kept := e.submit(t, resident, input())
	dup := e.submit(t, neighbour, input())
	for i := 0; i < 7; i++ {
		if _, err := e.svc.AddPhoto(ctx, resident, kept.ID, cases.TagBefore, bytesReader(jpeg(t))); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		if _, err := e.svc.AddPhoto(ctx, neighbour, dup.ID, cases.TagBefore, bytesReader(jpeg(t))); err != nil {
			t.Fatal(err)
		}
	}
	dup, _ = e.svc.FindByID(ctx, dup.ID)
	if _, err := e.svc.Merge(ctx, staff, dup.ID, dup.Version, kept.ID, ""); err != nil {
		t.Fatal(err)
	}
	k, _ := e.svc.FindByID(ctx, kept.ID)
	if len(k.Photos) != cases.MaxPhotos || k.PhotoCount != cases.MaxPhotos {
		t.Errorf("kept photos = %d (count %d), want %d", len(k.Photos), k.PhotoCount, cases.MaxPhotos)
	}
	if last := k.Timeline[len(k.Timeline)-1]; !strings.Contains(last.Note, "2张未并入") {
		t.Errorf("kept last event = %q, want it to say 2 photos stayed behind", last.Note)
	}
	if _, err := e.svc.AddPhoto(ctx, resident, kept.ID, cases.TagBefore, bytesReader(jpeg(t))); minsheng.ErrorCode(err) == "" {
		t.Errorf("a tenth photo was accepted after the merge")
	}
}

// TestMergeCrashBetweenCopyAndClose: a merge stopped after the kept case
// got the duplicate's voices and photos leaves the duplicate open; the
// retried merge closes it without copying anything twice.
func TestMergeCrashBetweenCopyAndClose(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	kept := e.submit(t, resident, input())
	dup := e.submit(t, neighbour, input())
	if _, err := e.svc.AddPhoto(ctx, neighbour, dup.ID, cases.TagBefore, bytesReader(jpeg(t))); err != nil {
		t.Fatal(err)
	}
	dup, _ = e.svc.FindByID(ctx, dup.ID)

	crash := errors.New("killed")
	cases.SetMergeFault(e.svc, func() error { return crash })
	if _, err := e.svc.Merge(ctx, staff, dup.ID, dup.Version, kept.ID, ""); !errors.Is(err, crash) {
		t.Fatalf("merge with fault: %v", err)
	}
	mid, _ := e.svc.FindByID(ctx, dup.ID)
	if mid.Status != cases.StatusSubmitted {
		t.Fatalf("duplicate after the crash: %s, want still open", mid.Status)
	}

	cases.SetMergeFault(e.svc, nil)
	got, err := e.svc.Merge(ctx, staff, mid.ID, mid.Version, kept.ID, "")
	if err != nil {
		t.Fatalf("retried merge: %v", err)
	}
	if got.Status != cases.StatusMerged {
		t.Errorf("duplicate: %s, want merged", got.Status)
	}
	k, _ := e.svc.FindByID(ctx, kept.ID)
	if len(k.Photos) != 1 || k.PhotoCount != 1 {
		t.Errorf("kept photos = %d (count %d), want 1", len(k.Photos), k.PhotoCount)
	}
	if len(k.Cosigners) != 1 || k.Cosigners[0] != neighbour.UserID {
		t.Errorf("kept co-signers = %v, want only the neighbour once", k.Cosigners)
	}
	merged := 0
	for _, ev := range k.Timeline {
		if ev.Action == cases.ActMergedIn {
			merged++
		}
	}
	if merged != 1 {
		t.Errorf("merged-in events on the kept case = %d, want 1", merged)
	}
}

func TestFind(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Six cases an hour apart: four in community A (one by the neighbour),
	// one in A2, one in sub-district B.
	var made []*cases.Case
	file := func(p auth.Principal, comm, title, area string) *cases.Case {
		in := input()
		in.Community, in.Title, in.Area = comm, title, area
		c := e.submit(t, p, in)
		made = append(made, c)
		e.clock.Advance(time.Hour)
		return c
	}
	file(resident, commA, "路灯不亮 (2号)", cases.AreaUrban)
	a2 := file(resident, commA, "垃圾清运不及时", cases.AreaUrban)
	a3 := file(neighbour, commA, "养老驿站开放时间", cases.AreaLivelihood)
	file(resident, commA, "路灯[坏了]", cases.AreaUrban)
	file(resident, commA2, "路面塌陷", cases.AreaUrban)
	file(resident, commB, "停车自治", cases.AreaCommunity)
	if _, err := e.svc.Accept(ctx, staff, a2.ID, a2.Version, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Cosign(ctx, resident, a3.ID); err != nil {
		t.Fatal(err)
	}
	ids := func(cs []*cases.Case) string {
		var s []string
		for _, c := range cs {
			for i, m := range made {
				if m.ID == c.ID {
					s = append(s, fmt.Sprint(i))
				}
			}
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name string
		p    string
		f    cases.Filter
		want string // indexes into made, in order
	}{
		{"resident: own and co-signed, newest first", "resident", cases.Filter{}, "5,4,3,2,1,0"},
		{"neighbour: own", "neighbour", cases.Filter{}, "2"},
		{"cadre: community", "cadre", cases.Filter{}, "3,2,1,0"},
		{"subdistrict: sub-district", "staff", cases.Filter{}, "4,3,2,1,0"},
		{"subdistrict: one community", "staff", cases.Filter{Community: commA2}, "4"},
		{"finance: all", "finance", cases.Filter{}, "5,4,3,2,1,0"},
		{"admin: other sub-district", "admin", cases.Filter{SubDistrict: subB}, "5"},
		{"status", "staff", cases.Filter{Status: cases.StatusAccepted}, "1"},
		{"area", "cadre", cases.Filter{Area: cases.AreaLivelihood}, "2"},
		{"text is literal", "finance", cases.Filter{Text: "[坏了]"}, "3"},
		{"text with regexp characters", "finance", cases.Filter{Text: "(2号"}, "0"},
		{"text matching nothing", "finance", cases.Filter{Text: ".*"}, ""},
		{"sort by deadline", "staff", cases.Filter{Sort: cases.SortDeadline}, "0,2,3,4,1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := e.svc.Find(ctx, principalBy[tt.p], tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if ids(got) != tt.want || next != "" {
				t.Errorf("found %q (next %q), want %q", ids(got), next, tt.want)
			}
		})
	}

	t.Run("overdue", func(t *testing.T) {
		// 25 hours after the first filing only its 24-hour response
		// deadline has passed (a2 was accepted, the rest are younger).
		e.clock.Advance(19 * time.Hour)
		got, _, err := e.svc.Find(ctx, finance, cases.Filter{Overdue: true, Sort: cases.SortDeadline})
		if err != nil {
			t.Fatal(err)
		}
		if ids(got) != "0" {
			t.Errorf("overdue = %q, want %q", ids(got), "0")
		}
		if len(got) == 1 && !got[0].Overdue {
			t.Errorf("overdue case not flagged overdue")
		}
		e.clock.Advance(-19 * time.Hour)
	})

	for _, sort := range []string{cases.SortFiled, cases.SortDeadline} {
		t.Run("pages by "+sort, func(t *testing.T) {
			all, _, err := e.svc.Find(ctx, finance, cases.Filter{Sort: sort})
			if err != nil {
				t.Fatal(err)
			}
			var paged []*cases.Case
			f := cases.Filter{Sort: sort, Limit: 4}
			for range 5 {
				page, next, err := e.svc.Find(ctx, finance, f)
				if err != nil {
					t.Fatal(err)
				}
				paged = append(paged, page...)
				if next == "" {
					break
				}
				f.Cursor = next
			}
			if got, want := ids(paged), ids(all); got != want {
				t.Errorf("paged = %q, want %q", got, want)
			}
		})
	}

	refusals := []struct {
		name, p string
		f       cases.Filter
		code    string
		field   string
	}{
		{"unknown status", "staff", cases.Filter{Status: "done"}, minsheng.EINVALID, "status"},
		{"unknown area", "staff", cases.Filter{Area: "XX"}, minsheng.EINVALID, "area"},
		{"unknown sort", "staff", cases.Filter{Sort: "votes"}, minsheng.EINVALID, "sort"},
		{"limit over 100", "staff", cases.Filter{Limit: 101}, minsheng.EINVALID, "limit"},
		{"negative limit", "staff", cases.Filter{Limit: -1}, minsheng.EINVALID, "limit"},
		{"text too long", "staff", cases.Filter{Text: strings.Repeat("字", 51)}, minsheng.EINVALID, "text"},
		{"bad cursor", "staff", cases.Filter{Cursor: "!!!"}, minsheng.EINVALID, "cursor"},
		{"cadre asks for another community", "cadre", cases.Filter{Community: commA2}, minsheng.EFORBIDDEN, ""},
		{"staff asks for another sub-district", "staff", cases.Filter{SubDistrict: subB}, minsheng.EFORBIDDEN, ""},
		{"staff asks for a community elsewhere", "staff", cases.Filter{Community: commB}, minsheng.EFORBIDDEN, ""},
		{"anonymous", "anonymous", cases.Filter{}, minsheng.EUNAUTHORIZED, ""},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.svc.Find(ctx, principalBy[tt.p], tt.f)
			wantCode(t, err, tt.code)
			if tt.field != "" && minsheng.ErrorFields(err)[tt.field] == "" {
				t.Errorf("fields = %v, want %q", minsheng.ErrorFields(err), tt.field)
			}
		})
	}

	t.Run("list masks phones for finance", func(t *testing.T) {
		got, _, err := e.svc.Find(ctx, finance, cases.Filter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got[0].ContactPhone != auth.MaskPhone(phone) {
			t.Errorf("phone = %q, want masked", got[0].ContactPhone)
		}
	})
	t.Run("EachCase streams unscoped", func(t *testing.T) {
		var n int
		err := e.svc.EachCase(ctx, cases.Filter{Area: cases.AreaUrban}, func(c *cases.Case) error { n++; return nil })
		if err != nil || n != 4 {
			t.Errorf("EachCase = %d, %v; want 4, nil", n, err)
		}
		stop := errors.New("stop")
		if err := e.svc.EachCase(ctx, cases.Filter{}, func(*cases.Case) error { return stop }); !errors.Is(err, stop) {
			t.Errorf("EachCase error = %v, want fn's", err)
		}
	})
}

func TestSimilar(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	file := func(title, desc, comm, area string) *cases.Case {
		in := input()
		in.Title, in.Description, in.Community, in.Area = title, desc, comm, area
		return e.submit(t, resident, in)
	}
	file("楼道灯不亮了", "二单元楼道灯不亮", commA, cases.AreaUrban)
	e.clock.Advance(91 * 24 * time.Hour)
	near := file("3号楼楼道灯不亮", "二单元楼道灯坏了一个月", commA, cases.AreaUrban)
	nearer := file("楼道灯不亮", "楼道灯不亮，晚上看不见", commA, cases.AreaUrban)
	file("垃圾桶满了", "小区垃圾桶没人清运", commA, cases.AreaUrban)
	file("楼道灯不亮", "楼道灯不亮", commA2, cases.AreaUrban)
	file("楼道灯不亮", "楼道灯不亮", commA, cases.AreaSafety)
	done := file("楼道灯不亮", "楼道灯不亮", commA, cases.AreaUrban)
	if _, err := e.svc.Cancel(ctx, staff, done.ID, done.Version, "重复"); err != nil {
		t.Fatal(err)
	}

	got, err := e.svc.Similar(ctx, stranger, commA, cases.AreaUrban, "楼道灯不亮")
	if err != nil {
		t.Fatal(err)
	}
	var numbers []string
	for _, s := range got {
		numbers = append(numbers, s.Number)
	}
	if want := []string{nearer.Number, near.Number}; strings.Join(numbers, ",") != strings.Join(want, ",") {
		t.Errorf("similar = %v, want %v (best first; not old, other community, other area, unrelated or closed)", numbers, want)
	}
	for _, s := range got {
		if s.Score != 0 {
			t.Errorf("a resident got score %d for %s, want none", s.Score, s.Number)
		}
	}
	if got, err = e.svc.Similar(ctx, staff, commA, cases.AreaUrban, "楼道灯不亮"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Score < got[1].Score || got[1].Score <= 0 {
		t.Errorf("staff got %+v, want two with scores, best first", got)
	}

	refusals := []struct {
		name, p, comm, area, text, code string
	}{
		{"unknown community", "stranger", "nowhere", cases.AreaUrban, "灯", minsheng.EINVALID},
		{"unknown area", "stranger", commA, "XX", "灯", minsheng.EINVALID},
		{"no text", "stranger", commA, cases.AreaUrban, " ", minsheng.EINVALID},
		{"cadre of another community", "cadreNext", commA, cases.AreaUrban, "灯", minsheng.EFORBIDDEN},
		{"anonymous", "anonymous", commA, cases.AreaUrban, "灯", minsheng.EUNAUTHORIZED},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Similar(ctx, principalBy[tt.p], tt.comm, tt.area, tt.text)
			wantCode(t, err, tt.code)
		})
	}
}

func TestCatalogAndBudgetCopy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.to(t, cases.StatusAccepted)

	got, err := e.svc.SetCatalogItem(ctx, staff, c.ID, c.Version, "CG0203", 7)
	if err != nil {
		t.Fatal(err)
	}
	want := c.AcceptedAt.AddDate(0, 0, 7)
	if got.CatalogItem != "CG0203" || got.SLADays != 7 || !got.CompletionDueAt.Equal(want) || got.Version != c.Version+1 {
		t.Errorf("catalog %q sla %d due %v v%d; want CG0203 7 %v v%d", got.CatalogItem, got.SLADays, got.CompletionDueAt, got.Version, want, c.Version+1)
	}
	_, err = e.svc.SetCatalogItem(ctx, cadre, c.ID, got.Version, "CG0203", 7)
	wantCode(t, err, minsheng.EFORBIDDEN)

	t.Run("sla from the catalog applies on acceptance", func(t *testing.T) {
		c := e.submit(t, resident, input())
		c, err := e.svc.SetCatalogItem(ctx, staff, c.ID, c.Version, "CG0203", 3)
		if err != nil {
			t.Fatal(err)
		}
		c, err = e.svc.Accept(ctx, staff, c.ID, c.Version, "")
		if err != nil {
			t.Fatal(err)
		}
		if want := e.clock.Now().AddDate(0, 0, 3); !c.CompletionDueAt.Equal(want) {
			t.Errorf("due = %v, want %v", c.CompletionDueAt, want)
		}
	})

	link := &cases.BudgetLink{LineID: "line-1", ItemCode: "CG0203", EstimateFen: 50000, ReservedFen: 50000,
		State: "reserved", LinkedAt: e.clock.Now(), LinkedBy: staff.UserID}
	if err := e.svc.SetBudgetCopy(ctx, auth.Principal{}, c.ID, link, "已预留 500.00元"); err != nil {
		t.Fatal(err)
	}
	stored, _ := e.svc.FindByID(ctx, c.ID)
	if stored.Budget == nil || *stored.Budget != *link {
		t.Errorf("budget = %+v, want %+v", stored.Budget, link)
	}
	if stored.Version != got.Version {
		t.Errorf("version = %d, want unchanged %d", stored.Version, got.Version)
	}
	if last := stored.Timeline[len(stored.Timeline)-1]; last.Action != cases.ActBudget || last.Note != "已预留 500.00元" {
		t.Errorf("last event = %+v", last)
	}
	if err := e.svc.SetBudgetCopy(ctx, auth.Principal{}, c.ID, nil, ""); err != nil {
		t.Fatal(err)
	}
	stored, _ = e.svc.FindByID(ctx, c.ID)
	if stored.Budget != nil {
		t.Errorf("budget = %+v after removal", stored.Budget)
	}
	wantCode(t, e.svc.SetBudgetCopy(ctx, auth.Principal{}, "nope", link, ""), minsheng.ENOTFOUND)
}

func TestPurgePersonalData(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	closedEarly := e.to(t, cases.StatusClosed)
	e.clock.Advance(400 * 24 * time.Hour)
	open := e.to(t, cases.StatusInProgress)
	closedLate := e.to(t, cases.StatusClosed)

	n, err := e.svc.PurgePersonalData(ctx, e.clock.Now().Add(-365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("purged %d, want 1", n)
	}
	for _, tt := range []struct {
		name   string
		id     string
		purged bool
	}{
		{"closed before the cut-off", closedEarly.ID, true},
		{"still open", open.ID, false},
		{"closed recently", closedLate.ID, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := e.svc.FindByID(ctx, tt.id)
			blank := c.ContactPhone == "" && c.ContactName == "" && c.PurgedAt != nil
			if blank != tt.purged {
				t.Errorf("phone %q name %q purged at %v; want purged = %v", c.ContactPhone, c.ContactName, c.PurgedAt, tt.purged)
			}
			if c.Status == "" || len(c.Timeline) == 0 {
				t.Errorf("purge removed more than personal data")
			}
		})
	}
	if n, _ := e.svc.PurgePersonalData(ctx, e.clock.Now().Add(-365*24*time.Hour)); n != 0 {
		t.Errorf("second purge = %d, want 0", n)
	}
}
