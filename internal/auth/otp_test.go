package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
)

// wrongCode returns a six-digit code other than right, different for each i.
func wrongCode(right string, i int) string {
	c := fmt.Sprintf("%06d", 100000+i)
	if c == right {
		c = fmt.Sprintf("%06d", 200000+i)
	}
	return c
}

// TestOTPStrangerCannotLockOut: a stranger asking for codes for a
// resident's phone, and guessing at it, from other addresses, neither
// replaces the resident's code nor stops the resident asking for another.
func TestOTPStrangerCannotLockOut(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	const phone, home = "13911112222", "10.7.0.1"
	if err := e.svc.RequestOTP(ctx, phone, home); err != nil {
		t.Fatal(err)
	}
	mine := e.sms.code(phone)
	// Four requests and six wrong guesses from each of two addresses.
	for _, ip := range []string{"10.8.0.1", "10.8.0.2"} {
		for i := 0; i < 4; i++ {
			e.clock.Advance(10 * time.Second)
			_ = e.svc.RequestOTP(ctx, phone, ip)
		}
		for i := 0; i < 6; i++ {
			_, _ = e.svc.VerifyOTP(ctx, phone, wrongCode(mine, i), ip)
		}
	}
	t.Run("the resident's code still works, from another address too", func(t *testing.T) {
		tok, err := e.svc.VerifyOTP(ctx, phone, mine, "10.7.0.9")
		if err != nil {
			t.Fatalf("VerifyOTP with the resident's code: %v", err)
		}
		if tok.User.Phone != phone {
			t.Errorf("signed in as %q, want %q", tok.User.Phone, phone)
		}
	})
	t.Run("the resident can ask for another code", func(t *testing.T) {
		if err := e.svc.RequestOTP(ctx, phone, home); err != nil {
			t.Fatalf("RequestOTP from home: %v", err)
		}
		if _, err := e.svc.VerifyOTP(ctx, phone, e.sms.code(phone), home); err != nil {
			t.Fatalf("VerifyOTP with the new code: %v", err)
		}
	})
	t.Run("guesses from one address cannot use up the resident's code", func(t *testing.T) {
		const p2 = "13911113333"
		if err := e.svc.RequestOTP(ctx, p2, home); err != nil {
			t.Fatal(err)
		}
		code := e.sms.code(p2)
		for i := 0; i < 10; i++ {
			_, _ = e.svc.VerifyOTP(ctx, p2, wrongCode(code, i), "10.8.0.3")
		}
		if _, err := e.svc.VerifyOTP(ctx, p2, code, home); err != nil {
			t.Fatalf("VerifyOTP after a stranger's guesses: %v", err)
		}
	})
}

// guessMeter adds up the attempts stored on a phone's codes: every guess
// compared with a code is one attempt of it, so the sum is the number of
// guesses evaluated. A code is known by its id and expiry (a replaced code
// keeps the phone as id but not its expiry) and keeps its highest count.
type guessMeter struct {
	e     env
	phone string
	seen  map[string]int64
}

func (m *guessMeter) read(t *testing.T) {
	t.Helper()
	var docs []struct {
		ID        string    `bson:"_id"`
		ExpiresAt time.Time `bson:"expires_at"`
		Attempts  int64     `bson:"attempts"`
	}
	filter := bson.M{"$or": bson.A{bson.M{"_id": m.phone}, bson.M{"phone": m.phone}}}
	if err := m.e.st.Collection("otp_codes").FindAll(context.Background(), filter, &docs); err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		k := d.ID + "@" + d.ExpiresAt.String()
		m.seen[k] = max(m.seen[k], d.Attempts)
	}
}

func (m *guessMeter) total() (n int64) {
	for _, a := range m.seen {
		n += a
	}
	return n
}

// TestOTPBruteForceBound: ten addresses asking for codes for one phone and
// guessing for an hour get at most 25 guesses evaluated. The hour starts at
// half past, so it spans the start of a limiter window.
func TestOTPBruteForceBound(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.clock.Advance(30 * time.Minute)
	const phone = "13922223333"
	m := &guessMeter{e: e, phone: phone, seen: map[string]int64{}}
	end := e.clock.Now().Add(time.Hour)
	guess := 0
	for e.clock.Now().Before(end) {
		for a := 1; a <= 10; a++ {
			ip := fmt.Sprintf("10.9.0.%d", a)
			m.read(t) // before a request may replace a code
			_ = e.svc.RequestOTP(ctx, phone, ip)
			for g := 0; g < 3; g++ {
				guess++
				if _, err := e.svc.VerifyOTP(ctx, phone, fmt.Sprintf("%06d", guess), ip); err == nil {
					t.Logf("guess %06d signed in (a chance of 1 in 40,000)", guess)
				}
			}
			e.clock.Advance(time.Second)
		}
		e.clock.Advance(5*time.Minute - 10*time.Second)
	}
	m.read(t)
	got := m.total()
	t.Logf("guesses evaluated against one phone from 10 addresses in one hour: %d", got)
	if got > 25 {
		t.Errorf("guesses evaluated in an hour: got %d, want at most 25", got)
	}
	if got == 0 {
		t.Errorf("guesses evaluated: got 0, the attack never reached a code")
	}
	t.Run("an hour later the phone takes guesses again", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		_ = e.svc.RequestOTP(ctx, phone, "10.9.1.1")
		_, err := e.svc.VerifyOTP(ctx, phone, "999999", "10.9.1.1")
		if c := minsheng.ErrorCode(err); c != minsheng.EUNAUTHORIZED {
			t.Errorf("a guess an hour later: got %q (%v), want %q", c, err, minsheng.EUNAUTHORIZED)
		}
	})
}

// TestOTPGuessesRacing: guesses sent at once from many addresses are
// evaluated no more than the phone's 25, whichever wins the races.
func TestOTPGuessesRacing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	const phone = "13933334444"
	for a := 1; a <= 5; a++ {
		e.clock.Advance(time.Second)
		if err := e.svc.RequestOTP(ctx, phone, fmt.Sprintf("10.10.0.%d", a)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for a := 1; a <= 40; a++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = e.svc.VerifyOTP(ctx, phone, fmt.Sprintf("%06d", 300000+a), fmt.Sprintf("10.11.0.%d", a))
		}()
	}
	wg.Wait()
	m := &guessMeter{e: e, phone: phone, seen: map[string]int64{}}
	m.read(t)
	if got := m.total(); got > 25 || got == 0 {
		t.Errorf("racing guesses evaluated: got %d, want 1 to 25", got)
	}
}
