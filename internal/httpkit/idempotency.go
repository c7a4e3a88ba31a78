package httpkit

import "regexp"

// HeaderIdempotencyKey is the request header that makes a retry safe.
const HeaderIdempotencyKey = "Idempotency-Key"

// HeaderIdempotencyReplayed marks an answer replayed from the first request.
const HeaderIdempotencyReplayed = "Idempotency-Replayed"

var idemKeyRe = regexp.MustCompile(`^[A-Za-z0-9_\-:.]{8,128}$`)

// ValidIdempotencyKey reports whether key has the one accepted form: 8 to
// 128 letters, digits or _ - : . (a UUID fits).
func ValidIdempotencyKey(key string) bool { return idemKeyRe.MatchString(key) }
