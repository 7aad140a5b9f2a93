// Package httpserver is the HTTP face of Dancecard: echo setup, the routes,
// middleware, handlers and the one table that maps errors to responses.
// Handlers parse input, call one domain method and render; decisions live in
// the domain packages.
package httpserver

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/ratelimit"
)

// Options are the server's dependencies and settings.
type Options struct {
	Logger           *slog.Logger
	DB               *pgxpool.Pool
	Accounts         *accounts.Service
	Links            *links.Service
	Admin            *admin.Service
	Deliveries       *events.Deliveries // dead deliveries and retries; defaults to one on DB
	Providers        []ProviderInfo     // enabled providers, in configuration order
	Limiter          *ratelimit.Limiter
	BaseURL          *url.URL
	Dev              bool
	TrustedProxies   []netip.Prefix
	SignupLocal      bool
	Secret           []byte // signs anonymous CSRF tokens and flash cookies
	Registry         *prometheus.Registry
	DevProvider      http.Handler     // dev mode's built-in provider, mounted at /dev/provider/; nil outside dev mode
	DevMailbox       *mail.DevMailbox // dev mode without smtp_url: mounted at /dev/mail; nil otherwise
	MetricsElsewhere bool             // metrics_addr is set: /metrics is served there (MetricsHandler), not here
	AdminsMustEnrol  bool             // mfa.admins_must_enrol: administrators need a second factor for /admin
}

// ProviderInfo is what pages show of a provider: its name and, for a
// preset, its mark and brand colour (oauth.Provider's Mark and Colour).
type ProviderInfo struct{ ID, Name, Mark, Colour string }

// Server serves Dancecard's pages and API.
type Server struct {
	opts    Options
	log     *slog.Logger
	echo    *echo.Echo
	cookies cookieNames
	metrics *httpMetrics

	// routesBy lists the real routes' patterns by method (methods.go).
	routesBy map[string][][]string
}

// New builds the server and its routes.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.Deliveries == nil {
		opts.Deliveries = events.NewDeliveries(opts.DB)
	}
	s := &Server{
		opts:    opts,
		log:     opts.Logger,
		cookies: newCookieNames(opts.BaseURL.Scheme == "https"),
		metrics: newHTTPMetrics(opts.Registry, opts.DB),
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(opts.TrustedProxies)
	s.echo = e
	s.routes()
	s.routesBy = routeTable(e)
	return s
}

// MetricsHandler serves the Prometheus metrics, for a listener of its own.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{})
}

// Handler returns the root http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// HTTPServer wraps the handler with timeouts that bound slow clients.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// ipExtractor believes X-Forwarded-For only from the configured proxies.
func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		_, ipnet, err := net.ParseCIDR(p.String())
		if err == nil {
			opts = append(opts, echo.TrustIPRange(ipnet))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
