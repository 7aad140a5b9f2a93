package httpserver

import (
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// httpMetrics are the request metrics, registered on the server's own
// registry rather than the global one so tests can build many servers.
type httpMetrics struct {
	duration *prometheus.HistogramVec
	dances   *prometheus.CounterVec // finished dances by provider, intent and outcome
	logins   *prometheus.CounterVec // log-ins by method, provider and outcome
	proxy    *prometheus.CounterVec // proxied calls by provider, source and status class
}

func newHTTPMetrics(reg *prometheus.Registry, db *pgxpool.Pool) *httpMetrics {
	m := &httpMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dancecard_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by method, route pattern and status; its _count is the request count.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		dances: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dancecard_dances_total",
			Help: "Finished dances (callbacks) by provider, intent (login, connect, reauth) and outcome (ok, or the error code the page showed).",
		}, []string{"provider", "intent", "outcome"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dancecard_logins_total",
			Help: "Log-ins by method (password, provider), provider (empty for passwords) and outcome (ok, or why not).",
		}, []string{"method", "provider", "outcome"}),
	}
	m.proxy = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dancecard_proxy_calls_total",
		Help: "Calls through the provider proxy by provider, who answered (provider: the provider's status passed through; dancecard: refused or failed before or instead of it) and status class (2xx, 4xx, ...).",
	}, []string{"provider", "source", "status"})
	reg.MustRegister(m.duration, m.dances, m.logins, m.proxy,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		reg.MustRegister(newPoolCollector(db))
	}
	return m
}

func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	m.duration.WithLabelValues(method, route, strconv.Itoa(status)).Observe(d.Seconds())
}

// poolCollector reads pgxpool's statistics at scrape time.
type poolCollector struct {
	db                                      *pgxpool.Pool
	total, idle, inUse, max, acquires, wait *prometheus.Desc
	waitSeconds                             *prometheus.Desc
}

func newPoolCollector(db *pgxpool.Pool) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("dancecard_db_pool_"+name, help, nil, nil)
	}
	return &poolCollector{
		db:          db,
		total:       d("connections", "Open connections in the pool."),
		idle:        d("idle_connections", "Idle connections in the pool."),
		inUse:       d("acquired_connections", "Connections currently in use."),
		max:         d("max_connections", "Maximum pool size."),
		acquires:    d("acquires_total", "Connections acquired from the pool."),
		wait:        d("empty_acquires_total", "Acquires that had to wait for a connection."),
		waitSeconds: d("acquire_wait_seconds_total", "Time spent waiting for a connection."),
	}
}

func (p *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{p.total, p.idle, p.inUse, p.max, p.acquires, p.wait, p.waitSeconds} {
		ch <- d
	}
}

func (p *poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := p.db.Stat()
	ch <- prometheus.MustNewConstMetric(p.total, prometheus.GaugeValue, float64(st.TotalConns()))
	ch <- prometheus.MustNewConstMetric(p.idle, prometheus.GaugeValue, float64(st.IdleConns()))
	ch <- prometheus.MustNewConstMetric(p.inUse, prometheus.GaugeValue, float64(st.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(p.max, prometheus.GaugeValue, float64(st.MaxConns()))
	ch <- prometheus.MustNewConstMetric(p.acquires, prometheus.CounterValue, float64(st.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(p.wait, prometheus.CounterValue, float64(st.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(p.waitSeconds, prometheus.CounterValue, st.AcquireDuration().Seconds())
}

// dance counts a finished dance, and a log-in when it was one.
func (m *httpMetrics) dance(provider, intent string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = lookupError(err).code
	}
	m.dances.WithLabelValues(provider, intent, outcome).Inc()
	if intent == "login" {
		m.logins.WithLabelValues("provider", provider, outcome).Inc()
	}
}

// passwordLogin counts a password log-in attempt.
func (m *httpMetrics) passwordLogin(outcome string) {
	m.logins.WithLabelValues("password", "", outcome).Inc()
}

// proxied counts a proxied call by who answered and the status class.
func (m *httpMetrics) proxied(provider, source string, status int) {
	m.proxy.WithLabelValues(provider, source, strconv.Itoa(status/100)+"xx").Inc()
}
