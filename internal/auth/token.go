package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"minsheng"
)

const issuer = "minsheng"

// accessClaims is what an access token carries: enough to authorise a
// request without a database read. TokenVersion is the user's
// token_version when it was issued (see revoke.go).
type accessClaims struct {
	Role         Role   `json:"role"`
	Name         string `json:"name,omitempty"`
	SubDistrict  string `json:"sd,omitempty"`
	Community    string `json:"cm,omitempty"`
	TokenVersion int64  `json:"tv,omitempty"`
	jwt.RegisteredClaims
}

func (s *Service) signAccess(p Principal, version int64, now time.Time) (string, time.Time, error) {
	exp := now.Add(s.cfg.AccessTTL)
	c := accessClaims{
		Role: p.Role, Name: p.Name, SubDistrict: p.SubDistrict, Community: p.Community, TokenVersion: version,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   p.UserID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        randomToken(8),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.cfg.Secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: unable to sign token: %w", err)
	}
	return tok, exp, nil
}

// Authenticate checks an access token and returns its principal. Only HS256
// with our key is accepted: "alg: none", another algorithm or another key,
// an expired token or a missing expiry all get EUNAUTHORIZED; so does a
// token issued before its user was disabled, re-scoped or given a new
// password (on every instance within Config.RevocationRefresh). It reads the
// database only to refresh the revocation copy, at most that often.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	var c accessClaims
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.cfg.Now),
	)
	_, err := parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.cfg.Secret, nil })
	if err != nil {
		msg := "登录凭证无效，请重新登录"
		if errors.Is(err, jwt.ErrTokenExpired) {
			msg = "登录已过期，请刷新或重新登录"
		}
		return Principal{}, &minsheng.Error{Code: minsheng.EUNAUTHORIZED, Message: msg, Err: err}
	}
	if c.Subject == "" || !c.Role.Valid() {
		return Principal{}, minsheng.Errorf(minsheng.EUNAUTHORIZED, "登录凭证无效，请重新登录")
	}
	minVersion, err := s.revoked.minVersion(ctx, s.cfg.Now(), c.Subject)
	if err != nil {
		return Principal{}, err
	}
	if c.TokenVersion < minVersion {
		return Principal{}, errRevoked
	}
	return Principal{UserID: c.Subject, Name: c.Name, Role: c.Role, SubDistrict: c.SubDistrict, Community: c.Community}, nil
}

// randomToken returns n random bytes hex-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// LoadSecret returns the JWT key: configured if given, else the one kept in
// dataDir/jwt.secret, generated (mode 0600) on first use so tokens survive
// restarts without anyone choosing a key.
func LoadSecret(dataDir, configured string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	path := filepath.Join(dataDir, "jwt.secret")
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("auth: unable to read %s: %w", path, err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: unable to create %s: %w", dataDir, err)
	}
	secret := []byte(randomToken(32))
	if err := os.WriteFile(path, secret, 0o600); err != nil {
		return nil, fmt.Errorf("auth: unable to write %s: %w", path, err)
	}
	return secret, nil
}
