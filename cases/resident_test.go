package cases_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/auth"
)

// sms records what the service texted.
type sms struct {
	mu   sync.Mutex
	sent []string // "phone|text"
}

func (s *sms) Send(_ context.Context, phone, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, phone+"|"+text)
	return nil
}

func (s *sms) count(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.sent {
		if strings.Contains(m, substr) {
			n++
		}
	}
	return n
}

// withResidentPhone gives the resident's account its verified phone.
func withResidentPhone(cfg *cases.Config) {
	u := cfg.Users.(users)
	u[resident.UserID] = auth.User{ID: resident.UserID, Phone: phone, Role: auth.RoleResident}
	u[neighbour.UserID] = auth.User{ID: neighbour.UserID, Phone: "13900001111", Role: auth.RoleResident}
}

// complete drives a submitted case to completed as staff and cadre do.
func (e env) complete(t *testing.T, c *cases.Case) *cases.Case {
	t.Helper()
	ctx := context.Background()
	var err error
	steps := []func() (*cases.Case, error){
		func() (*cases.Case, error) { return e.svc.Accept(ctx, staff, c.ID, c.Version, "") },
		func() (*cases.Case, error) { return e.svc.Assign(ctx, staff, c.ID, c.Version, cadre.UserID, "") },
		func() (*cases.Case, error) {
			return e.svc.Assess(ctx, cadre, c.ID, c.Version, cases.Assessment{EstimateFen: 50000, Households: 3, Risk: 1})
		},
		func() (*cases.Case, error) { return e.svc.Start(ctx, cadre, c.ID, c.Version, "") },
		func() (*cases.Case, error) {
			if _, err := e.svc.AddPhoto(ctx, cadre, c.ID, cases.TagAfter, bytesReader(jpeg(t))); err != nil {
				return nil, err
			}
			return e.svc.Complete(ctx, cadre, c.ID, c.Version, 48000, "")
		},
	}
	for i, step := range steps {
		if c, err = step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	return c
}

func TestSimilarPublic(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pub := input()
	pub.Area, pub.Title, pub.Description, pub.Public = cases.AreaCommunity, "胡同旱厕改造", "夏天气味很重，老人如厕不便", true
	found := e.submit(t, resident, pub)
	private := pub
	private.Title, private.Public = "院里旱厕需要改造", false
	e.submit(t, resident, private)

	t.Run("a word of the title, with no area or community", func(t *testing.T) {
		got, err := e.svc.SimilarPublic(ctx, cases.SimilarQuery{Text: "旱厕"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != found.ID {
			t.Fatalf("got %+v, want only %s", got, found.Number)
		}
	})
	t.Run("a word of the description finds nothing (issue 21: no oracle over hidden text)", func(t *testing.T) {
		got, err := e.svc.SimilarPublic(ctx, cases.SimilarQuery{Text: "如厕", Community: commA})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf("got %+v, want nothing: the description is not public", got)
		}
	})
	t.Run("the community's name finds its public cases", func(t *testing.T) {
		got, err := e.svc.SimilarPublic(ctx, cases.SimilarQuery{Text: "六部口 旱厕"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != found.ID {
			t.Fatalf("got %+v, want only %s", got, found.Number)
		}
	})
	t.Run("another community finds nothing", func(t *testing.T) {
		got, err := e.svc.SimilarPublic(ctx, cases.SimilarQuery{Text: "旱厕", Community: commB})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf("got %d results, want 0", len(got))
		}
	})
	t.Run("the preview holds nothing personal", func(t *testing.T) {
		got, _ := e.svc.SimilarPublic(ctx, cases.SimilarQuery{Text: "旱厕"})
		b, _ := json.Marshal(got)
		for _, secret := range []string{phone, "张三", pub.Address, resident.UserID, "contact", "filer", "description"} {
			if strings.Contains(string(b), secret) {
				t.Errorf("preview contains %q: %s", secret, b)
			}
		}
	})
	t.Run("unknown area is refused", func(t *testing.T) {
		_, err := e.svc.SimilarPublic(ctx, cases.SimilarQuery{Text: "旱厕", Area: "XX"})
		wantCode(t, err, minsheng.EINVALID)
	})
	t.Run("a text with a control character is refused", func(t *testing.T) {
		_, err := e.svc.SimilarPublic(ctx, cases.SimilarQuery{Text: "旱厕\x07"})
		wantCode(t, err, minsheng.EINVALID)
	})
	t.Run("the preview's photos say which photo and its size", func(t *testing.T) {
		withPhoto, err := e.svc.AddPhoto(ctx, resident, found.ID, cases.TagBefore, bytesReader(jpeg(t)))
		if err != nil {
			t.Fatal(err)
		}
		ph := withPhoto.Photos[len(withPhoto.Photos)-1]
		got, err := e.svc.SimilarPublic(ctx, cases.SimilarQuery{Text: "旱厕"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || len(got[0].Photos) != 1 {
			t.Fatalf("got %+v, want one case with one photo", got)
		}
		if p := got[0].Photos[0]; p.ID != ph.ID || p.Width == 0 || p.Height == 0 || p.UploadedAt.IsZero() {
			t.Errorf("photo = %+v, want id %s with its size and upload time", p, ph.ID)
		}
	})
	t.Run("the same order as the signed-in search", func(t *testing.T) {
		near := input()
		near.Area, near.Title, near.Description, near.Public = cases.AreaCommunity, "旱厕改造", "胡同里的旱厕", true
		e.submit(t, resident, near)
		pub, err := e.svc.SimilarPublic(ctx, cases.SimilarQuery{Text: "胡同旱厕改造"})
		if err != nil {
			t.Fatal(err)
		}
		signed, err := e.svc.Similar(ctx, neighbour, "", "", "胡同旱厕改造")
		if err != nil {
			t.Fatal(err)
		}
		if len(pub) != 2 || len(signed) != len(pub) {
			t.Fatalf("public %d, signed-in %d results, want 2 each", len(pub), len(signed))
		}
		for i := range pub {
			if pub[i].ID != signed[i].ID || signed[i].Score != 0 {
				t.Errorf("result %d: public %s, signed-in %s (score %d, want none for a resident)", i, pub[i].Number, signed[i].Number, signed[i].Score)
			}
		}
		if pub[0].ID != found.ID {
			t.Errorf("first = %s, want the identical title %s first", pub[0].Number, found.Number)
		}
	})
}

func TestMineIncludesOnBehalfFilings(t *testing.T) {
	e := newEnv(t, withResidentPhone)
	ctx := context.Background()
	own := e.submit(t, resident, input())
	onBehalf := input()
	onBehalf.Title = "代居民登记：路灯不亮"
	behalf := e.submit(t, cadre, onBehalf) // no ResidentID: the cadre only knew the phone
	other := input()
	other.ContactPhone = "13700000000"
	e.submit(t, cadre, other)
	anon := e.submit(t, anonymous, input()) // anonymous with the same phone stays anonymous

	got, next, err := e.svc.Mine(ctx, resident, "", 20)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, c := range got {
		ids[c.ID] = true
	}
	if len(got) != 2 || !ids[own.ID] || !ids[behalf.ID] || next != "" {
		t.Fatalf("Mine = %d cases (%v), want the own and the on-behalf one", len(got), ids)
	}
	if ids[anon.ID] {
		t.Fatal("an anonymous filing was linked to an account")
	}
	t.Run("the resident may then rate it", func(t *testing.T) {
		c := e.complete(t, behalf)
		yes := true
		out, err := e.svc.RecordVerdict(ctx, resident, cases.CaseRef{ID: c.ID}, c.Version, cases.Rating{Verdict: cases.VerdictSatisfied, Resolved: &yes})
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != cases.StatusClosed || len(out.Verdicts) != 1 || out.Verdicts[0].Resolved == nil || !*out.Verdicts[0].Resolved {
			t.Fatalf("status %s, verdicts %+v; want closed with one resolved verdict", out.Status, out.Verdicts)
		}
	})
	t.Run("another resident sees none of them", func(t *testing.T) {
		got, _, err := e.svc.Mine(ctx, neighbour, "", 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf("neighbour sees %d cases, want 0", len(got))
		}
	})
	t.Run("staff are refused", func(t *testing.T) {
		_, _, err := e.svc.Mine(ctx, cadre, "", 20)
		wantCode(t, err, minsheng.EFORBIDDEN)
	})
}

func TestNotificationsOncePerEvent(t *testing.T) {
	e := newEnv(t)
	rec := &sms{}
	e.svc.SetSMS(rec, "https://minsheng.example")
	ctx := context.Background()
	// Cases that already hold other entries (a co-signature, a photo).
	for round := 0; round < 5; round++ {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			c := e.submit(t, resident, input())
			if _, err := e.svc.Cosign(ctx, neighbour, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.AddPhoto(ctx, resident, c.ID, cases.TagBefore, bytesReader(jpeg(t))); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok := 0
			for i := 0; i < 12; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := e.svc.Accept(ctx, staff, c.ID, c.Version, ""); err == nil {
						mu.Lock()
						ok++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if ok != 1 {
				t.Fatalf("%d accepts succeeded, want 1", ok)
			}
			if got := rec.count(c.Number + "已受理"); got != 1 {
				t.Fatalf("accepted SMS sent %d times, want 1", got)
			}
			stored, _ := e.svc.FindByID(ctx, c.ID)
			notes := 0
			for _, ev := range stored.Timeline {
				if ev.Action == cases.ActNotify {
					notes++
				}
			}
			if notes != 1 {
				t.Fatalf("timeline lists %d notifications, want 1", notes)
			}
		})
	}
	t.Run("completed awaiting the verdict, with the link", func(t *testing.T) {
		c := e.complete(t, e.submit(t, resident, input()))
		if got := rec.count(phone + "|【民生】您的诉求" + c.Number + "已办结，请对办理结果进行评价：https://minsheng.example/mine/" + c.ID); got != 1 {
			t.Fatalf("completed SMS sent %d times, want 1: %v", got, rec.sent)
		}
	})
	t.Run("completed, filed on behalf: the link asks the resident to sign in", func(t *testing.T) {
		// The QR link the cadre holds only reads, so the resident rates
		// signed in with this phone (Mine links the case).
		c := e.complete(t, e.submit(t, cadre, input()))
		if got := rec.count(phone + "|【民生】您的诉求" + c.Number + "已办结，请对办理结果进行评价：https://minsheng.example/mine"); got != 1 ||
			rec.count(c.Number+"已办结，请对办理结果进行评价：https://minsheng.example/mine/") != 0 {
			t.Fatalf("completed SMS sent %d times linking /mine, want 1: %v", got, rec.sent)
		}
	})
	t.Run("rejected, with the reason", func(t *testing.T) {
		c := e.submit(t, resident, input())
		if _, err := e.svc.Reject(ctx, staff, c.ID, c.Version, "不属于街道职责范围"); err != nil {
			t.Fatal(err)
		}
		if got := rec.count(c.Number + "不予受理，原因：不属于街道职责范围"); got != 1 {
			t.Fatalf("rejected SMS sent %d times, want 1", got)
		}
	})
	t.Run("merged, naming the kept case", func(t *testing.T) {
		kept := e.submit(t, resident, input())
		dup := e.submit(t, resident, input())
		if _, err := e.svc.Merge(ctx, staff, dup.ID, dup.Version, kept.ID, ""); err != nil {
			t.Fatal(err)
		}
		if got := rec.count(dup.Number + "与相同诉求合并，并入" + kept.Number); got != 1 {
			t.Fatalf("merged SMS sent %d times, want 1: %v", got, rec.sent)
		}
	})
	t.Run("never for an anonymous case without a phone", func(t *testing.T) {
		in := input()
		in.ContactPhone = ""
		c := e.submit(t, anonymous, in)
		before := len(rec.sent)
		e.complete(t, c)
		if len(rec.sent) != before {
			t.Fatalf("%d SMS sent for an anonymous case without a phone", len(rec.sent)-before)
		}
	})
}

func TestTrackingTokenFollowUp(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, token, err := e.svc.Submit(ctx, anonymous, input())
	if err != nil || token == "" {
		t.Fatalf("anonymous Submit: token %q, %v", token, err)
	}
	t.Run("photos through the token", func(t *testing.T) {
		if _, err := e.svc.TrackPhoto(ctx, c.Number, "wrong", bytesReader(jpeg(t))); !isCode(err, minsheng.ENOTFOUND) {
			t.Fatalf("wrong token: %v, want not_found", err)
		}
		out, err := e.svc.TrackPhoto(ctx, c.Number, token, bytesReader(jpeg(t)))
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Photos) != 1 || out.Photos[0].URL == "" || out.Photos[0].Tag != cases.TagBefore {
			t.Fatalf("photos = %+v, want one before-photo with a link", out.Photos)
		}
	})
	c, _ = e.svc.FindByID(ctx, c.ID)
	c = e.complete(t, c)
	t.Run("不满意 needs a reason", func(t *testing.T) {
		_, err := e.svc.RecordVerdict(ctx, anonymous, cases.CaseRef{Number: c.Number, Token: token}, c.Version, cases.Rating{Verdict: cases.VerdictDissatisfied})
		wantCode(t, err, minsheng.EINVALID)
	})
	t.Run("不满意 reopens, then 满意 closes, both kept", func(t *testing.T) {
		no := false
		out, err := e.svc.RecordVerdict(ctx, anonymous, cases.CaseRef{Number: c.Number, Token: token}, c.Version, cases.Rating{Verdict: cases.VerdictDissatisfied, Resolved: &no, Comment: "还是有味"})
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != cases.StatusInProgress {
			t.Fatalf("status %s, want in_progress", out.Status)
		}
		if _, err := e.svc.AddPhoto(ctx, cadre, c.ID, cases.TagAfter, bytesReader(jpeg(t))); err != nil {
			t.Fatal(err)
		}
		out, err = e.svc.Complete(ctx, cadre, c.ID, out.Version, 48000, "")
		if err != nil {
			t.Fatal(err)
		}
		yes := true
		out, err = e.svc.RecordVerdict(ctx, anonymous, cases.CaseRef{Number: c.Number, Token: token}, out.Version, cases.Rating{Verdict: cases.VerdictSatisfied, Resolved: &yes})
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != cases.StatusClosed || len(out.Verdicts) != 2 || out.Verdicts[0].Verdict != cases.VerdictDissatisfied {
			t.Fatalf("status %s, verdicts %+v; want closed with both verdicts", out.Status, out.Verdicts)
		}
		if !out.LinkMayRate || out.Verdicts[1].Source != cases.VerdictByLink || out.Verdicts[1].By != "" {
			t.Errorf("link_may_rate %v, verdict %+v; want true, through the link, by no account", out.LinkMayRate, out.Verdicts[1])
		}
	})
}

func TestForgetResident(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	own := e.submit(t, resident, input())
	theirs := e.submit(t, neighbour, input())
	if _, err := e.svc.Cosign(ctx, resident, theirs.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ForgetResident(ctx, resident); err != nil {
		t.Fatal(err)
	}
	got, _, err := e.svc.Mine(ctx, resident, "", 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("after deletion the resident still has %d cases", len(got))
	}
	c, _ := e.svc.FindByID(ctx, own.ID)
	if c.ContactPhone != "" || c.ContactName != "" || c.FilerID != "" || c.FiledBy != "" {
		t.Fatalf("case keeps personal data: phone %q name %q filer %q", c.ContactPhone, c.ContactName, c.FilerID)
	}
	o, _ := e.svc.FindByID(ctx, theirs.ID)
	if len(o.Cosigners) != 0 {
		t.Fatalf("co-signers = %v, want none", o.Cosigners)
	}
}

// A resident's list merges the cases they filed and those they co-signed,
// newest first, across pages, each once; it reads the summaries by
// filer_id and by cosigners (equality the engine pushes down), and keeps
// the same answer as the $or on the cases it replaced.
func TestMineMergesFiledAndCosigned(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var want []string // newest first
	for i := range 7 {
		in := input()
		in.Title = fmt.Sprintf("路灯不亮 %d", i)
		var c *cases.Case
		switch i % 3 {
		case 0, 1:
			c = e.submit(t, neighbour, in)
			if i%3 == 0 {
				if _, err := e.svc.Cosign(ctx, resident, c.ID); err != nil {
					t.Fatal(err)
				}
				want = append([]string{c.ID}, want...)
			}
		default:
			c = e.submit(t, resident, in)
			want = append([]string{c.ID}, want...)
		}
		e.clock.Advance(time.Minute)
	}
	e.submit(t, stranger, input()) // neither filed nor co-signed

	page := func(t *testing.T, limit int) []string {
		t.Helper()
		var got []string
		cursor := ""
		for range 10 {
			cs, next, err := e.svc.Mine(ctx, resident, cursor, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				got = append(got, c.ID)
			}
			if next == "" {
				return got
			}
			cursor = next
		}
		t.Fatal("more than 10 pages")
		return nil
	}
	for _, limit := range []int{1, 2, 3, 20} {
		t.Run(fmt.Sprintf("pages of %d", limit), func(t *testing.T) {
			if got := page(t, limit); !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
	t.Run("same as the $or on the cases", func(t *testing.T) {
		cases.SetListOnCases(e.svc, true)
		t.Cleanup(func() { cases.SetListOnCases(e.svc, false) })
		if got := page(t, 2); !slices.Equal(got, want) {
			t.Errorf("on the cases: got %v, want %v", got, want)
		}
	})
	t.Run("a withdrawn co-signature leaves the list", func(t *testing.T) {
		if _, err := e.svc.ForgetResident(ctx, resident); err != nil {
			t.Fatal(err)
		}
		if got := page(t, 20); len(got) != 0 {
			t.Errorf("after ForgetResident: got %v, want none", got)
		}
	})
}

// Simultaneous first lists of one resident (a phone opening the app twice,
// retries) link each on-behalf filing once: one link event, and its
// summary names the resident, over several rounds with other filings
// already linked.
func TestMineLinksOnBehalfOnceUnderConcurrency(t *testing.T) {
	e := newEnv(t, withResidentPhone)
	ctx := context.Background()
	e.submit(t, resident, input())
	for round := range 3 {
		in := input()
		in.Title = fmt.Sprintf("代居民登记：路灯不亮 %d", round)
		behalf := e.submit(t, cadre, in)
		var wg sync.WaitGroup
		errs := make(chan error, 12)
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := e.svc.Mine(ctx, resident, "", 20); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
		c, err := e.svc.FindByID(ctx, behalf.ID)
		if err != nil {
			t.Fatal(err)
		}
		links := 0
		for _, ev := range c.Timeline {
			if ev.Action == cases.ActLinkResident {
				links++
			}
		}
		if c.FilerID != resident.UserID || links != 1 {
			t.Errorf("round %d: filer %q with %d link events, want %q and 1", round, c.FilerID, links, resident.UserID)
		}
		got, _, err := e.svc.Mine(ctx, resident, "", 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != round+2 {
			t.Errorf("round %d: %d cases listed, want %d", round, len(got), round+2)
		}
	}
	rep, err := e.svc.RepairSummaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stale+rep.Missing+rep.Orphans != 0 {
		t.Errorf("got %+v, want every summary up to date", rep)
	}
}

// TestLinkOfFilingOnBehalfOnlyReads: the link staff get for a case they
// filed on a resident's behalf follows it but gives no verdict; the cadre's
// own record of the resident's answer is attributed to the cadre.
func TestLinkOfFilingOnBehalfOnlyReads(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.submit(t, cadre, input())
	token, err := e.svc.TrackingTokenFor(ctx, cadre, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	c = e.complete(t, c)
	tracked, err := e.svc.TrackByToken(ctx, c.Number, token)
	if err != nil || tracked.LinkMayRate {
		t.Fatalf("TrackByToken: link_may_rate %v, %v; want false", tracked != nil && tracked.LinkMayRate, err)
	}
	_, err = e.svc.RecordVerdict(ctx, anonymous, cases.CaseRef{Number: c.Number, Token: token}, c.Version, cases.Rating{Verdict: cases.VerdictSatisfied})
	wantCode(t, err, minsheng.EFORBIDDEN)
	out, err := e.svc.RecordVerdict(ctx, cadre, cases.CaseRef{ID: c.ID}, c.Version, cases.Rating{Verdict: cases.VerdictSatisfied})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Verdicts) != 1 {
		t.Fatalf("%d verdicts, want 1", len(out.Verdicts))
	}
	if got := out.Verdicts[0]; got.By != cadre.UserID || got.Role != auth.RoleCadre || got.Source != cases.VerdictOnSite {
		t.Errorf("verdict by %q, role %q, source %q; want %s, cadre, on_site", got.By, got.Role, got.Source, cadre.UserID)
	}
}
