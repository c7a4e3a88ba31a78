package auth_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"minsheng"
	"minsheng/internal/auth"
	"minsheng/internal/org"
	"minsheng/internal/store"
	"minsheng/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var secret = []byte(strings.Repeat("s", 32))

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type smsBox struct {
	mu   sync.Mutex
	last map[string]string
}

func (b *smsBox) Send(_ context.Context, phone, text string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last[phone] = regexp.MustCompile(`\d{6}`).FindString(text)
	return nil
}

func (b *smsBox) code(phone string) string { b.mu.Lock(); defer b.mu.Unlock(); return b.last[phone] }

type env struct {
	svc   *auth.Service
	clock *clock
	sms   *smsBox
	st    *store.Store
	cfg   auth.Config
}

func newEnv(t testing.TB, tweak ...func(*auth.Config)) env {
	t.Helper()
	st := storetest.New(t)
	ctx := context.Background()
	if err := st.EnsureIndexes(ctx, auth.Indexes); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	box := &smsBox{last: map[string]string{}}
	cfg := auth.DefaultConfig(secret, storetest.Logger())
	cfg.BcryptCost = bcrypt.MinCost
	cfg.Now = c.Now
	cfg.SMS = box
	for _, f := range tweak {
		f(&cfg)
	}
	svc, err := auth.NewService(st, org.Xicheng(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return env{svc: svc, clock: c, sms: box, st: st, cfg: cfg}
}

func mustUser(t testing.TB, e env, in auth.NewUser) auth.User {
	t.Helper()
	u, err := e.svc.CreateUser(context.Background(), in)
	if err != nil {
		t.Fatalf("create %s: %v", in.Username, err)
	}
	return u
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := minsheng.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func TestLogin(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	mustUser(t, e, auth.NewUser{Username: "wang", Password: "correct-horse", Role: auth.RoleCadre, Scope: "jinrongjie-fengsheng"})

	t.Run("right password", func(t *testing.T) {
		tok, err := e.svc.Login(ctx, "Wang", "correct-horse", "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.svc.Authenticate(ctx, tok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if p.Role != auth.RoleCadre || p.Community != "jinrongjie-fengsheng" || p.SubDistrict != "jinrongjie" {
			t.Errorf("principal = %+v", p)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		_, err := e.svc.Login(ctx, "wang", "wrong-horse", "10.0.0.1")
		wantCode(t, err, minsheng.EUNAUTHORIZED)
	})
	t.Run("unknown user same answer", func(t *testing.T) {
		_, err := e.svc.Login(ctx, "nobody", "whatever1", "10.0.0.1")
		wantCode(t, err, minsheng.EUNAUTHORIZED)
		if got, want := minsheng.ErrorMessage(err), "用户名或密码错误"; got != want {
			t.Errorf("message = %q, want %q", got, want)
		}
	})
	t.Run("missing fields", func(t *testing.T) {
		_, err := e.svc.Login(ctx, "", "", "10.0.0.1")
		wantCode(t, err, minsheng.EINVALID)
		if f := minsheng.ErrorFields(err); f["username"] == "" || f["password"] == "" {
			t.Errorf("fields = %v", f)
		}
	})
}

func TestAccessTokenRejected(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	mustUser(t, e, auth.NewUser{Username: "lili", Password: "correct-horse", Role: auth.RoleFinance})
	tok, err := e.svc.Login(ctx, "lili", "correct-horse", "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{"sub": "x", "role": "admin", "iss": "minsheng", "exp": e.clock.Now().Add(time.Hour).Unix()}
	otherKey, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(strings.Repeat("o", 32)))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x", "role": "admin", "iss": "minsheng"}).SignedString(secret)
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, claims).SignedString(secret)

	tests := []struct{ name, token string }{
		{"signed with another key", otherKey},
		{"alg none", none},
		{"no expiry", noExp},
		{"other algorithm", hs512},
		{"garbage", "not.a.jwt"},
		{"tampered payload", tok.AccessToken[:len(tok.AccessToken)-3] + "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Authenticate(ctx, tt.token)
			wantCode(t, err, minsheng.EUNAUTHORIZED)
		})
	}
	t.Run("expired", func(t *testing.T) {
		if _, err := e.svc.Authenticate(ctx, tok.AccessToken); err != nil {
			t.Fatalf("fresh token refused: %v", err)
		}
		e.clock.Advance(16 * time.Minute)
		_, err := e.svc.Authenticate(ctx, tok.AccessToken)
		wantCode(t, err, minsheng.EUNAUTHORIZED)
		if !strings.Contains(minsheng.ErrorMessage(err), "过期") {
			t.Errorf("message %q does not say expired", minsheng.ErrorMessage(err))
		}
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	mustUser(t, e, auth.NewUser{Username: "zhao", Password: "correct-horse", Role: auth.RoleSubdistrict, Scope: "jinrongjie"})
	first, err := e.svc.Login(ctx, "zhao", "correct-horse", "10.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	if second.RefreshToken == first.RefreshToken {
		t.Fatal("refresh token not rotated")
	}
	third, err := e.svc.Refresh(ctx, second.RefreshToken)
	if err != nil {
		t.Fatalf("second refresh: %v", err)
	}
	// A stolen copy of the first token is replayed.
	_, err = e.svc.Refresh(ctx, first.RefreshToken)
	wantCode(t, err, minsheng.EUNAUTHORIZED)
	// The whole family is gone, including the newest token.
	_, err = e.svc.Refresh(ctx, third.RefreshToken)
	wantCode(t, err, minsheng.EUNAUTHORIZED)

	t.Run("other sign-ins unaffected", func(t *testing.T) {
		other, err := e.svc.Login(ctx, "zhao", "correct-horse", "10.0.0.3")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Refresh(ctx, other.RefreshToken); err != nil {
			t.Fatalf("refresh of another family: %v", err)
		}
	})
	t.Run("logout revokes", func(t *testing.T) {
		tok, err := e.svc.Login(ctx, "zhao", "correct-horse", "10.0.0.3")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Logout(ctx, tok.RefreshToken); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Refresh(ctx, tok.RefreshToken)
		wantCode(t, err, minsheng.EUNAUTHORIZED)
	})
	t.Run("expired refresh", func(t *testing.T) {
		tok, err := e.svc.Login(ctx, "zhao", "correct-horse", "10.0.0.3")
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(31 * 24 * time.Hour)
		_, err = e.svc.Refresh(ctx, tok.RefreshToken)
		wantCode(t, err, minsheng.EUNAUTHORIZED)
	})
	t.Run("forged secret", func(t *testing.T) {
		id, _, _ := strings.Cut(third.RefreshToken, ".")
		_, err := e.svc.Refresh(ctx, id+".deadbeef")
		wantCode(t, err, minsheng.EUNAUTHORIZED)
	})
}

func TestRateLimits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *auth.Config) {
		c.LoginPerIP = auth.Limit{N: 5, Window: 15 * time.Minute}
		c.OTPPerPhone = auth.Limit{N: 2, Window: time.Hour}
	})
	mustUser(t, e, auth.NewUser{Username: "sun", Password: "correct-horse", Role: auth.RoleAdmin})

	t.Run("wrong passwords from many addresses lock none of the others", func(t *testing.T) {
		// The sweep: 11 wrong passwords from anywhere locked the account for
		// everyone, even for the right password.
		for i := 0; i < 11; i++ {
			_, err := e.svc.Login(ctx, "sun", "bad-password", "10.1.0."+strconv.Itoa(i+1))
			wantCode(t, err, minsheng.EUNAUTHORIZED)
		}
		if _, err := e.svc.Login(ctx, "sun", "correct-horse", "10.1.0.99"); err != nil {
			t.Fatalf("right password from another address: %v", err)
		}
	})
	t.Run("sign-ins that succeed are not limited per ip", func(t *testing.T) {
		// A sub-district office behind one address signs in all morning.
		for i := 0; i < 8; i++ {
			if _, err := e.svc.Login(ctx, "sun", "correct-horse", "10.4.0.1"); err != nil {
				t.Fatalf("sign-in %d: %v", i+1, err)
			}
		}
	})
	t.Run("per ip", func(t *testing.T) {
		var err error
		for i := 0; i < 6; i++ {
			_, err = e.svc.Login(ctx, "user"+string(rune('a'+i)), "whatever1", "10.2.0.1")
		}
		wantCode(t, err, minsheng.ERATELIMITED)
	})
	t.Run("otp per phone", func(t *testing.T) {
		// From three addresses, so the phone's cap refuses the third
		// rather than one address's.
		var err error
		for i := 0; i < 3; i++ {
			err = e.svc.RequestOTP(ctx, "13800138000", "10.3.0."+strconv.Itoa(i+1))
		}
		wantCode(t, err, minsheng.ERATELIMITED)
	})
	t.Run("otp per phone from one address", func(t *testing.T) {
		var err error
		for i := 0; i < 3; i++ {
			err = e.svc.RequestOTP(ctx, "13800138001", "10.3.1.1")
		}
		wantCode(t, err, minsheng.ERATELIMITED)
	})
}

func TestOTPSignIn(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	const phone = "13912345678"
	if err := e.svc.RequestOTP(ctx, phone, "10.4.0.1"); err != nil {
		t.Fatal(err)
	}
	code := e.sms.code(phone)
	if len(code) != 6 {
		t.Fatalf("sms code = %q", code)
	}
	t.Run("bad phone", func(t *testing.T) {
		wantCode(t, e.svc.RequestOTP(ctx, "12345", "10.4.0.1"), minsheng.EINVALID)
	})
	t.Run("wrong code", func(t *testing.T) {
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		_, err := e.svc.VerifyOTP(ctx, phone, wrong, "10.4.0.1")
		wantCode(t, err, minsheng.EUNAUTHORIZED)
	})
	tok, err := e.svc.VerifyOTP(ctx, phone, code, "10.4.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if tok.User.Role != auth.RoleResident || tok.User.Phone != phone {
		t.Errorf("user = %+v", tok.User)
	}
	t.Run("code works once", func(t *testing.T) {
		_, err := e.svc.VerifyOTP(ctx, phone, code, "10.4.0.1")
		wantCode(t, err, minsheng.EUNAUTHORIZED)
	})
	t.Run("same account next time", func(t *testing.T) {
		if err := e.svc.RequestOTP(ctx, phone, "10.4.0.1"); err != nil {
			t.Fatal(err)
		}
		again, err := e.svc.VerifyOTP(ctx, phone, e.sms.code(phone), "10.4.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if again.User.ID != tok.User.ID {
			t.Errorf("second sign-in made a new account %s, want %s", again.User.ID, tok.User.ID)
		}
	})
	t.Run("five tries then locked", func(t *testing.T) {
		if err := e.svc.RequestOTP(ctx, phone, "10.4.0.2"); err != nil {
			t.Fatal(err)
		}
		good := e.sms.code(phone)
		bad := "000000"
		if good == bad {
			bad = "111111"
		}
		// One address has four guesses at a phone an hour, so the five
		// tries come from two.
		for i := 0; i < 4; i++ {
			_, err := e.svc.VerifyOTP(ctx, phone, bad, "10.4.0.2")
			wantCode(t, err, minsheng.EUNAUTHORIZED)
		}
		_, err := e.svc.VerifyOTP(ctx, phone, bad, "10.4.0.2")
		wantCode(t, err, minsheng.ERATELIMITED)
		_, err = e.svc.VerifyOTP(ctx, phone, bad, "10.4.0.5")
		wantCode(t, err, minsheng.EUNAUTHORIZED)
		_, err = e.svc.VerifyOTP(ctx, phone, good, "10.4.0.5")
		wantCode(t, err, minsheng.EUNAUTHORIZED)
	})
	t.Run("expired", func(t *testing.T) {
		const p2 = "13700000001"
		if err := e.svc.RequestOTP(ctx, p2, "10.4.0.3"); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(6 * time.Minute)
		_, err := e.svc.VerifyOTP(ctx, p2, e.sms.code(p2), "10.4.0.3")
		wantCode(t, err, minsheng.EUNAUTHORIZED)
	})
}

func TestScope(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fengsheng := mustUser(t, e, auth.NewUser{Username: "cadre-fs", Password: "correct-horse", Role: auth.RoleCadre, Scope: "jinrongjie-fengsheng"})
	sub := mustUser(t, e, auth.NewUser{Username: "jrj-staff", Password: "correct-horse", Role: auth.RoleSubdistrict, Scope: "jinrongjie"})
	fin := mustUser(t, e, auth.NewUser{Username: "fin", Password: "correct-horse", Role: auth.RoleFinance})
	other := org.Xicheng().CommunitiesOf("xinjiekou")[0]

	tests := []struct {
		name      string
		p         auth.Principal
		community string
		want      string
	}{
		{"cadre own community", fengsheng.Principal(), "jinrongjie-fengsheng", ""},
		{"cadre other community", fengsheng.Principal(), other.Code, minsheng.EFORBIDDEN},
		{"subdistrict own community", sub.Principal(), "jinrongjie-fengsheng", ""},
		{"subdistrict other sub-district", sub.Principal(), other.Code, minsheng.EFORBIDDEN},
		{"finance anywhere", fin.Principal(), other.Code, ""},
		{"resident never", auth.Principal{UserID: "r", Role: auth.RoleResident}, "jinrongjie-fengsheng", minsheng.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.FindStaff(ctx, tt.p, "", tt.community)
			if got := minsheng.ErrorCode(err); got != tt.want {
				t.Errorf("code = %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}

func TestCreateUserValidation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tests := []struct {
		name  string
		in    auth.NewUser
		field string
	}{
		{"bad role", auth.NewUser{Username: "abc", Password: "correct-horse", Role: "boss"}, "role"},
		{"short password", auth.NewUser{Username: "abc", Password: "short", Role: auth.RoleAdmin}, "password"},
		{"bad username", auth.NewUser{Username: "A B", Password: "correct-horse", Role: auth.RoleAdmin}, "username"},
		{"cadre without community", auth.NewUser{Username: "abc", Password: "correct-horse", Role: auth.RoleCadre}, "scope"},
		{"cadre unknown community", auth.NewUser{Username: "abc", Password: "correct-horse", Role: auth.RoleCadre, Scope: "nowhere"}, "scope"},
		{"finance with scope", auth.NewUser{Username: "abc", Password: "correct-horse", Role: auth.RoleFinance, Scope: "jinrongjie"}, "scope"},
		{"resident bad phone", auth.NewUser{Role: auth.RoleResident, Phone: "110"}, "phone"},
		{"staff with login phone", auth.NewUser{Username: "abc", Password: "correct-horse", Role: auth.RoleAdmin, Phone: "13800138000"}, "phone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.CreateUser(ctx, tt.in)
			wantCode(t, err, minsheng.EINVALID)
			if minsheng.ErrorFields(err)[tt.field] == "" {
				t.Errorf("fields = %v, want %s", minsheng.ErrorFields(err), tt.field)
			}
		})
	}
	t.Run("duplicate username", func(t *testing.T) {
		mustUser(t, e, auth.NewUser{Username: "dup", Password: "correct-horse", Role: auth.RoleAdmin})
		_, err := e.svc.CreateUser(ctx, auth.NewUser{Username: "dup", Password: "correct-horse", Role: auth.RoleAdmin})
		wantCode(t, err, minsheng.ECONFLICT)
	})
	t.Run("ensure admin once", func(t *testing.T) {
		created, pw, err := e.svc.EnsureAdmin(ctx, "")
		if err != nil || !created || len(pw) != 16 {
			t.Fatalf("first: created=%v pw=%q err=%v", created, pw, err)
		}
		created, _, err = e.svc.EnsureAdmin(ctx, "")
		if err != nil || created {
			t.Fatalf("second: created=%v err=%v", created, err)
		}
		if _, err := e.svc.Login(ctx, "admin", pw, "10.9.0.1"); err != nil {
			t.Fatalf("admin login with generated password: %v", err)
		}
	})
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{"13812341234": "138****1234", "": "", "123": "****"} {
		if got := auth.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}
