package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/config"
	"github.com/dancecard/dancecard/internal/devprovider"
	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/httpserver"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/internal/ratelimit"
)

// demoAdminEmail is dev mode's administrator.
const demoAdminEmail = "admin@dancecard.test"

// shutdownGrace is how long in-flight requests get to finish on SIGTERM.
const shutdownGrace = 25 * time.Second

// cmdServe runs the web service until ctx ends, then drains in-flight
// requests before returning.
func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs, path := newFlagSet("serve", stdout)
	migrate := fs.Bool("migrate", true, "apply pending migrations on start")
	if pos, err := parseInterleaved(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("serve: unexpected argument %q; %w", pos[0], errUsage)
	}
	cfg, err := loadConfig(*path, getenv)
	if err != nil {
		return err
	}
	// Take the address first: a second server started by mistake must fail
	// before it changes anything (dev mode resets the demo password).
	ln, err := listen(cfg)
	if err != nil {
		return err
	}
	defer ln.Close()
	log := newLogger(cfg.Log, stdout)
	subs, hooks, err := eventSubscribers(cfg.Events, log)
	if err != nil {
		return err
	}
	if *migrate {
		if err := postgres.Migrate(cfg.DatabaseURL); err != nil {
			return err
		}
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := newApp(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	stopEvents, err := startEvents(ctx, cfg.Events, subs, hooks, db, log, a.reg)
	if err != nil {
		return err
	}
	defer stopEvents()
	defer startMail(ctx, a.mailer)()
	if cfg.Dev {
		if err := ensureDemoAdmin(ctx, a.accounts, stdout); err != nil {
			return err
		}
	}
	if cfg.MetricsAddr != "" {
		stopMetrics, err := serveMetrics(ctx, cfg.MetricsAddr, a.srv.MetricsHandler(), log, stdout)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	fmt.Fprintf(stdout, "Dancecard listening on http://%s (public URL %s)\n", ln.Addr(), cfg.BaseURL)
	go housekeeping(ctx, log, a, ratelimit.New(db, true))
	// Last-used times of proxied calls are flushed every few seconds and
	// once more after the last in-flight request has drained.
	usageCtx, stopUsage := context.WithCancel(context.WithoutCancel(ctx))
	usageDone := make(chan struct{})
	go func() { a.links.RunUsageFlusher(usageCtx, usageFlushEvery); close(usageDone) }()
	err = serveUntilDone(ctx, a.srv.HTTPServer(cfg.Addr), ln, log)
	stopUsage()
	<-usageDone
	return err
}

// listen takes cfg.Addr. When the address is taken it says which keys move
// a second server elsewhere: both, since callback URLs come from base_url.
func listen(cfg *config.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (addr, DANCECARD_ADDR): %w; is another Dancecard running there? "+
			"To run a second server, set DANCECARD_ADDR and DANCECARD_BASE_URL together (now %s), "+
			"since OAuth callback URLs are built from base_url", cfg.Addr, err, cfg.BaseURL)
	}
	return ln, nil
}

// serveMetrics serves h (Prometheus metrics) on addr until the returned
// function is called.
func serveMetrics(ctx context.Context, addr string, h http.Handler, log *slog.Logger, stdout io.Writer) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (metrics_addr, DANCECARD_METRICS_ADDR): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	fmt.Fprintf(stdout, "Metrics on http://%s/metrics\n", ln.Addr())
	go hs.Serve(ln)
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}, nil
}

// usageFlushEvery is how often coalesced last-used times are written.
const usageFlushEvery = 5 * time.Second

// app is the wired-up service.
type app struct {
	srv        *httpserver.Server
	mailer     *mail.Sender // nil when mail goes nowhere
	reg        *prometheus.Registry
	accounts   *accounts.Service
	links      *links.Service
	deliveries *events.Deliveries
	db         *pgxpool.Pool
	retention  time.Duration // events.retention; also how long sent mail is kept
}

