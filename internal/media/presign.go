package media

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Presigner is a Storage that lets a client upload an object itself,
// straight to the store, through a short-lived signed URL: the S3 backend.
// The local backend is not one (the app then uploads through the server).
//
// Errors: the key and ttl rules of Storage (EINVALID); anything else is
// internal.
type Presigner interface {
	// PresignPut returns a URL through which a client may PUT one object
	// under key until ttl passes, and the headers it must send with it:
	// the content type is part of the signature, so another type is
	// refused by the store itself. The size cannot be bound by a signed
	// PUT; whoever accepts the upload checks it (Stat) before using it.
	PresignPut(ctx context.Context, key, contentType string, ttl time.Duration) (url string, headers map[string]string, err error)
}

var _ Presigner = (*S3)(nil)

// PresignPut signs a PUT of key with its Content-Type. Signing is local:
// no request reaches the server.
func (s *S3) PresignPut(ctx context.Context, key, contentType string, ttl time.Duration) (string, map[string]string, error) {
	if err := ValidateKey(key); err != nil {
		return "", nil, err
	}
	if err := checkTTL(ttl); err != nil {
		return "", nil, err
	}
	ct, err := contentTypeFor(key, contentType)
	if err != nil {
		return "", nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", ct)
	u, err := s.client.PresignHeader(ctx, http.MethodPut, s.bucket, key, ttl, nil, h)
	if err != nil {
		return "", nil, fmt.Errorf("media: unable to presign upload of %s: %w", key, err)
	}
	return u.String(), map[string]string{"Content-Type": ct}, nil
}
