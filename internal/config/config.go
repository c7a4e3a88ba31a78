// Package config reads minsheng's settings from the environment and
// command-line flags into one typed struct. Every setting is declared once in
// the table below with its default, type and validation; flags override the
// environment.
package config

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"minsheng/internal/sms"
)

// Config is every setting minsheng reads.
type Config struct {
	Addr          string        // MINSHENG_ADDR
	DataDir       string        // MINSHENG_DATA
	MongoURI      string        // MONGODB_URI; empty: embedded FerretDB
	MongoDB       string        // MONGODB_DB
	JWTSecret     string        // MINSHENG_JWT_SECRET; empty: generated in the data dir
	AdminPassword string        // MINSHENG_ADMIN_PASSWORD; empty: random, printed once
	AccessTTL     time.Duration // MINSHENG_ACCESS_TTL
	RefreshTTL    time.Duration // MINSHENG_REFRESH_TTL
	LogLevel      string        // MINSHENG_LOG_LEVEL
	S3Endpoint    string        // S3_ENDPOINT; set: photos in S3 instead of the data dir
	S3AccessKey   string        // S3_ACCESS_KEY
	S3SecretKey   string        // S3_SECRET_KEY
	S3Bucket      string        // S3_BUCKET
	S3Region      string        // S3_REGION
	S3UseSSL      bool          // S3_USE_SSL
	PublicURL     string        // MINSHENG_PUBLIC_URL
	RetentionDays int           // MINSHENG_RETENTION_DAYS
	CasePrefix    string        // MINSHENG_CASE_PREFIX
	// DeadlineSweep is how often the server looks for deadlines within
	// 24 hours or passed and notifies the assigned cadres.
	DeadlineSweep time.Duration // MINSHENG_DEADLINE_SWEEP
	// ProxyHeader names the header a trusted reverse proxy puts the
	// client's address in (X-Real-IP); rate limits per IP need it behind a
	// load balancer, where every request comes from the balancer.
	ProxyHeader    string   // MINSHENG_PROXY_HEADER
	TrustedProxies []string // MINSHENG_TRUSTED_PROXIES
	// MetricsToken is the bearer token /metrics asks for on Addr;
	// MetricsAddr a listen address of its own serving only /metrics,
	// without a token. Neither set: no /metrics anywhere.
	MetricsToken string // MINSHENG_METRICS_TOKEN
	MetricsAddr  string // MINSHENG_METRICS_ADDR
	// SMS chooses and configures the text message sender (MINSHENG_SMS
	// and MINSHENG_SMS_*; see docs/OPERATIONS.md "SMS setup").
	SMS sms.Config
	// MapTiles is the maps' tile URL template ({z}/{x}/{y}, optionally {s}
	// for MapSubdomains), e.g. 天地图 with its browser key; empty: the maps
	// draw the district's outline from the org data (offline). MapDatum is
	// the tiles' datum: wgs84 (天地图, CGCS2000) or gcj02 (commercial tiles).
	MapTiles       string // MINSHENG_MAP_TILES
	MapAttribution string // MINSHENG_MAP_ATTRIBUTION
	MapDatum       string // MINSHENG_MAP_DATUM
	MapSubdomains  string // MINSHENG_MAP_SUBDOMAINS
	// Demo is serve --demo: not a setting of the table, set by cmd only.
	Demo bool
}

// setting is one row of the table: env name, flag name, default, help, and
// how to store a parsed value into Config.
type setting struct {
	env, flag, def, help string
	secret               bool
	set                  func(c *Config, v string) error
}

func str(f func(c *Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *f(c) = v; return nil }
}

func dur(f func(c *Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("must be a positive duration such as 15m")
		}
		*f(c) = d
		return nil
	}
}

func boolean(f func(c *Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		*f(c) = b
		return nil
	}
}

func positive(f func(c *Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("must be a positive whole number")
		}
		*f(c) = n
		return nil
	}
}

