package handlers

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"minsheng"
)

// NewRegistry returns a registry with the Go runtime's and the process's
// collectors, to which New adds the HTTP metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// MetricsHandler serves reg at /metrics and nothing else, without
// authentication: for a listen address of its own that only the
// monitoring network reaches (MINSHENG_METRICS_ADDR), as Prometheus
// deployments usually scrape.
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

// metricsToken lets through only requests bearing token
// (MINSHENG_METRICS_TOKEN), compared in constant time; others get 401.
func metricsToken(token string) fiber.Handler {
	want := []byte(token)
	return func(c *fiber.Ctx) error {
		got, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
			return minsheng.Errorf(minsheng.EUNAUTHORIZED, "指标需要令牌（MINSHENG_METRICS_TOKEN）")
		}
		return c.Next()
	}
}
