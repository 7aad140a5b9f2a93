package httpserver

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/events"
)

const ctxSession = "dancecard.session"

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// recoverPanics turns a panic anywhere below into a logged 500 page, so no
// panic reaches a user as a dropped connection.
func (s *Server) recoverPanics() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					s.log.Error("panic", "panic", fmt.Sprint(r), "path", c.Request().URL.Path, "stack", string(debug.Stack()))
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			return next(c)
		}
	}
}

// observe logs every request and feeds the metrics. It logs the path but
// never the query string, headers or body: OAuth callbacks carry codes there.
func (s *Server) observe() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			route := c.Path()
			if route == "" || route == "/*" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			s.metrics.observe(c.Request().Method, route, status, elapsed)
			level := slogLevelFor(status)
			s.log.Log(c.Request().Context(), level, "request",
				"method", c.Request().Method, "path", c.Request().URL.Path, "route", route,
				"status", status, "duration_ms", float64(elapsed.Microseconds())/1000,
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "ip", c.RealIP())
			return nil
		}
	}
}

// securityHeaders sets a strict policy on every response: no inline script,
// no framing, no MIME sniffing, no referrer leaking paths to providers.
func (s *Server) securityHeaders() echo.MiddlewareFunc {
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; " +
		"object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			if s.opts.BaseURL.Scheme == "https" {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			return next(c)
		}
	}
}

// requestMeta puts the request id, client IP and user agent in the request
// context, where domain code records them with events.
func (s *Server) requestMeta() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			ctx := events.WithMeta(r.Context(), events.Meta{
				RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
				IP:        c.RealIP(),
				UserAgent: r.UserAgent(),
			})
			c.SetRequest(r.WithContext(ctx))
			return next(c)
		}
	}
}

// loadSession attaches the logged-in session, if the cookie names a live
// one. A dead cookie is cleared so the browser stops sending it.
func (s *Server) loadSession() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ck, err := c.Cookie(s.cookies.session)
			if err != nil || ck.Value == "" {
				return next(c)
			}
			sess, err := s.opts.Accounts.Session(c.Request().Context(), ck.Value)
			switch {
			case errors.Is(err, accounts.ErrNoSession):
				s.clearCookie(c, s.cookies.session)
			case err != nil:
				return err
			default:
				c.Set(ctxSession, &sess)
			}
			return next(c)
		}
	}
}

// requireUser sends anonymous visitors to the log-in page, remembering where
// they were going.
func (s *Server) requireUser() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if sessionFrom(c) != nil {
				return next(c)
			}
			if c.Request().Method != http.MethodGet {
				return errLoginRequired
			}
			return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		}
	}
}

func sessionFrom(c echo.Context) *accounts.Session {
	sess, _ := c.Get(ctxSession).(*accounts.Session)
	return sess
}

// safeNext returns raw if it is a path on this site, else "". Only a single
// leading slash followed by a non-slash, non-backslash passes, which rules
// out //evil.example, /\evil.example and scheme-relative tricks.
func safeNext(raw string) string {
	if len(raw) > 2048 || !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") ||
		strings.ContainsAny(raw, "\\\x00\r\n\t") {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return ""
	}
	return raw
}

func slogLevelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	default:
		return slog.LevelInfo
	}
}