// Settings is the table of every setting, in the order the README lists them.
var settings = []setting{
	{env: "MINSHENG_ADDR", flag: "addr", def: ":8080", help: "HTTP listen address", set: str(func(c *Config) *string { return &c.Addr })},
	{env: "MINSHENG_DATA", flag: "data", def: "./data", help: "data directory: embedded database, photos, generated JWT secret", set: str(func(c *Config) *string { return &c.DataDir })},
	{env: "MONGODB_URI", flag: "mongodb-uri", def: "", help: "MongoDB connection string; empty starts embedded FerretDB", secret: true, set: str(func(c *Config) *string { return &c.MongoURI })},
	{env: "MONGODB_DB", flag: "mongodb-db", def: "minsheng", help: "database name", set: str(func(c *Config) *string { return &c.MongoDB })},
	{env: "MINSHENG_JWT_SECRET", flag: "jwt-secret", def: "", help: "HMAC key for access tokens (32+ bytes); empty: generated once in the data dir", secret: true, set: func(c *Config, v string) error {
		if v != "" && len(v) < 32 {
			return fmt.Errorf("must be at least 32 bytes")
		}
		c.JWTSecret = v
		return nil
	}},
	{env: "MINSHENG_ADMIN_PASSWORD", flag: "admin-password", def: "", help: "password of the admin account created at first start; empty: random, printed once", secret: true, set: func(c *Config, v string) error {
		if v != "" && len(v) < 8 {
			return fmt.Errorf("must be at least 8 characters")
		}
		c.AdminPassword = v
		return nil
	}},
	{env: "MINSHENG_ACCESS_TTL", flag: "access-ttl", def: "15m", help: "access token lifetime", set: dur(func(c *Config) *time.Duration { return &c.AccessTTL })},
	{env: "MINSHENG_REFRESH_TTL", flag: "refresh-ttl", def: "720h", help: "refresh token lifetime", set: dur(func(c *Config) *time.Duration { return &c.RefreshTTL })},
	{env: "MINSHENG_LOG_LEVEL", flag: "log-level", def: "info", help: "debug, info, warn or error", set: func(c *Config, v string) error {
		switch v {
		case "debug", "info", "warn", "error":
			c.LogLevel = v
			return nil
		}
		return fmt.Errorf("must be debug, info, warn or error")
	}},
	{env: "S3_ENDPOINT", flag: "s3-endpoint", def: "", help: "S3/MinIO host:port; set: photos go to S3", set: str(func(c *Config) *string { return &c.S3Endpoint })},
	{env: "S3_ACCESS_KEY", flag: "s3-access-key", def: "", help: "S3 access key", secret: true, set: str(func(c *Config) *string { return &c.S3AccessKey })},
	{env: "S3_SECRET_KEY", flag: "s3-secret-key", def: "", help: "S3 secret key", secret: true, set: str(func(c *Config) *string { return &c.S3SecretKey })},
	{env: "S3_BUCKET", flag: "s3-bucket", def: "minsheng", help: "S3 bucket for photos", set: str(func(c *Config) *string { return &c.S3Bucket })},
	{env: "S3_REGION", flag: "s3-region", def: "us-east-1", help: "S3 region", set: str(func(c *Config) *string { return &c.S3Region })},
	{env: "S3_USE_SSL", flag: "s3-use-ssl", def: "false", help: "talk to S3 over HTTPS", set: boolean(func(c *Config) *bool { return &c.S3UseSSL })},
	{env: "MINSHENG_PUBLIC_URL", flag: "public-url", def: "", help: "external base URL, used in links", set: str(func(c *Config) *string { return &c.PublicURL })},
	{env: "MINSHENG_RETENTION_DAYS", flag: "retention-days", def: "1095", help: "days a closed case keeps residents' personal data", set: positive(func(c *Config) *int { return &c.RetentionDays })},
	{env: "MINSHENG_CASE_PREFIX", flag: "case-prefix", def: "XC", help: "prefix of case numbers (XC2026-000123)", set: func(c *Config, v string) error {
		if v == "" || len(v) > 8 || strings.ToUpper(v) != v {
			return fmt.Errorf("must be 1–8 upper-case letters")
		}
		c.CasePrefix = v
		return nil
	}},
	{env: "MINSHENG_DEADLINE_SWEEP", flag: "deadline-sweep", def: "5m", help: "how often deadline notices (24 小时内到期 / 已超期) are produced for assigned cadres", set: dur(func(c *Config) *time.Duration { return &c.DeadlineSweep })},
	{env: "MINSHENG_PROXY_HEADER", flag: "proxy-header", def: "", help: "header with the client address set by a trusted reverse proxy, e.g. X-Real-IP", set: str(func(c *Config) *string { return &c.ProxyHeader })},
	{env: "MINSHENG_TRUSTED_PROXIES", flag: "trusted-proxies", def: "", help: "comma-separated proxy IPs or CIDRs whose proxy header is believed", set: func(c *Config, v string) error {
		c.TrustedProxies = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
				return fmt.Errorf("%q is neither an IP nor a CIDR", p)
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
		return nil
	}},
	{env: "MINSHENG_METRICS_TOKEN", flag: "metrics-token", def: "", help: "bearer token for GET /metrics on the main address (16+ characters); empty: /metrics there answers 404", secret: true, set: func(c *Config, v string) error {
		if v != "" && len(v) < 16 {
			return fmt.Errorf("must be at least 16 characters")
		}
		c.MetricsToken = v
		return nil
	}},
	{env: "MINSHENG_METRICS_ADDR", flag: "metrics-addr", def: "", help: "separate listen address serving only /metrics, without a token (e.g. 127.0.0.1:9090); empty: none", set: func(c *Config, v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("must be host:port or :port")
			}
		}
		c.MetricsAddr = v
		return nil
	}},
	{env: "MINSHENG_SMS", flag: "sms", def: "log", help: "SMS sender: log (codes in the log; residents cannot sign in outside demo), http (a gateway) or aliyun (Alibaba Cloud SMS)", set: func(c *Config, v string) error {
		for _, m := range sms.Modes {
			if v == m {
				c.SMS.Mode = v
				return nil
			}
		}
		return fmt.Errorf("must be log, http or aliyun")
	}},
	{env: "MINSHENG_SMS_SIGN_NAME", flag: "sms-sign-name", def: "", help: "SMS signature (签名) registered with the provider; empty: 民生 in logged texts", set: smsStr(func(c *sms.Config) *string { return &c.SignName })},
	{env: "MINSHENG_SMS_TEMPLATE_OTP", flag: "sms-template-otp", def: "", help: "template code (模板CODE) of the otp message, see docs/OPERATIONS.md", set: smsTemplate(sms.KindOTP)},
	{env: "MINSHENG_SMS_TEMPLATE_ACCEPTED", flag: "sms-template-accepted", def: "", help: "template code (模板CODE) of the accepted message, see docs/OPERATIONS.md", set: smsTemplate(sms.KindAccepted)},
	{env: "MINSHENG_SMS_TEMPLATE_REJECTED", flag: "sms-template-rejected", def: "", help: "template code (模板CODE) of the rejected message, see docs/OPERATIONS.md", set: smsTemplate(sms.KindRejected)},
	{env: "MINSHENG_SMS_TEMPLATE_MERGED", flag: "sms-template-merged", def: "", help: "template code (模板CODE) of the merged message, see docs/OPERATIONS.md", set: smsTemplate(sms.KindMerged)},
	{env: "MINSHENG_SMS_TEMPLATE_COMPLETED", flag: "sms-template-completed", def: "", help: "template code (模板CODE) of the completed message, see docs/OPERATIONS.md", set: smsTemplate(sms.KindCompleted)},
	{env: "MINSHENG_SMS_HTTP_URL", flag: "sms-http-url", def: "", help: "http mode: the gateway's URL", set: smsStr(func(c *sms.Config) *string { return &c.HTTP.URL })},
	{env: "MINSHENG_SMS_HTTP_METHOD", flag: "sms-http-method", def: "POST", help: "http mode: request method", set: smsStr(func(c *sms.Config) *string { return &c.HTTP.Method })},
	{env: "MINSHENG_SMS_HTTP_FORMAT", flag: "sms-http-format", def: "json", help: "http mode: body format, json or form", set: smsStr(func(c *sms.Config) *string { return &c.HTTP.Format })},
	{env: "MINSHENG_SMS_HTTP_BODY", flag: "sms-http-body", def: "", help: "http mode: body template with {phone} {template} {params} {sign} {text} {id} {kind}; empty: a default body", set: smsStr(func(c *sms.Config) *string { return &c.HTTP.Body })},
	{env: "MINSHENG_SMS_HTTP_TOKEN", flag: "sms-http-token", def: "", help: "http mode: bearer token sent as Authorization", secret: true, set: smsStr(func(c *sms.Config) *string { return &c.HTTP.Token })},
	{env: "MINSHENG_SMS_HTTP_HMAC_KEY", flag: "sms-http-hmac-key", def: "", help: "http mode: key signing each request (X-Timestamp, HMAC-SHA256 of timestamp + newline + body)", secret: true, set: smsStr(func(c *sms.Config) *string { return &c.HTTP.HMACKey })},
	{env: "MINSHENG_SMS_HTTP_HMAC_HEADER", flag: "sms-http-hmac-header", def: "X-Signature", help: "http mode: header carrying the HMAC signature", set: smsStr(func(c *sms.Config) *string { return &c.HTTP.HMACHeader })},
	{env: "MINSHENG_SMS_HTTP_SUCCESS", flag: "sms-http-success", def: "", help: "http mode: field=value the JSON reply must carry besides a 2xx status, e.g. code=0; empty: any 2xx", set: smsStr(func(c *sms.Config) *string { return &c.HTTP.Success })},
	{env: "MINSHENG_SMS_ALIYUN_ACCESS_KEY_ID", flag: "sms-aliyun-access-key-id", def: "", help: "aliyun mode: AccessKey ID (a RAM user with AliyunDysmsFullAccess or SendSms only)", set: smsStr(func(c *sms.Config) *string { return &c.Aliyun.AccessKeyID })},
	{env: "MINSHENG_SMS_ALIYUN_ACCESS_KEY_SECRET", flag: "sms-aliyun-access-key-secret", def: "", help: "aliyun mode: AccessKey secret", secret: true, set: smsStr(func(c *sms.Config) *string { return &c.Aliyun.AccessKeySecret })},
	{env: "MINSHENG_SMS_ALIYUN_REGION", flag: "sms-aliyun-region", def: "cn-hangzhou", help: "aliyun mode: region", set: smsStr(func(c *sms.Config) *string { return &c.Aliyun.Region })},
	{env: "MINSHENG_SMS_ALIYUN_ENDPOINT", flag: "sms-aliyun-endpoint", def: sms.DefaultAliyunEndpoint, help: "aliyun mode: API endpoint (URL or host)", set: smsStr(func(c *sms.Config) *string { return &c.Aliyun.Endpoint })},
	{env: "MINSHENG_MAP_TILES", flag: "map-tiles", def: "", help: "map tile URL template with {z} {x} {y} (and {s}), e.g. 天地图 with its key; empty: maps draw the district's outlines only", set: func(c *Config, v string) error {
		if v != "" {
			if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
				return fmt.Errorf("must be an http(s) URL")
			}
			for _, p := range []string{"{z}", "{x}", "{y}"} {
				if !strings.Contains(v, p) {
					return fmt.Errorf("must contain {z}, {x} and {y}")
				}
			}
		}
		c.MapTiles = v
		return nil
	}},
	{env: "MINSHENG_MAP_ATTRIBUTION", flag: "map-attribution", def: "", help: "the tiles' attribution shown on every map (e.g. 天地图 GS(2024)0568号)", set: str(func(c *Config) *string { return &c.MapAttribution })},
	{env: "MINSHENG_MAP_DATUM", flag: "map-datum", def: "wgs84", help: "datum of the map tiles: wgs84 (天地图) or gcj02 (高德/腾讯); positions are shifted to it for display", set: func(c *Config, v string) error {
		if v != "wgs84" && v != "gcj02" {
			return fmt.Errorf("must be wgs84 or gcj02")
		}
		c.MapDatum = v
		return nil
	}},
	{env: "MINSHENG_MAP_SUBDOMAINS", flag: "map-subdomains", def: "", help: "values of {s} in MINSHENG_MAP_TILES, e.g. 01234567 for 天地图's t0…t7", set: str(func(c *Config) *string { return &c.MapSubdomains })},
}

