package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Sender delivers one message to the provider. An error wrapped with
// Permanent says trying again will not help (a refused number, a bad
// template); any other (5xx, timeout, network) is worth a retry.
type Sender interface {
	Send(ctx context.Context, m Message) error
	// Name is the mode: log, http or aliyun.
	Name() string
}

// PermanentError is a failure retrying will not mend.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth a retry.
func Permanent(err error) error { return &PermanentError{Err: err} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Config chooses and configures the sender (MINSHENG_SMS and the
// MINSHENG_SMS_* settings, read by internal/config).
type Config struct {
	Mode     string // log (default), http, aliyun
	SignName string // 签名, e.g. 民生 or 西城区政务服务
	// Templates maps each kind to its registered template code
	// (MINSHENG_SMS_TEMPLATE_*); the aliyun mode needs every one.
	Templates map[Kind]string
	HTTP      HTTPConfig
	Aliyun    AliyunConfig
}

// Modes are the values MINSHENG_SMS takes.
var Modes = []string{"log", "http", "aliyun"}

// Real reports whether the mode reaches phones (anything but log).
func (c Config) Real() bool { return c.Mode != "" && c.Mode != "log" }

// Problems lists what the mode needs and lacks, for the config check.
func (c Config) Problems() []string {
	var out []string
	switch c.Mode {
	case "", "log":
	case "http":
		if c.HTTP.URL == "" {
			out = append(out, "MINSHENG_SMS=http needs MINSHENG_SMS_HTTP_URL")
		}
		if c.HTTP.Format != "" && c.HTTP.Format != "json" && c.HTTP.Format != "form" {
			out = append(out, "MINSHENG_SMS_HTTP_FORMAT must be json or form")
		}
		if c.HTTP.Success != "" {
			if _, _, err := parseSuccess(c.HTTP.Success); err != nil {
				out = append(out, "MINSHENG_SMS_HTTP_SUCCESS: "+err.Error())
			}
		}
	case "aliyun":
		if c.Aliyun.AccessKeyID == "" || c.Aliyun.AccessKeySecret == "" {
			out = append(out, "MINSHENG_SMS=aliyun needs MINSHENG_SMS_ALIYUN_ACCESS_KEY_ID and MINSHENG_SMS_ALIYUN_ACCESS_KEY_SECRET")
		}
		if c.SignName == "" {
			out = append(out, "MINSHENG_SMS=aliyun needs MINSHENG_SMS_SIGN_NAME (签名)")
		}
		for _, t := range Templates {
			if c.Templates[t.Kind] == "" {
				out = append(out, fmt.Sprintf("MINSHENG_SMS=aliyun needs %s (模板CODE of %s)", t.Env, t.Label))
			}
		}
	default:
		out = append(out, fmt.Sprintf("MINSHENG_SMS=%q must be log, http or aliyun", c.Mode))
	}
	return out
}

// NewSender builds the configured sender; log takes the log sender's lines.
func NewSender(c Config, log *slog.Logger) (Sender, error) {
	if p := c.Problems(); len(p) > 0 {
		return nil, fmt.Errorf("sms: %v", p)
	}
	switch c.Mode {
	case "http":
		return newHTTP(c), nil
	case "aliyun":
		return newAliyun(c)
	}
	return LogSender{Logger: log, Sign: c.SignName}, nil
}

// LogSender writes each message to the log instead of sending it: demo
// and development, where the sign-in code is read from the log.
type LogSender struct {
	Logger *slog.Logger
	Sign   string
}

// Send logs the message's text.
func (s LogSender) Send(ctx context.Context, m Message) error {
	s.Logger.InfoContext(ctx, "sms (log sender)", "phone", m.Phone, "kind", string(m.Kind), "text", m.Text(s.Sign))
	return nil
}

// Name is "log".
func (LogSender) Name() string { return "log" }

// defaultTimeout bounds one call to a provider.
const defaultTimeout = 10 * time.Second

// NoSenderWarning is what the start log and the admin console say when
// no sender reaches phones outside demo mode.
const NoSenderWarning = "未配置短信服务（MINSHENG_SMS=log）：验证码只写入日志，居民无法通过短信登录，诉求短信也不会送达。请按运维文档“SMS setup”配置 http 或 aliyun。"
