package cases_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/auth"
)

func TestSubmit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, token, err := e.svc.Submit(ctx, resident, input())
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	checks := []struct {
		name      string
		got, want any
	}{
		{"number", c.Number, "XC2026-000001"},
		{"status", c.Status, cases.StatusSubmitted},
		{"version", c.Version, int64(1)},
		{"sub-district from community", c.Location.SubDistrict, subA},
		{"filer", c.FilerID, resident.UserID},
		{"phone shown to filer", c.ContactPhone, phone},
		{"response due", c.ResponseDueAt, now.Add(24 * time.Hour)},
		{"sla days", c.SLADays, cases.DefaultSLADays},
		{"timeline", len(c.Timeline), 1},
		{"first event", c.Timeline[0].Action, cases.ActSubmit},
		{"no token for account holders", token, ""},
	}
	for _, tt := range checks {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	c2 := e.submit(t, resident, input())
	if got, want := c2.Number, "XC2026-000002"; got != want {
		t.Errorf("second number = %q, want %q", got, want)
	}

	t.Run("prefix and year of filing in Beijing time", func(t *testing.T) {
		e := newEnv(t, func(c *cases.Config) { c.NumberPrefix = "XCQ" })
		// 2026-12-31 17:00 UTC is already 2027 in Beijing.
		e.clock.t = time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC)
		if got, want := e.submit(t, resident, input()).Number, "XCQ2027-000001"; got != want {
			t.Errorf("number = %q, want %q", got, want)
		}
	})
}

func TestSubmitInvalid(t *testing.T) {
	e := newEnv(t)
	lat, badLat, badLng := 39.9, 91.0, 181.0
	tests := []struct {
		name  string
		edit  func(*cases.NewCase)
		field string
	}{
		{"area missing", func(in *cases.NewCase) { in.Area = "" }, "area"},
		{"area unknown", func(in *cases.NewCase) { in.Area = "XX" }, "area"},
		{"title missing", func(in *cases.NewCase) { in.Title = "  " }, "title"},
		{"title too short", func(in *cases.NewCase) { in.Title = "灯" }, "title"},
		{"title too long", func(in *cases.NewCase) { in.Title = strings.Repeat("灯", 51) }, "title"},
		{"description missing", func(in *cases.NewCase) { in.Description = "" }, "description"},
		{"description too long", func(in *cases.NewCase) { in.Description = strings.Repeat("字", 2001) }, "description"},
		{"community missing", func(in *cases.NewCase) { in.Community = "" }, "community"},
		{"community unknown", func(in *cases.NewCase) { in.Community = "nowhere" }, "community"},
		{"community outside sub-district", func(in *cases.NewCase) { in.SubDistrict = subB }, "sub_district"},
		{"address missing", func(in *cases.NewCase) { in.Address = "" }, "address"},
		{"address too long", func(in *cases.NewCase) { in.Address = strings.Repeat("址", 201) }, "address"},
		{"lat without lng", func(in *cases.NewCase) { in.Lat = &lat }, "lat"},
		{"lat out of range", func(in *cases.NewCase) { in.Lat, in.Lng = &badLat, &lat }, "lat"},
		{"lng out of range", func(in *cases.NewCase) { in.Lat, in.Lng = &lat, &badLng }, "lng"},
		{"contact name too long", func(in *cases.NewCase) { in.ContactName = strings.Repeat("名", 21) }, "contact_name"},
		{"phone malformed", func(in *cases.NewCase) { in.ContactPhone = "12345" }, "contact_phone"},
		{"households negative", func(in *cases.NewCase) { in.Households = -1 }, "households"},
		{"households absurd", func(in *cases.NewCase) { in.Households = 100001 }, "households"},
		{"idempotency key malformed", func(in *cases.NewCase) { in.IdempotencyKey = "a b" }, "idempotency_key"},
		// Issue 8 item 10: text that is not what it shows.
		{"title not UTF-8", func(in *cases.NewCase) { in.Title = "楼道\xff\xfe灯" }, "title"},
		{"title with NUL", func(in *cases.NewCase) { in.Title = "楼道\x00灯坏了" }, "title"},
		{"title with an ANSI escape", func(in *cases.NewCase) { in.Title = "\x1b[31m楼道灯坏了" }, "title"},
		{"title with a C1 control", func(in *cases.NewCase) { in.Title = "楼道\u0085灯坏了" }, "title"},
		{"title with a bidi override", func(in *cases.NewCase) { in.Title = "楼道灯\u202e坏了" }, "title"},
		{"title with a bidi isolate", func(in *cases.NewCase) { in.Title = "楼道灯\u2067坏了" }, "title"},
		{"title on two lines", func(in *cases.NewCase) { in.Title = "楼道灯\n坏了" }, "title"},
		{"title only zero-width", func(in *cases.NewCase) { in.Title = "\u200b\u200b\u200d\ufeff" }, "title"},
		{"title only replacement characters", func(in *cases.NewCase) { in.Title = "\ufffd\ufffd" }, "title"},
		{"description with a bell", func(in *cases.NewCase) { in.Description = "灯坏了\a" }, "description"},
		{"description only zero-width", func(in *cases.NewCase) { in.Description = "\u200b" }, "description"},
		{"address with a tab", func(in *cases.NewCase) { in.Address = "六部口\t3号楼" }, "address"},
		{"contact name with a bidi override", func(in *cases.NewCase) { in.ContactName = "\u202e三张" }, "contact_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input()
			tt.edit(&in)
			_, _, err := e.svc.Submit(context.Background(), resident, in)
			wantCode(t, err, minsheng.EINVALID)
			fields := minsheng.ErrorFields(err)
			if fields[tt.field] == "" {
				t.Errorf("fields = %v, want a message for %q", fields, tt.field)
			}
		})
	}
}

