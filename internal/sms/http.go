package sms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTPConfig configures the generic gateway sender (a district's 政务短信平台
// or any HTTP SMS gateway).
type HTTPConfig struct {
	URL    string // MINSHENG_SMS_HTTP_URL
	Method string // MINSHENG_SMS_HTTP_METHOD; default POST
	Format string // MINSHENG_SMS_HTTP_FORMAT: json (default) or form
	// Body is the body template (MINSHENG_SMS_HTTP_BODY); placeholders
	// {phone} {template} {params} {sign} {text} {id} {kind}. {params} is
	// the parameters as a JSON object; in json format the others are
	// escaped for a JSON string, in form format everything is URL-escaped.
	Body string
	// Token, when set, is sent as Authorization: Bearer (MINSHENG_SMS_HTTP_TOKEN).
	Token string
	// HMACKey, when set, signs each request (MINSHENG_SMS_HTTP_HMAC_KEY):
	// header X-Timestamp is the Unix time in seconds and HMACHeader
	// (default X-Signature) is hex(HMAC-SHA256(key, timestamp + "\n" + body)).
	HMACKey    string
	HMACHeader string
	// Success is what counts as sent beyond a 2xx status: "field=value"
	// on the JSON reply, a dotted path for nested fields (code=0,
	// result.status=OK). Empty: any 2xx.
	Success string
	Timeout time.Duration
}

// DefaultHTTPBody are the bodies used when MINSHENG_SMS_HTTP_BODY is empty.
var DefaultHTTPBody = map[string]string{
	"json": `{"id":"{id}","phone":"{phone}","sign_name":"{sign}","template_code":"{template}","template_param":{params},"text":"{text}"}`,
	"form": `id={id}&phone={phone}&sign_name={sign}&template_code={template}&template_param={params}&text={text}`,
}

type httpSender struct {
	c         HTTPConfig
	sign      string
	templates map[Kind]string
	client    *http.Client
	path      []string
	want      string
}

func newHTTP(c Config) *httpSender {
	h := c.HTTP
	if h.Method == "" {
		h.Method = http.MethodPost
	}
	if h.Format == "" {
		h.Format = "json"
	}
	if h.Body == "" {
		h.Body = DefaultHTTPBody[h.Format]
	}
	if h.HMACHeader == "" {
		h.HMACHeader = "X-Signature"
	}
	if h.Timeout <= 0 {
		h.Timeout = defaultTimeout
	}
	s := &httpSender{c: h, sign: c.SignName, templates: c.Templates, client: &http.Client{Timeout: h.Timeout}}
	if h.Success != "" {
		s.path, s.want, _ = parseSuccess(h.Success)
	}
	return s
}

func parseSuccess(v string) ([]string, string, error) {
	field, want, ok := strings.Cut(v, "=")
	if !ok || field == "" {
		return nil, "", fmt.Errorf("must be field=value, e.g. code=0")
	}
	return strings.Split(field, "."), want, nil
}

// Name is "http".
func (s *httpSender) Name() string { return "http" }

// body fills the template for m.
func (s *httpSender) body(m Message) string {
	esc := func(v string) string {
		if s.c.Format == "form" {
			return url.QueryEscape(v)
		}
		b, _ := json.Marshal(v)
		return string(b[1 : len(b)-1])
	}
	params := m.ParamsJSON()
	if s.c.Format == "form" {
		params = url.QueryEscape(params)
	}
	return strings.NewReplacer(
		"{phone}", esc(m.Phone), "{template}", esc(s.templates[m.Kind]), "{params}", params,
		"{sign}", esc(s.sign), "{text}", esc(m.Text(s.sign)), "{id}", esc(m.ID), "{kind}", esc(string(m.Kind)),
	).Replace(s.c.Body)
}

// Send posts the message; 408, 429 and 5xx, timeouts and network errors
// are retryable, other statuses permanent; a 2xx whose reply lacks the
// success field's value is retryable (the gateway's own refusal codes
// vary: the outbox gives up after its tries).
func (s *httpSender) Send(ctx context.Context, m Message) error {
	body := s.body(m)
	req, err := http.NewRequestWithContext(ctx, s.c.Method, s.c.URL, strings.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("sms http: %w", err))
	}
	if s.c.Format == "form" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if s.c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.c.Token)
	}
	if s.c.HMACKey != "" {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("X-Timestamp", ts)
		req.Header.Set(s.c.HMACHeader, Sign(s.c.HMACKey, ts, []byte(body)))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("sms http: %w", err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusRequestTimeout:
		return fmt.Errorf("sms http: gateway answered %d: %s", resp.StatusCode, snippet(reply))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return Permanent(fmt.Errorf("sms http: gateway answered %d: %s", resp.StatusCode, snippet(reply)))
	}
	if s.path == nil {
		return nil
	}
	var doc any
	if err := json.Unmarshal(reply, &doc); err != nil {
		return fmt.Errorf("sms http: reply is not JSON: %s", snippet(reply))
	}
	for _, k := range s.path {
		obj, _ := doc.(map[string]any)
		doc = obj[k]
	}
	if got := jsonScalar(doc); got != s.want {
		return fmt.Errorf("sms http: %s is %q, not %q: %s", strings.Join(s.path, "."), got, s.want, snippet(reply))
	}
	return nil
}

// Sign is the HMAC header's value: hex(HMAC-SHA256(key, ts + "\n" + body)),
// which a gateway recomputes to check the request.
func Sign(key, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(ts + "\n"))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func jsonScalar(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