func newApp(ctx context.Context, cfg *config.Config, db *pgxpool.Pool, log *slog.Logger) (*app, error) {
	secret, err := postgres.Secret(ctx, db, "cookie-signing")
	if err != nil {
		return nil, err
	}
	accts := accounts.New(db, accounts.Options{
		IdleTimeout:     cfg.Sessions.IdleTimeout,
		AbsoluteTimeout: cfg.Sessions.AbsoluteTimeout,
		Verification:    accounts.Verification(cfg.Signup.EmailVerification),
		VerifyLinkTTL:   cfg.Security.VerifyLinkTTL,
		ResetLinkTTL:    cfg.Security.ResetLinkTTL,
		ReauthWindow:    cfg.Security.ReauthWindow,
	})
	reg := prometheus.NewRegistry()
	mailer, mailbox, err := newMailer(cfg, db, log, reg, accts)
	if err != nil {
		return nil, err
	}
	var dev http.Handler
	if cfg.Dev {
		cfg.Providers = append(cfg.Providers, devprovider.Providers(cfg.BaseURL.String())...)
		dev = devprovider.New(cfg.BaseURL.String())
	}
	lk, catalog, err := newLinks(ctx, cfg, db, accts, log, reg)
	if err != nil {
		return nil, err
	}
	var providers []httpserver.ProviderInfo
	for _, p := range catalog.Enabled() {
		providers = append(providers, httpserver.ProviderInfo{ID: p.ID, Name: p.Name, Mark: p.Mark, Colour: p.Colour})
	}
	deliveries := events.NewDeliveries(db)
	srv := httpserver.New(httpserver.Options{
		Logger:           log,
		DB:               db,
		Accounts:         accts,
		Links:            lk,
		Admin:            admin.New(db),
		Deliveries:       deliveries,
		Providers:        providers,
		Limiter:          ratelimit.New(db, cfg.RateLimits.Enabled),
		BaseURL:          cfg.BaseURL,
		Dev:              cfg.Dev,
		TrustedProxies:   cfg.TrustedProxies,
		SignupLocal:      cfg.Signup.Local,
		Secret:           secret,
		DevProvider:      dev,
		DevMailbox:       mailbox,
		Registry:         reg,
		MetricsElsewhere: cfg.MetricsAddr != "",
		AdminsMustEnrol:  cfg.MFA.AdminsMustEnrol,
	})
	return &app{srv: srv, mailer: mailer, reg: reg, db: db, accounts: accts, links: lk, deliveries: deliveries, retention: cfg.Events.Retention}, nil
}

// newLinks builds the provider catalogue and the links service. In dev mode
// the built-in dev providers join the catalogue, and tokens are sealed
// under a key kept in the database when none is configured.
func newLinks(ctx context.Context, cfg *config.Config, db *pgxpool.Pool, accts *accounts.Service, log *slog.Logger,
	reg *prometheus.Registry) (*links.Service, *oauth.Catalog, error) {
	keys, err := tokenKeys(ctx, cfg, db)
	if err != nil {
		return nil, nil, err
	}
	// TOTP secrets are sealed under the same key ring as provider tokens.
	accts.SetSecretSealer(keys)
	rp, err := accounts.NewRelyingParty(cfg.BaseURL)
	if err != nil {
		return nil, nil, err
	}
	if rp == nil {
		log.Warn("passkeys are off: base_url's host is an IP address, and browsers accept only a host name as a passkey's site; use http://localhost:8080 or a real host name",
			"base_url", cfg.BaseURL.String())
	}
	accts.SetWebAuthn(rp)
	catalog, err := oauth.NewCatalog(cfg.Providers, cfg.BaseURL)
	if err != nil {
		return nil, nil, err
	}
	refreshes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dancecard_token_refreshes_total",
		Help: "OAuth 2 token refreshes asked of providers, by provider and outcome (ok, refused: invalid_grant, error).",
	}, []string{"provider", "outcome"})
	reg.MustRegister(refreshes)
	lk := links.New(links.Options{
		DB:                     db,
		Accounts:               accts,
		Catalog:                catalog,
		Client:                 oauth.NewClient(oauth.ClientOptions{}),
		Keys:                   keys,
		Signup:                 links.Signup{ViaProvider: cfg.Signup.ViaProvider, LinkByVerifiedEmail: cfg.Signup.LinkByVerifiedEmail},
		Logger:                 log,
		SecondFactorAfterLogin: cfg.MFA.ProviderLogins == "require",
		OnRefresh: func(provider, outcome string) {
			refreshes.WithLabelValues(provider, outcome).Inc()
		},
	})
	return lk, catalog, nil
}

