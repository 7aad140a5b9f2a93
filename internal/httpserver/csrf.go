package httpserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// cookieNames use the __Host- prefix over https, which pins a cookie to this
// host and path / so a sibling subdomain cannot plant one.
type cookieNames struct {
	secure                        bool
	session, anon, flash, browser string
	device                        string // a browser that logged in to an account before
	mfa                           string // a log-in held for its second step
}

func newCookieNames(secure bool) cookieNames {
	prefix := ""
	if secure {
		prefix = "__Host-"
	}
	return cookieNames{secure: secure, session: prefix + "dc_session", anon: prefix + "dc_anon",
		flash: prefix + "dc_flash", browser: prefix + "dc_browser", device: prefix + "dc_device", mfa: prefix + "dc_mfa"}
}

func (s *Server) setCookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.cookies.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearCookie(c echo.Context, name string) {
	s.setCookie(c, name, "", -1)
}

// csrfToken is the token the current browser must echo back on unsafe
// requests: the session's own token once logged in; before that, an HMAC of
// a random per-browser cookie under a key shared by all replicas. It sets
// that cookie when the browser has none, so it must run before rendering.
func (s *Server) csrfToken(c echo.Context) string {
	if sess := sessionFrom(c); sess != nil {
		return sess.CSRFToken
	}
	anon := s.anonID(c)
	if anon == "" {
		anon = newRequestID() + newRequestID()
		s.setCookie(c, s.cookies.anon, anon, 0)
		c.Set(s.cookies.anon, anon)
	}
	return s.sign("csrf", anon)
}

// anonID is the browser's anonymous id, from the cookie or one just set.
func (s *Server) anonID(c echo.Context) string {
	if v, ok := c.Get(s.cookies.anon).(string); ok {
		return v
	}
	if ck, err := c.Cookie(s.cookies.anon); err == nil && len(ck.Value) <= 128 {
		return ck.Value
	}
	return ""
}

func (s *Server) sign(purpose, value string) string {
	m := hmac.New(sha256.New, s.opts.Secret)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrf checks every unsafe request: the token from the csrf_token form field
// or the X-CSRF-Token header must match, and a cross-site Origin or
// Sec-Fetch-Site is refused outright.
func (s *Server) csrf() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			switch c.Request().Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
				return next(c)
			}
			if !s.routable(c.Request().Method, c.Request()) {
				return next(c) // nothing here to protect: the answer is 404
			}
			if !s.sameOrigin(c.Request()) {
				return errCSRF
			}
			expected := ""
			if sess := sessionFrom(c); sess != nil {
				expected = sess.CSRFToken
			} else if anon := s.anonID(c); anon != "" {
				expected = s.sign("csrf", anon)
			}
			got := c.Request().Header.Get("X-CSRF-Token")
			if got == "" {
				got = c.FormValue("csrf_token")
			}
			if expected == "" || subtle.ConstantTimeCompare([]byte(got), []byte(expected)) != 1 {
				return errCSRF
			}
			return next(c)
		}
	}
}

// sameOrigin rejects requests a browser marks as cross-site. Requests
// without these headers (old browsers, non-browser clients) fall through to
// the token check.
func (s *Server) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return origin == ""
	}
	want := s.opts.BaseURL.Scheme + "://" + s.opts.BaseURL.Host
	return strings.EqualFold(origin, want) || strings.EqualFold(origin, "http://"+r.Host) || strings.EqualFold(origin, "https://"+r.Host)
}