// TestSubmitKeepsMultilineText: a description may hold line breaks and
// tabs; nothing else changes.
func TestSubmitKeepsMultilineText(t *testing.T) {
	e := newEnv(t)
	in := input()
	in.Description = "第一行\n\t第二行\r\n第三行"
	c := e.submit(t, resident, in)
	if c.Description != in.Description {
		t.Errorf("description = %q, want %q", c.Description, in.Description)
	}
}

func TestSubmitWho(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		p        auth.Principal
		wantCode string
	}{
		{"resident", resident, ""},
		{"cadre of the community on a resident's behalf", cadre, ""},
		{"subdistrict staff of the sub-district", staff, ""},
		{"anonymous", anonymous, ""},
		{"cadre of another community", cadreNext, minsheng.EFORBIDDEN},
		{"subdistrict staff elsewhere", staffFar, minsheng.EFORBIDDEN},
		{"finance", finance, minsheng.EFORBIDDEN},
		{"admin", admin, minsheng.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.svc.Submit(ctx, tt.p, input())
			if got := minsheng.ErrorCode(err); got != tt.wantCode {
				t.Errorf("code = %q (%v), want %q", got, err, tt.wantCode)
			}
		})
	}
	t.Run("cadre files for a resident, who owns it", func(t *testing.T) {
		in := input()
		in.ResidentID = resident.UserID
		c := e.submit(t, cadre, in)
		if got, want := c.FilerID, resident.UserID; got != want {
			t.Errorf("filer = %q, want %q", got, want)
		}
		if _, err := e.svc.Get(ctx, resident, c.ID); err != nil {
			t.Errorf("resident cannot read the case filed for them: %v", err)
		}
	})
	t.Run("cadre files for an id that is no active resident", func(t *testing.T) {
		for name, id := range map[string]string{"unknown": "res-nobody", "staff account": staff.UserID, "disabled": "res-disabled"} {
			t.Run(name, func(t *testing.T) {
				in := input()
				in.ResidentID = id
				_, _, err := e.svc.Submit(ctx, cadre, in)
				if minsheng.ErrorCode(err) != minsheng.EINVALID || minsheng.ErrorFields(err)["resident_id"] == "" {
					t.Errorf("err = %v %v, want EINVALID on resident_id", err, minsheng.ErrorFields(err))
				}
			})
		}
	})
}

