package config

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DataDir != "./data" || c.MongoDB != "minsheng" || c.AccessTTL != 15*time.Minute {
		t.Errorf("got %+v", c)
	}
}

func TestFlagsOverrideEnv(t *testing.T) {
	c, err := Load([]string{"-addr", ":9090"}, env(map[string]string{"MINSHENG_ADDR": ":7070", "MINSHENG_DATA": "/srv/ms"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9090" || c.DataDir != "/srv/ms" {
		t.Errorf("addr=%q data=%q", c.Addr, c.DataDir)
	}
}

func TestInvalidValuesAllReported(t *testing.T) {
	_, err := Load(nil, env(map[string]string{
		"MINSHENG_ACCESS_TTL": "soon", "MINSHENG_JWT_SECRET": "short", "S3_ENDPOINT": "minio:9000", "S3_ACCESS_KEY": "",
	}), io.Discard)
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"MINSHENG_ACCESS_TTL", "MINSHENG_JWT_SECRET", "S3_ENDPOINT needs"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestSecretsMasked(t *testing.T) {
	c, err := Load(nil, env(map[string]string{
		"MINSHENG_JWT_SECRET": strings.Repeat("k", 40), "MONGODB_URI": "mongodb://user:pw@db:27017/?replicaSet=rs0",
		"MINSHENG_ADMIN_PASSWORD": "hunter2hunter2",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "config", c)
	out := b.String()
	for _, secret := range []string{"kkkk", "pw@", "hunter2"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line leaks %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "db:27017") {
		t.Errorf("masked URI lost its host: %s", out)
	}
	fmt.Fprint(io.Discard, out)
}

func TestTrustedProxies(t *testing.T) {
	c, err := Load(nil, env(map[string]string{"MINSHENG_PROXY_HEADER": "X-Real-IP", "MINSHENG_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[1] != "127.0.0.1" {
		t.Errorf("trusted = %v", c.TrustedProxies)
	}
	for name, e := range map[string]map[string]string{
		"header without proxies": {"MINSHENG_PROXY_HEADER": "X-Real-IP"},
		"bad proxy":              {"MINSHENG_PROXY_HEADER": "X-Real-IP", "MINSHENG_TRUSTED_PROXIES": "lb.local"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(nil, env(e), io.Discard); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestMetricsSettings(t *testing.T) {
	t.Run("neither set by default", func(t *testing.T) {
		c, err := Load(nil, env(nil), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.MetricsToken != "" || c.MetricsAddr != "" {
			t.Errorf("token %q, addr %q; want both empty (no /metrics)", c.MetricsToken, c.MetricsAddr)
		}
	})
	t.Run("valid", func(t *testing.T) {
		c, err := Load([]string{"-metrics-addr", "127.0.0.1:9090"}, env(map[string]string{"MINSHENG_METRICS_TOKEN": "prometheus-scrape-token"}), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.MetricsToken != "prometheus-scrape-token" || c.MetricsAddr != "127.0.0.1:9090" {
			t.Errorf("token %q, addr %q", c.MetricsToken, c.MetricsAddr)
		}
		var b strings.Builder
		slog.New(slog.NewTextHandler(&b, nil)).Info("config", "config", c)
		if strings.Contains(b.String(), "prometheus-scrape-token") {
			t.Errorf("log line leaks the metrics token: %s", b.String())
		}
	})
	t.Run("invalid", func(t *testing.T) {
		_, err := Load(nil, env(map[string]string{"MINSHENG_METRICS_TOKEN": "short", "MINSHENG_METRICS_ADDR": "9090"}), io.Discard)
		for _, want := range []string{"MINSHENG_METRICS_TOKEN", "MINSHENG_METRICS_ADDR"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v does not name %s", err, want)
			}
		}
	})
}

func TestMapSettings(t *testing.T) {
	c, err := Load(nil, env(map[string]string{}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MapTiles != "" || c.MapDatum != "wgs84" {
		t.Fatalf("defaults: got tiles %q datum %q, want none and wgs84", c.MapTiles, c.MapDatum)
	}
	tdt := "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY"
	c, err = Load(nil, env(map[string]string{"MINSHENG_MAP_TILES": tdt, "MINSHENG_MAP_SUBDOMAINS": "01234567", "MINSHENG_MAP_DATUM": "wgs84"}), io.Discard)
	if err != nil || c.MapTiles != tdt || c.MapSubdomains != "01234567" {
		t.Fatalf("tianditu: got %+v, %v", c, err)
	}
	for name, tc := range map[string]struct{ env map[string]string }{
		"not a URL":         {map[string]string{"MINSHENG_MAP_TILES": "tiles/{z}/{x}/{y}.png"}},
		"no {y}":            {map[string]string{"MINSHENG_MAP_TILES": "https://t/{z}/{x}.png"}},
		"unknown datum":     {map[string]string{"MINSHENG_MAP_DATUM": "bd09"}},
		"{s} no subdomains": {map[string]string{"MINSHENG_MAP_TILES": "https://t{s}.x/{z}/{x}/{y}.png"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(nil, env(tc.env), io.Discard); err == nil || !strings.Contains(err.Error(), "MINSHENG_MAP_") {
				t.Fatalf("got %v, want an error naming the setting", err)
			}
		})
	}
}
