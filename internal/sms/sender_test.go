package sms

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"minsheng/internal/store/storetest"
)

// captured is one request a test's provider received.
type captured struct {
	Method, Path string
	Header       http.Header
	Body         string
	Form         url.Values
}

// provider is a real HTTP server standing in for the SMS provider's
// network; reply decides each answer.
type provider struct {
	*httptest.Server
	mu    sync.Mutex
	got   []captured
	reply func(n int, r captured, w http.ResponseWriter)
}

func newProvider(t *testing.T, reply func(n int, r captured, w http.ResponseWriter)) *provider {
	p := &provider{reply: reply}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c := captured{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: string(b)}
		c.Form, _ = url.ParseQuery(string(b))
		for k, v := range r.URL.Query() {
			c.Form[k] = v
		}
		p.mu.Lock()
		p.got = append(p.got, c)
		n := len(p.got)
		p.mu.Unlock()
		p.reply(n, c, w)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *provider) requests() []captured {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]captured(nil), p.got...)
}

func otpMessage(t *testing.T, id, phone, code string) Message {
	t.Helper()
	m, err := New(id, KindOTP, phone, map[string]string{"code": code, "minutes": "5"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var codes = map[Kind]string{KindOTP: "SMS_100", KindAccepted: "SMS_101", KindRejected: "SMS_102", KindMerged: "SMS_103", KindCompleted: "SMS_104"}

func TestHTTPSenderJSONWithHMAC(t *testing.T) {
	p := newProvider(t, func(n int, r captured, w http.ResponseWriter) {
		_, _ = io.WriteString(w, `{"code":0,"msg":"ok"}`)
	})
	s, err := NewSender(Config{Mode: "http", SignName: "西城政务", Templates: codes,
		HTTP: HTTPConfig{URL: p.URL + "/sms/send", HMACKey: "k3y", Success: "code=0"}}, storetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	m := otpMessage(t, "otp:1", "13912345678", "042731")
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := p.requests()
	if len(got) != 1 || got[0].Method != "POST" || got[0].Path != "/sms/send" {
		t.Fatalf("requests = %+v", got)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(got[0].Body), &body); err != nil {
		t.Fatalf("body %q: %v", got[0].Body, err)
	}
	params, _ := body["template_param"].(map[string]any)
	if body["phone"] != "13912345678" || body["template_code"] != "SMS_100" || body["sign_name"] != "西城政务" ||
		params["code"] != "042731" || params["minutes"] != "5" || body["id"] != "otp:1" ||
		body["text"] != "【西城政务】您的登录验证码是 042731，5 分钟内有效。如非本人操作请忽略。" {
		t.Errorf("body = %v", body)
	}
	ts := got[0].Header.Get("X-Timestamp")
	if want := Sign("k3y", ts, []byte(got[0].Body)); ts == "" || got[0].Header.Get("X-Signature") != want {
		t.Errorf("signature %q (ts %q), want %q", got[0].Header.Get("X-Signature"), ts, want)
	}
	// The signature is HMAC-SHA256 of timestamp, newline, body: recomputed here.
	mac := hmacSHA256("k3y", ts+"\n"+got[0].Body)
	if got[0].Header.Get("X-Signature") != mac {
		t.Errorf("signature is not HMAC-SHA256(timestamp\\nbody)")
	}
}

func TestHTTPSenderFormBearerAndOutcomes(t *testing.T) {
	status, reply := 200, `{"result":{"status":"OK"}}`
	var mu sync.Mutex
	p := newProvider(t, func(n int, r captured, w http.ResponseWriter) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply)
	})
	s, err := NewSender(Config{Mode: "http", SignName: "民生", Templates: codes, HTTP: HTTPConfig{URL: p.URL, Format: "form",
		Body: "mobile={phone}&tpl={template}&vars={params}&sign={sign}", Token: "tok-1", Success: "result.status=OK"}}, storetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	m, _ := New("c1:reject:3", KindRejected, "13800000001", map[string]string{"number": "XC2026-000001", "reason": "不属于本街道管辖范围", "link": "https://x/mine/c1"})
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := p.requests()[0]
	if r.Header.Get("Authorization") != "Bearer tok-1" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("headers = %v", r.Header)
	}
	if r.Form.Get("mobile") != "13800000001" || r.Form.Get("tpl") != "SMS_102" || r.Form.Get("sign") != "民生" ||
		r.Form.Get("vars") != `{"number":"XC2026-000001","reason":"不属于本街道管辖范围","link":"https://x/mine/c1"}` {
		t.Errorf("form = %v", r.Form)
	}
	for _, tc := range []struct {
		status    int
		reply     string
		ok, final bool
	}{
		{200, `{"result":{"status":"FAIL"}}`, false, false},
		{503, `busy`, false, false},
		{429, `slow down`, false, false},
		{400, `bad phone`, false, true},
		{401, `bad token`, false, true},
	} {
		mu.Lock()
		status, reply = tc.status, tc.reply
		mu.Unlock()
		err := s.Send(context.Background(), m)
		if (err == nil) != tc.ok || IsPermanent(err) != tc.final {
			t.Errorf("%d %s: err = %v, permanent %v", tc.status, tc.reply, err, IsPermanent(err))
		}
	}
}

func TestHTTPSenderTimeout(t *testing.T) {
	p := newProvider(t, func(n int, r captured, w http.ResponseWriter) { time.Sleep(300 * time.Millisecond) })
	s, _ := NewSender(Config{Mode: "http", HTTP: HTTPConfig{URL: p.URL, Timeout: 50 * time.Millisecond}}, storetest.Logger())
	err := s.Send(context.Background(), otpMessage(t, "otp:2", "13912345678", "111111"))
	if err == nil || IsPermanent(err) {
		t.Fatalf("timeout: err = %v, want a retryable error", err)
	}
}

// TestAliyunSenderThroughTheSDK sends through the real SDK to a local
// server and checks the request it really makes, down to its signature.
func TestAliyunSenderThroughTheSDK(t *testing.T) {
	reply := `{"Code":"OK","Message":"OK","BizId":"900619746936498440^0","RequestId":"F655A8D5-B967-440B-8683-DAD6FF8DE990"}`
	status := 200
	var mu sync.Mutex
	p := newProvider(t, func(n int, r captured, w http.ResponseWriter) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply)
	})
	s, err := NewSender(Config{Mode: "aliyun", SignName: "西城民生", Templates: codes,
		Aliyun: AliyunConfig{AccessKeyID: "LTAI-test-id", AccessKeySecret: "test-secret", Endpoint: p.URL}}, storetest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	m, _ := New("c9:merge:4", KindMerged, "13912345678", map[string]string{"number": "XC2026-000009", "into": "XC2026-000002", "link": "https://ms.example/mine/c9"})
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := p.requests()[0]
	f := r.Form
	want := map[string]string{"Action": "SendSms", "Version": "2017-05-25", "PhoneNumbers": "13912345678", "SignName": "西城民生",
		"TemplateCode": "SMS_103", "OutId": "c9:merge:4", "AccessKeyId": "LTAI-test-id", "SignatureMethod": "HMAC-SHA1", "Format": "JSON",
		"TemplateParam": `{"number":"XC2026-000009","into":"XC2026-000002","link":"https://ms.example/mine/c9"}`}
	for k, v := range want {
		if f.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, f.Get(k), v)
		}
	}
	for _, k := range []string{"Signature", "SignatureNonce", "Timestamp", "SignatureVersion"} {
		if f.Get(k) == "" {
			t.Errorf("%s missing from %v", k, f)
		}
	}
	var params map[string]string
	if err := json.Unmarshal([]byte(f.Get("TemplateParam")), &params); err != nil || params["into"] != "XC2026-000002" {
		t.Errorf("TemplateParam %q: %v", f.Get("TemplateParam"), err)
	}
	// Aliyun's RPC signature: HMAC-SHA1 with secret+"&" over
	// METHOD&%2F&encode(sorted, encoded query without Signature).
	if sig := rpcSignature(r.Method, f, "test-secret"); sig != f.Get("Signature") {
		t.Errorf("Signature = %q, recomputed %q", f.Get("Signature"), sig)
	}

	for _, tc := range []struct {
		status    int
		reply     string
		permanent bool
	}{
		{200, `{"Code":"isv.MOBILE_NUMBER_ILLEGAL","Message":"非法手机号","RequestId":"x"}`, true},
		{200, `{"Code":"isp.SYSTEM_ERROR","Message":"系统错误","RequestId":"x"}`, false},
		{503, `{"Code":"ServiceUnavailable","Message":"busy","RequestId":"x"}`, false},
		{400, `{"Code":"InvalidAccessKeyId.NotFound","Message":"no","RequestId":"x"}`, true},
	} {
		mu.Lock()
		status, reply = tc.status, tc.reply
		mu.Unlock()
		err := s.Send(context.Background(), m)
		if err == nil || IsPermanent(err) != tc.permanent {
			t.Errorf("%d %s: err = %v, permanent %v", tc.status, tc.reply, err, IsPermanent(err))
		}
	}
}

