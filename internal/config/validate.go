package config

import (
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// validate checks what single values cannot show alone: required keys, URL shapes and
// how keys relate. It runs after the environment overrides, so it sees the final values.
func (l *loader) validate() error {
	checks := []func() error{
		l.checkAddr, l.checkBaseURL, l.checkDatabaseURL, l.checkTokenKeys,
		l.checkSessions, l.checkAccounts, l.checkLog, l.checkEvents, l.checkProviders,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// errorf reports a problem with key path at the place its value came from or, for a key
// that is missing, at the mapping that should have held it.
func (l *loader) errorf(path, format string, args ...any) error {
	for p := path; p != ""; p = parentPath(p) {
		if o, ok := l.origins[p]; ok {
			return o.errorf(path, format, args...)
		}
	}
	return origin{}.errorf(path, format, args...)
}

// parentPath strips the last ".key" or "[i]" from a key path.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// present reports whether key path was written in the file or set by the environment.
func (l *loader) present(path string) bool {
	_, ok := l.origins[path]
	return ok
}

// checkAddr insists on host:port with a numeric port, as net.Listen needs, for
// addr and, when set, metrics_addr (which must differ from addr).
func (l *loader) checkAddr() error {
	for key, addr := range map[string]string{"addr": l.cfg.Addr, "metrics_addr": l.cfg.MetricsAddr} {
		if key == "metrics_addr" && addr == "" {
			continue
		}
		_, port, err := net.SplitHostPort(addr)
		if err == nil {
			_, err = strconv.ParseUint(port, 10, 16)
		}
		if err != nil {
			return l.errorf(key, "must be host:port such as 127.0.0.1:8080 or :8080, got %q", addr)
		}
	}
	if l.cfg.MetricsAddr == l.cfg.Addr {
		return l.errorf("metrics_addr", "must differ from addr (%s); leave it empty to serve /metrics there", l.cfg.Addr)
	}
	return nil
}

// checkBaseURL parses base_url, from which every callback URL is built, and allows
// plain http only where no one can watch the traffic: in dev mode, or with
// insecure_transport on a loopback host.
func (l *loader) checkBaseURL() error {
	u, err := url.Parse(l.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(l.baseURL, "#") {
		return l.errorf("base_url", "must be an absolute http(s) URL without query or fragment")
	}
	if u.User != nil {
		return l.errorf("base_url", "must not contain a user name or password")
	}
	if u.Scheme == "http" && !l.cfg.Dev {
		if !l.cfg.InsecureTransport {
			return l.errorf("base_url", "http:// is allowed only with dev: true, or with insecure_transport: true on a loopback host; use https://")
		}
		if !isLoopback(u.Hostname()) {
			return l.errorf("base_url", "insecure_transport allows http:// only on a loopback host (localhost, 127.0.0.1, ::1), not %q; use https://", u.Hostname())
		}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	l.cfg.BaseURL = u
	return nil
}

// isLoopback reports whether host names this machine only.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// checkDatabaseURL accepts a postgres URL or a key=value connection string (both are
// understood by pgx); it never echoes the value, which may hold a password.
func (l *loader) checkDatabaseURL() error {
	s := l.cfg.DatabaseURL
	if strings.TrimSpace(s) == "" {
		return l.errorf("database_url", "is required")
	}
	if !strings.Contains(s, "://") {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return l.errorf("database_url", "must be a postgres:// URL or a key=value connection string")
	}
	return nil
}

// checkTokenKeys requires an encryption key outside dev mode, where stored tokens must
// survive a restart; dev mode may run without one.
func (l *loader) checkTokenKeys() error {
	if len(l.cfg.TokenKeys) == 0 && !l.cfg.Dev {
		return l.errorf("token_keys", "at least one key is required outside dev mode (generate one with: openssl rand -base64 32)")
	}
	return nil
}

// checkSessions keeps the absolute limit from being shorter than the idle one, which
// would make idle_timeout meaningless.
func (l *loader) checkSessions() error {
	s := l.cfg.Sessions
	if s.AbsoluteTimeout < s.IdleTimeout {
		return l.errorf("sessions.absolute_timeout", "must be at least sessions.idle_timeout (%s), got %s", s.IdleTimeout, s.AbsoluteTimeout)
	}
	return nil
}

// checkLog accepts the two formats slog offers.
func (l *loader) checkLog() error {
	f := strings.ToLower(l.cfg.Log.Format)
	if f != "json" && f != "text" {
		return l.errorf("log.format", "must be json or text, got %q", l.cfg.Log.Format)
	}
	l.cfg.Log.Format = f
	return nil
}