// Load reads the environment through getenv and then the flags in args.
// Every invalid value is reported, not only the first.
func Load(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(usage)
	vals := make([]*string, len(settings))
	for i, s := range settings {
		v := s.def
		if e := getenv(s.env); e != "" {
			v = e
		}
		vals[i] = fs.String(s.flag, v, fmt.Sprintf("%s (env %s)", s.help, s.env))
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var problems []string
	for i, s := range settings {
		if err := s.set(&c, *vals[i]); err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q: %v", s.env, *vals[i], err))
		}
	}
	if c.ProxyHeader != "" && len(c.TrustedProxies) == 0 {
		problems = append(problems, "MINSHENG_PROXY_HEADER needs MINSHENG_TRUSTED_PROXIES, or any client could choose its own address")
	}
	if strings.Contains(c.MapTiles, "{s}") && c.MapSubdomains == "" {
		problems = append(problems, "MINSHENG_MAP_TILES with {s} needs MINSHENG_MAP_SUBDOMAINS")
	}
	if c.S3Endpoint != "" && (c.S3AccessKey == "" || c.S3SecretKey == "" || c.S3Bucket == "") {
		problems = append(problems, "S3_ENDPOINT needs S3_ACCESS_KEY, S3_SECRET_KEY and S3_BUCKET")
	}
	problems = append(problems, c.SMS.Problems()...)
	if len(problems) > 0 {
		return c, fmt.Errorf("config: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

// LogValue prints the config with secrets masked, so it can be logged at start.
func (c Config) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(settings))
	for _, s := range settings {
		v := c.get(s.env)
		if s.secret && v != "" {
			v = mask(v)
		}
		attrs = append(attrs, slog.String(s.env, v))
	}
	return slog.GroupValue(attrs...)
}

// mask keeps a URI's scheme and host readable but hides credentials; other
// secrets become asterisks.
func mask(v string) string {
	if i := strings.Index(v, "://"); i >= 0 {
		rest := v[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			return v[:i+3] + "****@" + rest[at+1:]
		}
		return v
	}
	return "****"
}

func (c Config) get(env string) string {
	switch env {
	case "MINSHENG_ADDR":
		return c.Addr
	case "MINSHENG_DATA":
		return c.DataDir
	case "MONGODB_URI":
		return c.MongoURI
	case "MONGODB_DB":
		return c.MongoDB
	case "MINSHENG_JWT_SECRET":
		return c.JWTSecret
	case "MINSHENG_ADMIN_PASSWORD":
		return c.AdminPassword
	case "MINSHENG_ACCESS_TTL":
		return c.AccessTTL.String()
	case "MINSHENG_REFRESH_TTL":
		return c.RefreshTTL.String()
	case "MINSHENG_LOG_LEVEL":
		return c.LogLevel
	case "S3_ENDPOINT":
		return c.S3Endpoint
	case "S3_ACCESS_KEY":
		return c.S3AccessKey
	case "S3_SECRET_KEY":
		return c.S3SecretKey
	case "S3_BUCKET":
		return c.S3Bucket
	case "S3_REGION":
		return c.S3Region
	case "S3_USE_SSL":
		return strconv.FormatBool(c.S3UseSSL)
	case "MINSHENG_PUBLIC_URL":
		return c.PublicURL
	case "MINSHENG_RETENTION_DAYS":
		return strconv.Itoa(c.RetentionDays)
	case "MINSHENG_CASE_PREFIX":
		return c.CasePrefix
	case "MINSHENG_DEADLINE_SWEEP":
		return c.DeadlineSweep.String()
	case "MINSHENG_PROXY_HEADER":
		return c.ProxyHeader
	case "MINSHENG_TRUSTED_PROXIES":
		return strings.Join(c.TrustedProxies, ",")
	case "MINSHENG_METRICS_TOKEN":
		return c.MetricsToken
	case "MINSHENG_METRICS_ADDR":
		return c.MetricsAddr
	case "MINSHENG_MAP_TILES":
		return c.MapTiles
	case "MINSHENG_MAP_ATTRIBUTION":
		return c.MapAttribution
	case "MINSHENG_MAP_DATUM":
		return c.MapDatum
	case "MINSHENG_MAP_SUBDOMAINS":
		return c.MapSubdomains
	}
	return c.smsGet(env)
}

// Help writes the settings table (env, default, meaning) for `minsheng help`.
func Help(w io.Writer) {
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(w, "  %-26s %-12s %s\n", s.env, def, s.help)
	}
}

