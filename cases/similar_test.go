package cases_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"minsheng"
	"minsheng/cases"
)

func TestSimilarWithoutArea(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	file := func(title, desc, comm, area string, public bool) *cases.Case {
		in := input()
		in.Title, in.Description, in.Community, in.Area, in.Public = title, desc, comm, area, public
		return e.submit(t, resident, in)
	}
	toilet := file("胡同旱厕改造", "夏天气味很重，老人如厕不便", commA, cases.AreaCommunity, true)
	far := file("院里旱厕需要翻修", "地面不平，需要人工清掏", commB, cases.AreaLivelihood, true)
	private := file("旱厕漏水", "不想公开的诉求", commA2, cases.AreaCommunity, false)
	file("楼道灯不亮", "二单元楼道灯坏了", commA, cases.AreaUrban, true)

	numbers := func(got []cases.SimilarCase) string {
		var out []string
		for _, s := range got {
			out = append(out, s.Number)
		}
		return strings.Join(out, ",")
	}
	has := func(got []cases.SimilarCase, c *cases.Case) bool {
		for _, s := range got {
			if s.ID == c.ID {
				return true
			}
		}
		return false
	}

	t.Run("text alone finds a case by a word of its title, in any area", func(t *testing.T) {
		got, err := e.svc.Similar(ctx, stranger, "", "", "旱厕")
		if err != nil {
			t.Fatal(err)
		}
		if !has(got, toilet) || !has(got, far) || len(got) != 2 {
			t.Fatalf("got %s, want %s and %s", numbers(got), toilet.Number, far.Number)
		}
		got, err = e.svc.Similar(ctx, finance, "", "", "旱厕")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || got[0].Score < 500 {
			t.Errorf("staff's score of a literal word: got %+v, want at least 500", got)
		}
	})
	t.Run("a word of the description with a community but no area", func(t *testing.T) {
		got, err := e.svc.Similar(ctx, cadreFar, commB, "", "清掏")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != far.ID {
			t.Fatalf("the cadre of %s got %s, want %s", commB, numbers(got), far.Number)
		}
		for _, comm := range []string{commA, commB} {
			got, err = e.svc.Similar(ctx, stranger, comm, "", "清掏")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Fatalf("a resident got %s in %s, want none (清掏 is in %s's description, which they may not read)", numbers(got), comm, far.Number)
			}
		}
	})
	t.Run("a resident searching the district sees no 不公开 case", func(t *testing.T) {
		got, err := e.svc.Similar(ctx, stranger, "", "", "旱厕")
		if err != nil {
			t.Fatal(err)
		}
		if has(got, private) {
			t.Fatalf("got %s, which includes the non-public %s", numbers(got), private.Number)
		}
		b, _ := json.Marshal(got)
		for _, secret := range []string{phone, "张三", "六部口3号楼", "contact", "description", "address"} {
			if strings.Contains(string(b), secret) {
				t.Errorf("result carries %q: %s", secret, b)
			}
		}
	})
	t.Run("staff without a community search their own scope only", func(t *testing.T) {
		got, err := e.svc.Similar(ctx, staff, "", "", "旱厕")
		if err != nil {
			t.Fatal(err)
		}
		if !has(got, toilet) || !has(got, private) || has(got, far) {
			t.Fatalf("sub-district staff of %s got %s, want %s and %s, not %s", subA, numbers(got), toilet.Number, private.Number, far.Number)
		}
		got, err = e.svc.Similar(ctx, cadreFar, "", "", "旱厕")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != far.ID {
			t.Fatalf("cadre of %s got %s, want %s", commB, numbers(got), far.Number)
		}
		got, err = e.svc.Similar(ctx, finance, "", "", "旱厕")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("finance got %s, want all three", numbers(got))
		}
	})
	t.Run("a cadre naming another community is still refused", func(t *testing.T) {
		_, err := e.svc.Similar(ctx, cadreFar, commA, "", "旱厕")
		wantCode(t, err, minsheng.EFORBIDDEN)
	})
}

// TestSimilarFindsNoOthersNonPublicCase (issue 21 item 2): a resident
// finds another resident's 不公开 case through no search, naming its
// community or not, and cannot co-sign it; its filer still finds it.
func TestSimilarFindsNoOthersNonPublicCase(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := input()
	in.Public = false
	private := e.submit(t, resident, in)
	for _, comm := range []string{commA, ""} {
		for _, area := range []string{cases.AreaUrban, ""} {
			got, err := e.svc.Similar(ctx, neighbour, comm, area, private.Title)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Errorf("community %q area %q: a neighbour got %+v, want nothing", comm, area, got)
			}
		}
	}
	got, err := e.svc.Similar(ctx, resident, commA, "", private.Title)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != private.ID || got[0].Score != 0 {
		t.Errorf("the filer got %+v, want their case without a score", got)
	}
	_, err = e.svc.Cosign(ctx, neighbour, private.ID)
	wantCode(t, err, minsheng.ENOTFOUND)
	if c, _ := e.svc.FindByID(ctx, private.ID); len(c.Cosigners) != 0 {
		t.Errorf("co-signers = %v, want none", c.Cosigners)
	}
}

// TestSimilarPoolIgnoresHiddenCases: a search's pool of candidates (the
// newest few hundred) must be drawn from what its caller may find, or the
// number of newer 不公开 cases decides whether a public one is searched at
// all — a count the caller may not read. With a pool of 2, three newer
// 不公开 filings of other residents used to push the public case out.
func TestSimilarPoolIgnoresHiddenCases(t *testing.T) {
	defer cases.SetSimilarPool(cases.SetSimilarPool(2))
	e := newEnv(t)
	ctx := context.Background()
	public := e.submit(t, resident, input())
	search := func() []string {
		t.Helper()
		got, err := e.svc.SimilarPublic(ctx, cases.SimilarQuery{Community: commA, Text: public.Title})
		if err != nil {
			t.Fatal(err)
		}
		mine, err := e.svc.Similar(ctx, neighbour, commA, "", public.Title)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range got {
			ids = append(ids, "public:"+c.ID)
		}
		for _, c := range mine {
			ids = append(ids, "resident:"+c.ID)
		}
		return ids
	}
	before := search()
	for i := 0; i < 3; i++ {
		e.clock.Advance(time.Minute)
		in := input()
		in.Public = false
		in.Title = fmt.Sprintf("楼道灯不亮 %d", i)
		e.submit(t, resident, in)
	}
	if after := search(); !slices.Equal(before, after) || len(before) != 2 {
		t.Errorf("answers %v before and %v after three newer 不公开 filings; want the public case found by both, unchanged", before, after)
	}
}
