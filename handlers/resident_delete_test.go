package handlers_test

import (
	"context"
	"net/http"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestDeleteAccountVoidsTokens: once a resident deletes their account, the
// access token they still hold is refused at once — it could otherwise
// file a case with a name and phone, re-creating personal data right after
// the erasure — and so is the refresh token.
func TestDeleteAccountVoidsTokens(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, fixtureOptions{})
	const phone = "13811112222"
	if err := f.auth.RequestOTP(ctx, phone, "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	tok, err := f.auth.VerifyOTP(ctx, phone, f.sms.code(phone), "192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	f.tokens["li"] = tok.AccessToken
	if got := f.call(t, "li", "POST", "/api/v1/cases", newCaseBody(), nil); got != http.StatusCreated {
		t.Fatalf("filing before deletion: status %d, want 201", got)
	}
	if got := f.call(t, "li", "DELETE", "/api/v1/me", nil, nil); got != http.StatusOK {
		t.Fatalf("delete: status %d, want 200", got)
	}

	t.Run("access token refused on /me", func(t *testing.T) {
		if got := f.call(t, "li", "GET", "/api/v1/me", nil, nil); got != http.StatusUnauthorized {
			t.Errorf("GET /api/v1/me: got %d, want 401", got)
		}
	})
	t.Run("access token cannot file a case", func(t *testing.T) {
		if got := f.call(t, "li", "POST", "/api/v1/cases", newCaseBody(), nil); got != http.StatusUnauthorized {
			t.Errorf("POST /api/v1/cases: got %d, want 401", got)
		}
		cases := f.st.Collection("cases")
		if n, err := cases.Count(ctx, bson.M{"filer_id": tok.User.ID}); err != nil || n != 0 {
			t.Errorf("cases filed by the deleted account: got %d (%v), want 0", n, err)
		}
		if n, err := cases.Count(ctx, bson.M{}); err != nil || n != 1 {
			t.Errorf("cases: got %d (%v), want 1 (the one filed before, anonymised)", n, err)
		}
		if n, err := f.st.Collection("users").Count(ctx, bson.M{"phone": phone}); err != nil || n != 0 {
			t.Errorf("accounts with the phone: got %d (%v), want 0", n, err)
		}
	})
	t.Run("refresh token refused", func(t *testing.T) {
		body := map[string]any{"refresh_token": tok.RefreshToken}
		if got := f.call(t, "", "POST", "/api/v1/auth/refresh", body, nil); got != http.StatusUnauthorized {
			t.Errorf("POST /api/v1/auth/refresh: got %d, want 401", got)
		}
	})
	t.Run("signing in again makes a new, empty account", func(t *testing.T) {
		if err := f.auth.RequestOTP(ctx, phone, "192.0.2.7"); err != nil {
			t.Fatal(err)
		}
		again, err := f.auth.VerifyOTP(ctx, phone, f.sms.code(phone), "192.0.2.7")
		if err != nil {
			t.Fatal(err)
		}
		if again.User.ID == tok.User.ID {
			t.Errorf("signed in to the deleted account %s", tok.User.ID)
		}
		f.tokens["li2"] = again.AccessToken
		if got := f.call(t, "li2", "GET", "/api/v1/me", nil, nil); got != http.StatusOK {
			t.Errorf("new account GET /api/v1/me: got %d, want 200", got)
		}
	})
}