func smsStr(f func(c *sms.Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *f(&c.SMS) = v; return nil }
}

func smsTemplate(k sms.Kind) func(*Config, string) error {
	return func(c *Config, v string) error {
		if c.SMS.Templates == nil {
			c.SMS.Templates = map[sms.Kind]string{}
		}
		c.SMS.Templates[k] = v
		return nil
	}
}

// smsGet is get for the MINSHENG_SMS_* settings.
func (c Config) smsGet(env string) string {
	for _, t := range sms.Templates {
		if env == t.Env {
			return c.SMS.Templates[t.Kind]
		}
	}
	h, a := c.SMS.HTTP, c.SMS.Aliyun
	return map[string]string{
		"MINSHENG_SMS": c.SMS.Mode, "MINSHENG_SMS_SIGN_NAME": c.SMS.SignName,
		"MINSHENG_SMS_HTTP_URL": h.URL, "MINSHENG_SMS_HTTP_METHOD": h.Method, "MINSHENG_SMS_HTTP_FORMAT": h.Format,
		"MINSHENG_SMS_HTTP_BODY": h.Body, "MINSHENG_SMS_HTTP_TOKEN": h.Token, "MINSHENG_SMS_HTTP_HMAC_KEY": h.HMACKey,
		"MINSHENG_SMS_HTTP_HMAC_HEADER": h.HMACHeader, "MINSHENG_SMS_HTTP_SUCCESS": h.Success,
		"MINSHENG_SMS_ALIYUN_ACCESS_KEY_ID": a.AccessKeyID, "MINSHENG_SMS_ALIYUN_ACCESS_KEY_SECRET": a.AccessKeySecret,
		"MINSHENG_SMS_ALIYUN_REGION": a.Region, "MINSHENG_SMS_ALIYUN_ENDPOINT": a.Endpoint,
	}[env]
}
