// Package sms is minsheng's one home for text messages: what each message
// the product sends is (a kind with named parameters, the template table),
// the senders that deliver them (log, an HTTP gateway, Alibaba Cloud SMS),
// chosen by configuration (MINSHENG_SMS), and the outbox that records each
// message in the store before it is sent and sends it from a background
// worker with retries.
//
// Errors: a sender's errors say whether trying again may help (Permanent);
// the outbox's are the store's, wrapped with the action that failed.
package sms

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind names one message the product sends; each maps to one registered
// template with named parameters (Templates).
type Kind string

// The messages the product sends.
const (
	KindOTP       Kind = "otp"            // sign-in code (登录验证码)
	KindAccepted  Kind = "case_accepted"  // 诉求已受理
	KindRejected  Kind = "case_rejected"  // 诉求不予受理
	KindMerged    Kind = "case_merged"    // 诉求已合并
	KindCompleted Kind = "case_completed" // 诉求已办结，请评价
)

// Template is the registered template one kind is sent with: the env
// variable holding its code (模板CODE), the parameters it takes in order
// and the Chinese content to register with the provider.
type Template struct {
	Kind   Kind
	Env    string   // MINSHENG_SMS_TEMPLATE_OTP
	Label  string   // 登录验证码
	Params []string // code, minutes
	// Content is the template text to register (Aliyun: ${name} per
	// parameter); the log and HTTP senders render it with the values.
	Content string
}

// Templates is every message the product sends. Adding a message means
// adding a row here, registering its template and setting its env var.
var Templates = []Template{
	{KindOTP, "MINSHENG_SMS_TEMPLATE_OTP", "登录验证码", []string{"code", "minutes"},
		"您的登录验证码是 ${code}，${minutes} 分钟内有效。如非本人操作请忽略。"},
	{KindAccepted, "MINSHENG_SMS_TEMPLATE_ACCEPTED", "诉求已受理", []string{"number", "link"},
		"您的诉求${number}已受理，我们将尽快办理。查看进度：${link}"},
	{KindRejected, "MINSHENG_SMS_TEMPLATE_REJECTED", "诉求不予受理", []string{"number", "reason", "link"},
		"您的诉求${number}不予受理，原因：${reason}。详情：${link}"},
	{KindMerged, "MINSHENG_SMS_TEMPLATE_MERGED", "诉求已合并", []string{"number", "into", "link"},
		"您的诉求${number}与相同诉求合并，并入${into}一并办理。详情：${link}"},
	{KindCompleted, "MINSHENG_SMS_TEMPLATE_COMPLETED", "诉求已办结待评价", []string{"number", "link"},
		"您的诉求${number}已办结，请对办理结果进行评价：${link}"},
}

// TemplateOf returns kind's row of Templates.
func TemplateOf(k Kind) (Template, bool) {
	for _, t := range Templates {
		if t.Kind == k {
			return t, true
		}
	}
	return Template{}, false
}

// maxParam is the longest free-text value (freeParams) a template
// parameter carries: Aliyun refuses variables over 35 characters, so a
// rejection reason is cut with an ellipsis. Links and numbers are never
// cut (a cut link opens nothing).
const maxParam = 35

var freeParams = map[string]bool{"reason": true}

// Message is one text message: its kind and parameters, which a
// templated provider sends, and Text, the same content rendered for
// senders without templates (log, a gateway taking free text).
type Message struct {
	// ID says what caused it (the OTP request, the case event), so it is
	// recorded and sent at most once.
	ID     string
	Kind   Kind
	Phone  string
	Params map[string]string
	// Expires, when set, is when sending it stops being useful (a
	// sign-in code's expiry): the outbox gives up then.
	Expires time.Time
}

// New builds the message of kind with params (named as the template
// says; missing ones are an error, long ones cut to 35 characters).
func New(id string, kind Kind, phone string, params map[string]string) (Message, error) {
	t, ok := TemplateOf(kind)
	if !ok {
		return Message{}, fmt.Errorf("sms: unknown message kind %q", kind)
	}
	p := make(map[string]string, len(t.Params))
	for _, name := range t.Params {
		v, ok := params[name]
		if !ok {
			return Message{}, fmt.Errorf("sms: %s needs parameter %q", kind, name)
		}
		if freeParams[name] && utf8.RuneCountInString(v) > maxParam {
			v = string([]rune(v)[:maxParam-1]) + "…"
		}
		p[name] = v
	}
	return Message{ID: id, Kind: kind, Phone: phone, Params: p}, nil
}

// SignName is the 签名 the log sender and default texts show.
const defaultSign = "民生"

// Text renders m with its template, prefixed with the sign 【sign】 as a
// Chinese SMS shows it.
func (m Message) Text(sign string) string {
	if sign == "" {
		sign = defaultSign
	}
	t, _ := TemplateOf(m.Kind)
	s := t.Content
	for _, name := range t.Params {
		s = strings.ReplaceAll(s, "${"+name+"}", m.Params[name])
	}
	return "【" + sign + "】" + s
}

// ParamsJSON is the parameters as a JSON object, in the template's order
// (Aliyun's TemplateParam).
func (m Message) ParamsJSON() string {
	t, _ := TemplateOf(m.Kind)
	var b strings.Builder
	b.WriteByte('{')
	for i, name := range t.Params {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		v, _ := json.Marshal(m.Params[name])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String()
}

// MaskPhone keeps a phone's first three and last four digits
// (139****5678), the form admins see.
func MaskPhone(p string) string {
	if len(p) < 8 {
		return strings.Repeat("*", len(p))
	}
	return p[:3] + strings.Repeat("*", len(p)-7) + p[len(p)-4:]
}