func rpcSignature(method string, f url.Values, secret string) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	enc := func(s string) string {
		return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(s))
	}
	var q []string
	for _, k := range keys {
		q = append(q, enc(k)+"="+enc(f.Get(k)))
	}
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(method + "&" + enc("/") + "&" + enc(strings.Join(q, "&"))))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestConfigProblems(t *testing.T) {
	if p := (Config{Mode: "aliyun", Templates: map[Kind]string{KindOTP: "SMS_1"}}).Problems(); len(p) != 6 {
		t.Errorf("aliyun without keys, sign and 4 templates: %d problems %v", len(p), p)
	}
	if p := (Config{Mode: "http", HTTP: HTTPConfig{Success: "code"}}).Problems(); len(p) != 2 {
		t.Errorf("http without URL and a bad success: %v", p)
	}
	if p := (Config{Mode: "smtp"}).Problems(); len(p) != 1 {
		t.Errorf("unknown mode: %v", p)
	}
}

func TestMessages(t *testing.T) {
	long := strings.Repeat("理", 50)
	m, err := New("x", KindRejected, "13912345678", map[string]string{"number": "XC2026-000001", "reason": long, "link": "l"})
	if err != nil || len([]rune(m.Params["reason"])) != 35 || !strings.HasSuffix(m.Params["reason"], "…") {
		t.Errorf("reason %q: %v", m.Params["reason"], err)
	}
	if _, err := New("x", KindMerged, "1", map[string]string{"number": "n"}); err == nil {
		t.Error("missing parameters accepted")
	}
	if MaskPhone("13912345678") != "139****5678" {
		t.Error(MaskPhone("13912345678"))
	}
}

func hmacSHA256(key, s string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}
