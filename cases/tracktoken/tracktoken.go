// Package tracktoken makes the secrets behind tracking links (查询码): the
// random token an anonymous filer gets, sealed under what only a retry of
// the same filing holds; the token a cadre's app shows as a QR code for a
// case filed on a resident's behalf, derived so that asking again gives the
// same; and the hash that is all the database keeps of either. It returns
// no errors: a token that cannot be opened is "".
package tracktoken

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// New is a new anonymous filer's secret: 128 random bits, never
// derived from anything the client sent (issue 8 item 4).
func New() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Seal encrypts an anonymous filer's token (AES-GCM) under a key
// derived from their Idempotency-Key and the filing's content, neither of
// which is stored, so only a retry of the same filing by whoever holds the
// key can read it back (Open); the database alone cannot.
func Seal(token, idemKey, inputHash string) string {
	gcm := aead(idemKey, inputHash)
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawStdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(token), nil))
}

// Open reverses Seal; "" when it cannot.
func Open(sealed, idemKey, inputHash string) string {
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	gcm := aead(idemKey, inputHash)
	if err != nil || len(b) < gcm.NonceSize() {
		return ""
	}
	plain, err := gcm.Open(nil, b[:gcm.NonceSize()], b[gcm.NonceSize():], nil)
	if err != nil {
		return ""
	}
	return string(plain)
}

func aead(idemKey, inputHash string) cipher.AEAD {
	key := sha256.Sum256([]byte("minsheng track seal|" + idemKey + "|" + inputHash))
	block, _ := aes.NewCipher(key[:]) // a 32-byte key never fails
	gcm, _ := cipher.NewGCM(block)
	return gcm
}

// Hash is what is stored of a token, never the token itself.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ForCase is the tracking token of case id under secret: the same each
// time, so the QR code a cadre shows again is the one already handed out.
func ForCase(secret []byte, id string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("track-case|" + id))
	return hex.EncodeToString(m.Sum(nil)[:16])
}