// tokenKeys is the configured key ring; dev mode without keys uses one kept
// in the database so stored tokens survive restarts.
func tokenKeys(ctx context.Context, cfg *config.Config, db *pgxpool.Pool) (*links.Keyring, error) {
	keys := cfg.TokenKeys
	if len(keys) == 0 {
		if !cfg.Dev {
			return nil, errors.New("token_keys: at least one key is required outside dev mode")
		}
		k, err := postgres.Secret(ctx, db, "dev-token-key")
		if err != nil {
			return nil, err
		}
		keys = [][]byte{k}
	}
	return links.NewKeyring(keys)
}

// serveUntilDone serves on ln until ctx ends, then stops accepting and waits
// for in-flight requests to finish.
func serveUntilDone(ctx context.Context, hs *http.Server, ln net.Listener, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(httpserver.Listener(ln)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests", "grace", shutdownGrace.String())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// ensureDemoAdmin gives dev mode a known administrator with a fresh random
// password, printed once here and never logged.
func ensureDemoAdmin(ctx context.Context, accts *accounts.Service, stdout io.Writer) error {
	b := make([]byte, 12)
	rand.Read(b)
	password := "demo-" + base64.RawURLEncoding.EncodeToString(b)
	if _, _, err := accts.EnsureAdmin(ctx, demoAdminEmail, password); err != nil {
		return fmt.Errorf("dev mode: demo administrator: %w", err)
	}
	_, err := fmt.Fprintf(stdout, "\nDev mode: log in as the demo administrator\n  email:    %s\n  password: %s\n(a new password is set on every start)\n\n", demoAdminEmail, password)
	return err
}

// housekeeping prunes expired sessions, stale rate-limit windows, and
// delivered events and sent mail past their retention. Every replica runs
// it; the deletes are idempotent.
func housekeeping(ctx context.Context, log *slog.Logger, a *app, limiter *ratelimit.Limiter) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := a.links.MarkExpiring(ctx); err != nil {
			log.Warn("mark expiring connections", "err", err)
		}
		if _, err := a.links.PruneDances(ctx); err != nil {
			log.Warn("prune dances", "err", err)
		}
		if _, err := a.accounts.PruneLoginHolds(ctx); err != nil {
			log.Warn("prune held log-ins", "err", err)
		}
		if _, err := a.accounts.PrunePasskeyCeremonies(ctx); err != nil {
			log.Warn("prune passkey ceremonies", "err", err)
		}
		if _, err := a.accounts.PruneTokenHandOffs(ctx); err != nil {
			log.Warn("prune token hand-offs", "err", err)
		}
		if n, err := a.accounts.PruneSessions(ctx); err != nil {
			log.Warn("prune sessions", "err", err)
		} else if n > 0 {
			log.Info("pruned expired sessions", "count", n)
		}
		if err := limiter.Prune(ctx, 24*time.Hour); err != nil {
			log.Warn("prune rate limits", "err", err)
		}
		if _, err := mail.Prune(ctx, a.db, a.retention); err != nil {
			log.Warn("prune mail", "err", err)
		}
		if n, err := a.deliveries.Prune(ctx, a.retention, 1000); err != nil {
			log.Warn("prune events", "err", err)
		} else if n > 0 {
			log.Info("pruned delivered events past retention", "count", n)
		}
	}
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.Level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
