package auth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"minsheng"
	"minsheng/internal/auth"
)

// FuzzAuthenticate feeds arbitrary strings to the access-token check. It
// must never panic; every refusal is EUNAUTHORIZED; and only a token
// HS256-signed with our key passes, naming a user and a valid role — a
// mutated or forged token never does.
func FuzzAuthenticate(f *testing.F) {
	ctx := context.Background()
	e := newEnv(f)
	mustUser(f, e, auth.NewUser{Username: "wang", Password: "correct-horse", Role: auth.RoleCadre, Scope: "jinrongjie-fengsheng"})
	tok, err := e.svc.Login(ctx, "wang", "correct-horse", "10.0.0.1")
	if err != nil {
		f.Fatal(err)
	}
	issued, err := e.svc.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		f.Fatal(err)
	}

	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	exp := e.clock.Now().Add(time.Hour).Unix()
	admin := jwt.MapClaims{"iss": "minsheng", "sub": issued.UserID, "role": "admin", "exp": exp}
	parts := strings.Split(tok.AccessToken, ".")
	for _, s := range []string{
		tok.AccessToken,
		tok.AccessToken + "x",
		parts[0] + "." + parts[1] + ".",
		parts[0] + ".." + parts[2],
		"Bearer " + tok.AccessToken,
		sign(jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), admin), // another key
		sign(jwt.SigningMethodHS512, []byte(strings.Repeat("s", 32)), admin), // our key, another algorithm
		sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, admin), // alg none
		sign(jwt.SigningMethodHS256, []byte(strings.Repeat("s", 32)), jwt.MapClaims{ // no expiry
			"iss": "minsheng", "sub": issued.UserID, "role": "cadre"}),
		"eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjpudWxsLCJleHAiOjFlMzA4fQ.x", // exp 1e308, role null
		"eyJhbGciOiJIUzI1NiJ9.W10.x",                                // claims are an array
		"", ".", "..", "a.b.c.d", "\x00\xff", strings.Repeat("A", 4096) + ".e30.x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := e.svc.Authenticate(ctx, token)
		if err != nil {
			if code := minsheng.ErrorCode(err); code != minsheng.EUNAUTHORIZED {
				t.Fatalf("code %q (%v), want unauthorized", code, err)
			}
			return
		}
		// Seeds signed in one process are run in fuzz workers with users
		// of their own, so the check is the signature itself: only a
		// token HS256-signed with our key may pass.
		parts := strings.Split(token, ".")
		if len(parts) != 3 || p.UserID == "" || !p.Role.Valid() {
			t.Fatalf("token %q accepted as %+v", token, p)
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(parts[0] + "." + parts[1]))
		sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[2], "="))
		if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
			t.Fatalf("token %q accepted as %+v without our signature", token, p)
		}
	})
}
