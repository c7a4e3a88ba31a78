// Package minsheng holds what every layer shares: the application error type
// and its codes. Domain packages (cases, budgetlink) and stores return
// *Error (or wrap one); the HTTP layer maps codes to status in one place.
package minsheng

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status (httpkit.StatusOf).
const (
	EINVALID      = "invalid"      // 400: the request is malformed or a field is wrong
	EUNAUTHORIZED = "unauthorized" // 401: no or bad credentials
	EFORBIDDEN    = "forbidden"    // 403: authenticated but not allowed (role or scope)
	ENOTFOUND     = "not_found"    // 404
	ECONFLICT     = "conflict"     // 409: stale version, illegal transition, duplicate
	ETOOLARGE     = "too_large"    // 413
	EUNSUPPORTED  = "unsupported"  // 415: wrong content type
	ERATELIMITED  = "rate_limited" // 429
	EINTERNAL     = "internal"     // 500: logged, never explained to the client
)

// EUNPROCESSABLE 422: well-formed, but contradicting an earlier request (an
// Idempotency-Key reused with another body).
const EUNPROCESSABLE = "unprocessable"

// Codes of requests refused before they reach a handler.
const (
	EURITOOLONG      = "uri_too_long"      // 414: request line too long
	EHEADERSTOOLARGE = "headers_too_large" // 431: request headers too large
)

// Error is the one application error. Message is safe to show to a user
// (Simplified Chinese); Fields names the offending input fields.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
	// Err is the underlying cause, logged but never sent to a client.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap exposes the cause to errors.Is/As.
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted, user-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid builds an EINVALID error carrying per-field messages.
func Invalid(message string, fields map[string]string) *Error {
	return &Error{Code: EINVALID, Message: message, Fields: fields}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil,
// and EINTERNAL for anything else.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err; internal errors get a
// generic one so no internal detail leaks.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "服务器内部错误，请稍后重试"
}

// ErrorFields returns per-field messages of err, if any.
func ErrorFields(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Sentinels shared across stores; compare with errors.Is.
var (
	// ErrNotFound is what a store returns when the document does not exist.
	ErrNotFound = &Error{Code: ENOTFOUND, Message: "记录不存在"}
	// ErrDuplicate is what a store returns on a unique-index violation.
	ErrDuplicate = &Error{Code: ECONFLICT, Message: "记录已存在"}
)
