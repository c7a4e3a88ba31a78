package auth_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"minsheng"
	"minsheng/internal/auth"
)

// wantWait checks an ERATELIMITED error carries wait and says it.
func wantWait(t *testing.T, err error, wait time.Duration) {
	t.Helper()
	wantCode(t, err, minsheng.ERATELIMITED)
	got, ok := auth.RetryAfterOf(err)
	if !ok || got != wait {
		t.Fatalf("wait = %v (%v), want %v", got, ok, wait)
	}
	if msg, want := minsheng.ErrorMessage(err), auth.WaitText(wait); !strings.Contains(msg, want) {
		t.Errorf("message %q does not say %q", msg, want)
	}
}

func TestLockoutBackoff(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	mustUser(t, e, auth.NewUser{Username: "zhao", Password: "correct-horse", Role: auth.RoleAdmin})
	const a, b = "10.9.0.1", "10.9.0.2"
	for i := 1; i <= 4; i++ {
		_, err := e.svc.Login(ctx, "zhao", "bad-password", a)
		wantCode(t, err, minsheng.EUNAUTHORIZED)
	}
	t.Run("fifth failure locks address A for 30 s", func(t *testing.T) {
		_, err := e.svc.Login(ctx, "zhao", "bad-password", a)
		wantWait(t, err, 30*time.Second)
	})
	t.Run("even the right password from A waits, the wait counts down", func(t *testing.T) {
		e.clock.Advance(10 * time.Second)
		_, err := e.svc.Login(ctx, "zhao", "correct-horse", a)
		wantWait(t, err, 20*time.Second)
	})
	t.Run("address B signs in meanwhile", func(t *testing.T) {
		if _, err := e.svc.Login(ctx, "zhao", "correct-horse", b); err != nil {
			t.Fatalf("login from B: %v", err)
		}
	})
	t.Run("each further failure doubles the lock up to 15 minutes", func(t *testing.T) {
		want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute}
		for i, w := range want {
			e.clock.Advance(16 * time.Minute) // past any lock
			_, err := e.svc.Login(ctx, "zhao", "bad-password", a)
			t.Run(strconv.Itoa(i+6)+"th failure", func(t *testing.T) { wantWait(t, err, w) })
		}
		if got := auth.WaitText(15 * time.Minute); got != "15 分钟" {
			t.Errorf("WaitText(15m) = %q, want %q", got, "15 分钟")
		}
	})
	t.Run("after the lock the right password works and forgets the failures", func(t *testing.T) {
		e.clock.Advance(16 * time.Minute)
		if _, err := e.svc.Login(ctx, "zhao", "correct-horse", a); err != nil {
			t.Fatalf("login from A after the lock: %v", err)
		}
		_, err := e.svc.Login(ctx, "zhao", "bad-password", a)
		wantCode(t, err, minsheng.EUNAUTHORIZED)
	})
}

// TestLockoutAccountCeiling: an attack spread over many addresses passes the
// account's ceiling; from then on each address is locked after its first
// failure (slowing the attack), while an address that does not fail still
// signs in at once.
func TestLockoutAccountCeiling(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *auth.Config) {
		c.Lockout.AccountCeiling = 20
		c.LoginPerIP = auth.Limit{N: 1000, Window: time.Hour}
	})
	mustUser(t, e, auth.NewUser{Username: "qian", Password: "correct-horse", Role: auth.RoleFinance})
	for i := 0; i < 20; i++ {
		_, err := e.svc.Login(ctx, "qian", "bad-password", "10.8.0."+strconv.Itoa(i+1))
		wantCode(t, err, minsheng.EUNAUTHORIZED)
	}
	t.Run("a new address is locked after one failure", func(t *testing.T) {
		_, err := e.svc.Login(ctx, "qian", "bad-password", "10.8.1.1")
		wantWait(t, err, 30*time.Second)
	})
	t.Run("a failing address escalates from its own count", func(t *testing.T) {
		_, err := e.svc.Login(ctx, "qian", "bad-password", "10.8.0.1")
		wantWait(t, err, time.Minute)
	})
	t.Run("staff at another address are not slowed", func(t *testing.T) {
		if _, err := e.svc.Login(ctx, "qian", "correct-horse", "10.8.2.1"); err != nil {
			t.Fatalf("login: %v", err)
		}
	})
	t.Run("after the ceiling window, five free failures again", func(t *testing.T) {
		// The window slides: its oldest slot (1/60 of it) counts whole.
		e.clock.Advance(time.Hour + time.Minute)
		for i := 0; i < 4; i++ {
			_, err := e.svc.Login(ctx, "qian", "bad-password", "10.8.3.1")
			wantCode(t, err, minsheng.EUNAUTHORIZED)
		}
	})
}

func TestWaitText(t *testing.T) {
	tests := []struct {
		wait time.Duration
		want string
	}{
		{0, "1 秒"}, {1500 * time.Millisecond, "2 秒"}, {30 * time.Second, "30 秒"}, {2 * time.Minute, "120 秒"},
		{121 * time.Second, "3 分钟"}, {12*time.Minute + time.Second, "13 分钟"},
	}
	for _, tt := range tests {
		t.Run(tt.wait.String(), func(t *testing.T) {
			if got := auth.WaitText(tt.wait); got != tt.want {
				t.Errorf("WaitText(%v) = %q, want %q", tt.wait, got, tt.want)
			}
		})
	}
}

// TestLockoutBurst: 16 simultaneous wrong passwords from an address that
// already has four failures get one password check between them (the
// fifth failure and its 30 s lock); the rest are refused unchecked, so the
// burst does not buy 16 guesses and the next lock is the doubled one, not
// the maximum. Five rounds, each from a new address of the same account.
func TestLockoutBurst(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	mustUser(t, e, auth.NewUser{Username: "wuqi", Password: "correct-horse", Role: auth.RoleFinance})
	for round := 1; round <= 5; round++ {
		t.Run("round "+strconv.Itoa(round), func(t *testing.T) {
			ip := "10.7.0." + strconv.Itoa(round)
			for i := 0; i < 4; i++ {
				_, err := e.svc.Login(ctx, "wuqi", "bad-password", ip)
				wantCode(t, err, minsheng.EUNAUTHORIZED)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := e.svc.Login(ctx, "wuqi", "bad-password", ip)
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			locks := 0
			for err := range errs {
				wantCode(t, err, minsheng.ERATELIMITED)
				if wait, _ := auth.RetryAfterOf(err); wait == 30*time.Second {
					locks++
				}
			}
			if locks < 1 {
				t.Errorf("no answer started the 30 s lock")
			}
			e.clock.Advance(31 * time.Second)
			_, err := e.svc.Login(ctx, "wuqi", "bad-password", ip)
			wantWait(t, err, time.Minute)
		})
	}
}