func TestSubmitAnonymous(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := input()
	in.IdempotencyKey = "anon-key-0001"
	c, token, err := e.svc.Submit(ctx, anonymous, in)
	if err != nil {
		t.Fatal(err)
	}
	if token == "" || !c.Anonymous {
		t.Fatalf("token = %q, anonymous = %v; want a token and anonymous", token, c.Anonymous)
	}
	stored, _ := e.svc.FindByID(ctx, c.ID)
	if stored.TokenHash == "" || strings.Contains(stored.TokenHash, token) {
		t.Errorf("stored token hash = %q, want a hash, not the token", stored.TokenHash)
	}

	t.Run("track with the token", func(t *testing.T) {
		got, err := e.svc.TrackByToken(ctx, c.Number, token)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != c.ID {
			t.Errorf("tracked %s, want %s", got.ID, c.ID)
		}
		if got.ContactPhone != auth.MaskPhone(phone) {
			t.Errorf("phone = %q, want masked", got.ContactPhone)
		}
	})
	t.Run("retry returns the same case and token", func(t *testing.T) {
		again, token2, err := e.svc.Submit(ctx, anonymous, in)
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != c.ID || token2 != token {
			t.Errorf("retry gave %s/%q, want %s/%q", again.ID, token2, c.ID, token)
		}
	})
	t.Run("another client reusing the key never gets this case", func(t *testing.T) {
		other := input()
		other.IdempotencyKey = in.IdempotencyKey
		other.Title = "另一位居民的诉求"
		other.ContactPhone = "13900001111"
		got, token3, err := e.svc.Submit(ctx, anonymous, other)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == c.ID || token3 == token || token3 == "" {
			t.Errorf("reused key gave case %s token %q; want a new case with its own token", got.ID, token3)
		}
		if _, err := e.svc.TrackByToken(ctx, c.Number, token3); minsheng.ErrorCode(err) != minsheng.ENOTFOUND {
			t.Errorf("the other client's token tracks the first case: %v", err)
		}
	})
	t.Run("the stored case holds neither the token nor the key", func(t *testing.T) {
		stored, _ := e.svc.FindByID(ctx, c.ID)
		for name, v := range map[string]string{"idempotency_key": stored.IdempotencyKey, "token_sealed": stored.TokenSealed, "token_hash": stored.TokenHash} {
			if strings.Contains(v, token) || strings.Contains(v, in.IdempotencyKey) {
				t.Errorf("%s = %q holds the token or the key", name, v)
			}
		}
	})
	refusals := []struct{ name, number, token string }{
		{"wrong token", c.Number, strings.Repeat("0", len(token))},
		{"wrong number", "XC2026-999999", token},
		{"empty token", c.Number, ""},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.TrackByToken(ctx, tt.number, tt.token)
			wantCode(t, err, minsheng.ENOTFOUND)
		})
	}
	t.Run("a case filed with an account cannot be tracked by token", func(t *testing.T) {
		own := e.submit(t, resident, input())
		_, err := e.svc.TrackByToken(ctx, own.Number, token)
		wantCode(t, err, minsheng.ENOTFOUND)
	})
}

// TestTrackingTokensAreRandom: the same key and filing on two servers
// sharing one configured secret give different tokens, so a token cannot
// be computed from the Idempotency-Key.
func TestTrackingTokensAreRandom(t *testing.T) {
	ctx := context.Background()
	secret := func(c *cases.Config) { c.TokenSecret = []byte(strings.Repeat("s", 32)) }
	in := input()
	in.IdempotencyKey = "anon-same-key-01"
	tokens := map[string]bool{}
	for i := 0; i < 3; i++ {
		e := newEnv(t, secret)
		_, token, err := e.svc.Submit(ctx, anonymous, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(token) < 32 || tokens[token] {
			t.Errorf("token %q: short or seen before (%v)", token, tokens)
		}
		tokens[token] = true
	}
}

func TestSubmitIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := input()
	in.IdempotencyKey = "3f1c2a9e-client-uuid"

	first := e.submit(t, resident, in)
	second := e.submit(t, resident, in)
	if second.ID != first.ID || second.Number != first.Number {
		t.Errorf("second submit = %s %s, want %s %s", second.ID, second.Number, first.ID, first.Number)
	}

	t.Run("concurrent retries make one case", func(t *testing.T) {
		in := input()
		in.IdempotencyKey = "concurrent-retry-key"
		const n = 8
		ids := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				c, _, err := e.svc.Submit(ctx, resident, in)
				if err != nil {
					t.Errorf("submit %d: %v", i, err)
					return
				}
				ids[i] = c.ID
			})
		}
		wg.Wait()
		for i, id := range ids {
			if id != ids[0] {
				t.Errorf("submit %d made case %s, want %s", i, id, ids[0])
			}
		}
	})
	t.Run("another resident's same key is another case", func(t *testing.T) {
		other := e.submit(t, neighbour, in)
		if other.ID == first.ID {
			t.Errorf("neighbour got the resident's case %s", other.ID)
		}
	})

	n := 0
	if err := e.svc.EachCase(ctx, cases.Filter{}, func(*cases.Case) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, want := n, 3; got != want {
		t.Errorf("cases stored = %d, want %d", got, want)
	}
}
