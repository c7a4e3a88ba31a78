package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"minsheng"
	"minsheng/internal/httpkit"
	"minsheng/internal/idem"
)

const (
	// idemMaxAnswer bounds a stored answer; a bigger one is not kept and a
	// retry runs again (the domain's own idempotency still holds).
	idemMaxAnswer = 256 << 10
	idemLocal     = "idempotency_id"
)

// idempotency serves the Idempotency-Key header of every mutating route
// (sign-in and account routes excepted, see idempotentPath).
// A key belongs to its caller (the user, or an anonymous client's address)
// and route and is bound to a hash of the body: the first request claims a
// record and runs; a repeat with the same body gets the stored answer with
// Idempotency-Replayed: true (waiting up to idem.Config.Wait while the first
// still runs, then 409); a repeat with another body gets 422. Server errors are
// not stored, so a retry runs again.
func (s *Server) idempotency(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch, fiber.MethodDelete:
	default:
		return c.Next()
	}
	key := c.Get(httpkit.HeaderIdempotencyKey)
	if key == "" || !idempotentPath(c.Path()) {
		return c.Next()
	}
	if !httpkit.ValidIdempotencyKey(key) {
		return minsheng.Invalid("Idempotency-Key 无效", map[string]string{httpkit.HeaderIdempotencyKey: "须为8到128位字母、数字或 _ - : ."})
	}
	caller := "anon:" + c.IP()
	if p, ok := httpkit.OptionalPrincipal(c); ok {
		caller = "user:" + p.UserID
	}
	route := c.Method() + " " + routePath(c.Path())
	id := idem.ID(caller, route, key)
	c.Locals(idemLocal, id)
	if s.idem == nil {
		return c.Next()
	}
	hash, err := requestHash(c)
	if err != nil {
		return err
	}
	ans, err := s.idem.Do(c.UserContext(), id, route, hash, func() (idem.Answer, error) {
		if err := c.Next(); err != nil {
			if herr := s.errorHandler(c, err); herr != nil {
				return idem.Answer{}, herr // not an answer: the key is released
			}
		}
		status, body := c.Response().StatusCode(), c.Response().Body()
		return idem.Answer{Status: status, ContentType: string(c.Response().Header.ContentType()),
			Body: slices.Clone(body), Transient: !storable(status) || len(body) > idemMaxAnswer}, nil
	})
	switch {
	case errors.Is(err, idem.ErrMismatch):
		return minsheng.Errorf(minsheng.EUNPROCESSABLE, "该 Idempotency-Key 已用于另一内容不同的请求")
	case errors.Is(err, idem.ErrNotStored):
		// The answer stands; the key is released, so a retry runs again
		// (the domain's own idempotency still holds).
		s.logger.ErrorContext(c.UserContext(), "idempotency finish", "err", err)
		return nil
	case err != nil:
		return err
	case !ans.Replayed:
		return nil // this request ran: its answer is already written
	}
	c.Locals(routeLabelKey, "idempotent replay") // one label: paths hold ids
	c.Set(httpkit.HeaderIdempotencyReplayed, "true")
	if ans.ContentType != "" {
		c.Set(fiber.HeaderContentType, ans.ContentType)
	}
	return c.Status(ans.Status).Send(ans.Body)
}

// idempotentPath reports whether the Idempotency-Key of a request to p is
// served here. Sign-in and account routes are not: their answers are
// credentials and their bodies passwords, neither of which may be kept, not
// even hashed. /mobile/v1 is not either: the cadre app's API requires a key
// on every action and answers replays itself (through the same idem.Store.Do),
// so one request is never recorded twice.
func idempotentPath(p string) bool {
	p = strings.ToLower(p)
	return !strings.HasPrefix(p, "/api/v1/auth/") && p != "/api/v1/users" && !strings.HasPrefix(p, "/api/v1/users/") &&
		!strings.HasPrefix(p, "/mobile/")
}

// storable reports whether an answer is what every retry should get: not a
// server error, nor one that depends on the moment (credentials, limits).
func storable(status int) bool {
	switch {
	case status >= 500:
		return false
	case status == fiber.StatusUnauthorized, status == fiber.StatusRequestTimeout, status == fiber.StatusTooManyRequests:
		return false
	}
	return true
}

// idempotencyKey is the key domain services store for a request carrying
// Idempotency-Key: bound to the caller and route, so a key reused by another
// caller or on another line never finds the first one's result. "" without
// the header.
func idempotencyKey(c *fiber.Ctx) string {
	id, _ := c.Locals(idemLocal).(string)
	return id
}

// routePath is the path a key is bound to; Fiber matches with or without a
// trailing slash, so both name one route.
func routePath(p string) string {
	if len(p) > 1 {
		return strings.TrimRight(p, "/")
	}
	return p
}

// requestHash is the SHA-256 of what the request asks for: its query string
// and its body, canonical so equivalent retries match — JSON re-encoded with
// sorted keys, multipart forms by their fields and file contents (a browser
// picks a new boundary on every send), anything else byte for byte.
func requestHash(c *fiber.Ctx) (string, error) {
	h := sha256.New()
	h.Write(c.Request().URI().QueryString())
	h.Write([]byte{0})
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	body := c.Body()
	switch {
	case strings.HasPrefix(ct, fiber.MIMEApplicationJSON) && canonicalJSON(h, body):
	case strings.HasPrefix(ct, fiber.MIMEMultipartForm):
		if err := hashForm(h, c); err != nil {
			return "", err
		}
	default:
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// canonicalJSON writes body re-encoded with sorted keys and no spacing;
// false when body is not one JSON value (it is then hashed as bytes).
func canonicalJSON(w io.Writer, body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		return false
	}
	out, err := json.Marshal(v)
	if err != nil {
		return false
	}
	_, _ = w.Write([]byte("json\x00"))
	_, _ = w.Write(out)
	return true
}

func hashForm(w io.Writer, c *fiber.Ctx) error {
	form, err := c.MultipartForm()
	if err != nil {
		return minsheng.Invalid("请求格式不正确", nil)
	}
	_, _ = w.Write([]byte("form\x00"))
	names := make([]string, 0, len(form.Value))
	for k := range form.Value {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range form.Value[k] {
			_, _ = io.WriteString(w, "v\x00"+k+"\x00"+v+"\x00")
		}
	}
	names = names[:0]
	for k := range form.File {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, fh := range form.File[k] {
			_, _ = io.WriteString(w, "f\x00"+k+"\x00"+fh.Filename+"\x00")
			f, err := fh.Open()
			if err != nil {
				return minsheng.Invalid("上传的文件无法读取", nil)
			}
			fs := sha256.New()
			_, err = io.Copy(fs, f)
			f.Close()
			if err != nil {
				return minsheng.Invalid("上传的文件无法读取", nil)
			}
			_, _ = w.Write(fs.Sum(nil))
		}
	}
	return nil
}
