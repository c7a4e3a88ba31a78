package reports

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"minsheng/cases"
	"minsheng/cases/rates"
	"minsheng/internal/auth"
)

// TestPublicBoardPrivacy files funded cases full of personal data and
// proves none of it, and no non-public case, reaches the public board.
func TestPublicBoardPrivacy(t *testing.T) {
	ctx := context.Background()
	e := newLinked(t)
	line := mustLine(t, e.Service, "xinjiekou", bulkyItem, "大件垃圾清运处置 2026", 1_000_000)
	lat, lng := 39.9412345, 116.3676543
	const (
		phone      = "13811112222"
		name       = "欧阳娜娜"
		address    = "育德胡同17号院3排5号"
		privTitle  = "不公开的大件垃圾清运请求"
		unfunded   = "公开但未安排预算的大件垃圾"
		publicDone = "公开：楼道旧家具清运完成"
	)
	file := func(title string, public bool) *cases.Case {
		t.Helper()
		c, _, err := e.cs.Submit(ctx, filer, cases.NewCase{Area: cases.AreaUrban, Title: title, Description: bulkyDesc + " 电话" + phone,
			Community: "xinjiekou-yude", Address: address, Lat: &lat, Lng: &lng, ContactName: name, ContactPhone: phone, Public: public})
		if err != nil {
			t.Fatal(err)
		}
		if c, err = e.cs.Accept(ctx, xjkStaff, c.ID, c.Version, ""); err != nil {
			t.Fatal(err)
		}
		return c
	}
	fund := func(c *cases.Case) *cases.Case {
		t.Helper()
		c = e.classify(t, xjkStaff, c, bulkyItem)
		if _, err := e.LinkCase(ctx, xjkStaff, c.ID, line.ID, 60_000); err != nil {
			t.Fatal(err)
		}
		return e.load(t, c.ID)
	}
	done := fund(file(publicDone, true))
	done = e.toInProgress(t, xjkStaff, xjkCadre, done)
	if _, err := e.cs.Complete(ctx, xjkCadre, done.ID, done.Version, 55_000, ""); err != nil {
		t.Fatal(err)
	}
	fund(file(privTitle, false))
	file(unfunded, true)

	b, err := e.PublicBoard(ctx, 2026, "xinjiekou")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(b)
	body := string(raw)

	t.Run("the funded public case is shown, completed, with its money and photos", func(t *testing.T) {
		if len(b.Communities) != 1 || len(b.Communities[0].Needs) != 1 {
			t.Fatalf("communities = %+v, want one need", b.Communities)
		}
		n := b.Communities[0].Needs[0]
		if n.Title != publicDone || n.Status != cases.StatusCompleted || n.SpentFen != 55_000 || n.ItemCode != bulkyItem || n.ItemName == "" {
			t.Fatalf("need = %+v", n)
		}
		if len(n.Photos) != 1 || n.Photos[0].Tag != cases.TagAfter {
			t.Fatalf("photos = %+v, want the after-photo", n.Photos)
		}
		if b.Execution.ApprovedFen != 1_000_000 || b.Execution.SpentFen != 55_000 {
			t.Fatalf("execution = %+v", b.Execution)
		}
		if !reflect.DeepEqual(b.Rates.Response, rates.NewRate(3, 3)) {
			t.Fatalf("rates = %+v, want 3 answered in time of 3 due", b.Rates)
		}
	})
	t.Run("nothing personal and no non-public case", func(t *testing.T) {
		for _, secret := range []string{phone, name, "欧阳", address, "育德胡同", "39.94", "116.36", privTitle, unfunded,
			filer.UserID, xjkCadre.Name, xjkCadre.UserID, xjkStaff.Name, xjkStaff.UserID, "contact", "lat", "lng", "address",
			"description", "timeline", string(auth.RoleResident)} {
			if strings.Contains(body, secret) {
				t.Errorf("board contains %q", secret)
			}
		}
	})
	t.Run("served from the cache within its TTL", func(t *testing.T) {
		again, err := e.PublicBoard(ctx, 2026, "xinjiekou")
		if err != nil {
			t.Fatal(err)
		}
		if again != b {
			t.Fatal("second read computed the board again")
		}
	})
	t.Run("an unknown sub-district is refused", func(t *testing.T) {
		if _, err := e.PublicBoard(ctx, 2026, "nowhere"); err == nil {
			t.Fatal("want an error")
		}
	})
}
