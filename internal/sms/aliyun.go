package sms

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dysmsapi"
)

// AliyunConfig configures Alibaba Cloud SMS (短信服务, API SendSms).
type AliyunConfig struct {
	AccessKeyID     string // MINSHENG_SMS_ALIYUN_ACCESS_KEY_ID
	AccessKeySecret string // MINSHENG_SMS_ALIYUN_ACCESS_KEY_SECRET
	Region          string // MINSHENG_SMS_ALIYUN_REGION; default cn-hangzhou
	// Endpoint is where requests go (MINSHENG_SMS_ALIYUN_ENDPOINT), a URL
	// or a host; default https://dysmsapi.aliyuncs.com. Tests point it at
	// a local server.
	Endpoint string
}

// DefaultAliyunEndpoint is Alibaba Cloud SMS's public endpoint.
const DefaultAliyunEndpoint = "https://dysmsapi.aliyuncs.com"

type aliyunSender struct {
	client       *dysmsapi.Client
	scheme, host string
	sign         string
	templates    map[Kind]string
}

func newAliyun(c Config) (*aliyunSender, error) {
	a := c.Aliyun
	if a.Region == "" {
		a.Region = "cn-hangzhou"
	}
	if a.Endpoint == "" {
		a.Endpoint = DefaultAliyunEndpoint
	}
	scheme, host := "https", a.Endpoint
	if strings.Contains(a.Endpoint, "://") {
		u, err := url.Parse(a.Endpoint)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("sms aliyun: MINSHENG_SMS_ALIYUN_ENDPOINT %q is not a URL", a.Endpoint)
		}
		scheme, host = u.Scheme, u.Host
	}
	// The outbox retries with backoff: the SDK's own retries stay off, so
	// one try is one request.
	cfg := sdk.NewConfig().WithAutoRetry(false).WithTimeout(defaultTimeout).WithScheme(strings.ToUpper(scheme))
	client, err := dysmsapi.NewClientWithOptions(a.Region, cfg, credentials.NewAccessKeyCredential(a.AccessKeyID, a.AccessKeySecret))
	if err != nil {
		return nil, fmt.Errorf("sms aliyun: %w", err)
	}
	return &aliyunSender{client: client, scheme: scheme, host: host, sign: c.SignName, templates: c.Templates}, nil
}

// Name is "aliyun".
func (s *aliyunSender) Name() string { return "aliyun" }

// Send calls SendSms with the kind's template code and parameters; OutId
// is the message's id, so the provider's 发送记录 names each message.
// A reply other than Code OK is permanent unless the code is a system
// one (isp.*) or the call failed with 5xx or on the network.
func (s *aliyunSender) Send(ctx context.Context, m Message) error {
	req := dysmsapi.CreateSendSmsRequest()
	req.Scheme, req.Domain = s.scheme, s.host
	req.SetReadTimeout(defaultTimeout)
	req.SetConnectTimeout(defaultTimeout)
	req.PhoneNumbers = m.Phone
	req.SignName = s.sign
	req.TemplateCode = s.templates[m.Kind]
	req.TemplateParam = m.ParamsJSON()
	req.OutId = m.ID
	// The SDK takes no context: the call runs to its timeout, and a
	// cancelled ctx is answered at once while it finishes.
	type result struct {
		resp *dysmsapi.SendSmsResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := s.client.SendSms(req)
		done <- result{resp, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if r.err != nil {
		var se *sdkerrors.ServerError
		if errors.As(r.err, &se) {
			if se.HttpStatus() >= 500 || se.HttpStatus() == 429 || strings.HasPrefix(se.ErrorCode(), "isp.") || se.ErrorCode() == "Throttling" {
				return fmt.Errorf("sms aliyun: %d %s: %s", se.HttpStatus(), se.ErrorCode(), se.Message())
			}
			return Permanent(fmt.Errorf("sms aliyun: %d %s: %s", se.HttpStatus(), se.ErrorCode(), se.Message()))
		}
		return fmt.Errorf("sms aliyun: %w", r.err)
	}
	if r.resp.Code != "OK" {
		err := fmt.Errorf("sms aliyun: %s: %s", r.resp.Code, r.resp.Message)
		if strings.HasPrefix(r.resp.Code, "isp.") {
			return err
		}
		return Permanent(err)
	}
	return nil
}
