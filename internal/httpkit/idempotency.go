package httpkit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"minsheng"
	"minsheng/internal/idem"
)

// HeaderIdempotencyKey is the request header that makes a retry safe.
const HeaderIdempotencyKey = "Idempotency-Key"

// HeaderIdempotencyReplayed marks an answer replayed from the first request.
const HeaderIdempotencyReplayed = "Idempotency-Replayed"

var idemKeyRe = regexp.MustCompile(`^[A-Za-z0-9_\-:.]{8,128}$`)

// ValidIdempotencyKey reports whether key has the one accepted form: 8 to
// 128 letters, digits or _ - : . (a UUID fits).
func ValidIdempotencyKey(key string) bool { return idemKeyRe.MatchString(key) }

// idemKeyHint is the field message of a missing or malformed key.
const idemKeyHint = "须为8到128位字母、数字或 _ - : ."

// IdempotencyKey reads the Idempotency-Key header of a route where it is
// optional: "" without one, 400 when it is malformed.
func IdempotencyKey(c *fiber.Ctx) (string, error) {
	key := c.Get(HeaderIdempotencyKey)
	if key != "" && !ValidIdempotencyKey(key) {
		return "", minsheng.Invalid("Idempotency-Key 无效", map[string]string{HeaderIdempotencyKey: idemKeyHint})
	}
	return key, nil
}

// RequireIdempotencyKey reads the Idempotency-Key header of a route that
// needs one (the cadre app's outbox steps): 400 without a valid one.
func RequireIdempotencyKey(c *fiber.Ctx) (string, error) {
	key := c.Get(HeaderIdempotencyKey)
	if !ValidIdempotencyKey(key) {
		return "", minsheng.Invalid("请提供 Idempotency-Key", map[string]string{HeaderIdempotencyKey: "必填，" + strings.TrimPrefix(idemKeyHint, "须为")})
	}
	return key, nil
}

// IdempotencyRoute is the route a key is bound to: the method and the path
// with its ids ("POST /api/v1/budget/lines/BL-1/adjustments"). Fiber
// matches with or without a trailing slash, so both name one route.
func IdempotencyRoute(c *fiber.Ctx) string {
	return c.Method() + " " + routePath(c.Path())
}

func routePath(p string) string {
	if len(p) > 1 {
		return strings.TrimRight(p, "/")
	}
	return p
}

// Once runs fn at most once for r under st (idem.Store.DoRequest): the
// first copy claims the key and runs; a copy arriving meanwhile waits for
// its answer, a later one gets it at once (Answer.Replayed); the same key
// with another request is 422. r.Hash, when empty, is RequestHash(c):
// every route binds its key to one hash.
func Once(c *fiber.Ctx, st *idem.Store, r idem.Request, fn func() (idem.Answer, error)) (idem.Answer, error) {
	if r.Hash == "" {
		h, err := RequestHash(c)
		if err != nil {
			return idem.Answer{}, err
		}
		r.Hash = h
	}
	return st.DoRequest(c.UserContext(), r, fn)
}

// SendAnswer writes an answer Once returned: a replay is marked
// Idempotency-Replayed: true; a body without a content type is JSON (the
// cadre app's answers were stored without one).
func SendAnswer(c *fiber.Ctx, ans idem.Answer) error {
	if ans.Replayed {
		c.Set(HeaderIdempotencyReplayed, "true")
	}
	switch {
	case ans.ContentType != "":
		c.Set(fiber.HeaderContentType, ans.ContentType)
	case len(ans.Body) > 0:
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	}
	return c.Status(ans.Status).Send(ans.Body)
}

// JSONAnswer encodes v as an answer for Once.
func JSONAnswer(status int, v any) (idem.Answer, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return idem.Answer{}, err
	}
	return idem.Answer{Status: status, ContentType: fiber.MIMEApplicationJSONCharsetUTF8, Body: b}, nil
}

// RequestHash is the one hash a key is bound to: SHA-256 of what the
// request asks for — its path, query string and body, canonical so that
// equivalent retries match: JSON re-encoded with sorted keys, multipart
// forms by their fields and file contents (a browser picks a new boundary
// on every send), anything else byte for byte.
func RequestHash(c *fiber.Ctx) (string, error) {
	return requestHash(c, true)
}

// FormerWebHash is the hash /api/v1 bound its keys to before RequestHash
// covered the path too (its route, part of the record's id, always held
// the path, so nothing is lost). It recognises records stored before that
// change (idem.Request.Formerly); remove it once they have expired
// (idem.DefaultTTL, 24 hours after this change is deployed).
func FormerWebHash(c *fiber.Ctx) (string, error) {
	return requestHash(c, false)
}

func requestHash(c *fiber.Ctx, withPath bool) (string, error) {
	h := sha256.New()
	if withPath {
		_, _ = io.WriteString(h, "path\x00"+routePath(c.Path())+"\x00")
	}
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
