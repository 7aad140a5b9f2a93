package httpserver

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/i18n"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/ratelimit"
)

// dancePerIP bounds dance starts: each one costs a row and, for OAuth 1, a
// request to the provider, so a loop of them must not run unchecked.
var dancePerIP = ratelimit.Rule{Max: 60, Window: 5 * time.Minute}

// callbackFailPerIP bounds failed callbacks from one network: each one is
// recorded as an event, and a script can send forged states at will.
var callbackFailPerIP = ratelimit.Rule{Max: 30, Window: 15 * time.Minute}

// browserCookieAge keeps the browser-binding cookie for a year: it
// identifies a browser, not a person, and carries no authority alone.
const browserCookieAge = 365 * 24 * 3600

// browserID returns the cookie that binds dances to this browser, setting
// one when the browser has none.
func (s *Server) browserID(c echo.Context) string {
	if ck, err := c.Cookie(s.cookies.browser); err == nil && len(ck.Value) >= 32 && len(ck.Value) <= 128 {
		return ck.Value
	}
	id := newRequestID() + newRequestID()
	s.setCookie(c, s.cookies.browser, id, browserCookieAge)
	return id
}

// handleDanceStart starts a log-in (anonymous) or connect (logged in) dance.
func (s *Server) handleDanceStart(intent links.Intent) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := sessionFrom(c)
		next := safeNext(c.FormValue("next"))
		if intent == links.IntentLogin && sess != nil {
			return redirect(c, orDefault(next, "/profile"))
		}
		if ok, _, err := s.opts.Limiter.Hit(c.Request().Context(), "dance:ip:"+c.RealIP(), dancePerIP); err != nil {
			return err
		} else if !ok {
			return s.danceFailed(c, intent, c.Param("provider"), errRateLimited)
		}
		req := links.StartRequest{
			Provider: c.Param("provider"),
			Intent:   intent,
			Browser:  s.browserID(c),
			Next:     next,
			Scopes:   strings.Fields(c.FormValue("scopes")),
		}
		if sess != nil {
			req.UserID = sess.UserID
		}
		authURL, err := s.opts.Links.Start(c.Request().Context(), req)
		if err != nil {
			return s.danceFailed(c, intent, c.Param("provider"), err)
		}
		return c.Redirect(http.StatusSeeOther, authURL)
	}
}

// handleDanceCallback finishes whichever dance the state names, then sends
// the browser on with a flash saying what happened.
func (s *Server) handleDanceCallback() echo.HandlerFunc {
	return func(c echo.Context) error {
		// The URL carries a one-time code: no cache may keep the answer.
		c.Response().Header().Set("Cache-Control", "no-store")
		// Every failed callback is recorded; a network that keeps failing
		// (forged states, say) is stopped before it fills the event log.
		failKey := "callback:fail:" + c.RealIP()
		if ok, _, err := s.opts.Limiter.Peek(c.Request().Context(), failKey, callbackFailPerIP); err != nil {
			return err
		} else if !ok {
			return s.danceFailed(c, links.IntentLogin, c.Param("provider"), errRateLimited)
		}
		req := links.FinishRequest{
			Provider: c.Param("provider"),
			Params:   c.QueryParams(),
			Browser:  s.browserID(c),
		}
		if sess := sessionFrom(c); sess != nil {
			req.UserID, req.SessionID = sess.UserID, sess.ID
		}
		if ck, err := c.Cookie(s.cookies.session); err == nil {
			req.OldSession = ck.Value
		}
		res, err := s.opts.Links.Finish(c.Request().Context(), req)
		if s.knownProvider(req.Provider) { // an id from the URL must not mint metric labels
			s.metrics.dance(req.Provider, string(orIntent(res.Intent, req.UserID)), err)
		}
		if err != nil {
			if _, _, herr := s.opts.Limiter.Hit(c.Request().Context(), failKey, callbackFailPerIP); herr != nil {
				return herr
			}
			intent := orIntent(res.Intent, req.UserID)
			if errors.Is(err, links.ErrVetoed) && res.Message != "" {
				s.flash(c, "error", res.Message)
				return redirect(c, orDefault(safeNext(res.Next), "/"))
			}
			if intent == links.IntentReauth {
				_, msg := localError(c, err, providerName(res, req.Provider))
				s.flash(c, "error", msg)
				return redirect(c, "/reauth?next="+url.QueryEscape(orDefault(safeNext(res.Next), "/profile")))
			}
			return s.danceFailed(c, intent, providerName(res, req.Provider), err)
		}
		name := providerName(res, req.Provider)
		if res.Intent == links.IntentLogin && res.SecondStep {
			return s.holdLogin(c, res.UserID, "provider", req.Provider, safeNext(res.Next))
		}
		switch res.Intent {
		case links.IntentReauth:
			s.flash(c, "success", tr(c, "flash.reauth_provider", i18n.Data{"Provider": name}))
		case links.IntentLogin:
			s.setSessionCookie(c, res.Session)
			msg := tr(c, "flash.logged_in_with", i18n.Data{"Provider": name})
			if res.NewUser {
				msg = tr(c, "flash.created_with", i18n.Data{"Provider": name})
			}
			s.flash(c, "success", msg)
		default:
			who := res.Connection.Username
			if who == "" {
				who = res.Connection.Name
			}
			msg := tr(c, "flash.connected", i18n.Data{"Provider": name, "Who": who})
			if !res.Created {
				msg = tr(c, "flash.reconnected", i18n.Data{"Provider": name, "Who": who})
			}
			s.flash(c, "success", msg)
		}
		if res.Message != "" {
			s.flash(c, "info", res.Message)
		}
		return redirect(c, orDefault(safeNext(res.Next), "/profile"))
	}
}

func providerName(res links.Result, id string) string {
	if res.Provider != nil && res.Provider.Name != "" {
		return res.Provider.Name
	}
	return id
}

// danceFailed shows a failed dance as a flash on the page the user came
// from. Unknown failures are logged and shown generically.
func (s *Server) danceFailed(c echo.Context, intent links.Intent, provider string, err error) error {
	e := lookupError(err)
	if e.status == http.StatusNotFound && errors.Is(err, links.ErrUnknownProvider) {
		return err
	}
	if e.status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "dance failed", "provider", provider, "err", err.Error())
	}
	_, msg := localError(c, err, s.providerDisplayName(provider))
	s.flash(c, "error", msg)
	switch intent {
	case links.IntentConnect:
		return redirect(c, "/profile")
	case links.IntentReauth:
		return redirect(c, "/reauth?next="+url.QueryEscape(orDefault(safeNext(c.FormValue("next")), "/profile")))
	}
	return redirect(c, "/login")
}

// handleConnectionDelete disconnects one of the user's connections.
func (s *Server) handleConnectionDelete() echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return links.ErrNotFound
		}
		err = s.opts.Links.Disconnect(c.Request().Context(), sessionFrom(c).UserID, id)
		if errors.Is(err, links.ErrLastLoginMethod) {
			_, msg := localError(c, err, "")
			s.flash(c, "error", msg)
			return redirect(c, "/profile")
		}
		if err != nil {
			return err
		}
		s.flash(c, "success", tr(c, "flash.disconnected"))
		return redirect(c, "/profile")
	}
}

// callbackParams are the fields a form_post callback may carry on to the
// GET callback; anything else a provider posts is dropped.
var callbackParams = []string{"code", "state", "iss", "error", "error_description", "error_uri"}

// handleFormPostCallback redirects a form_post callback to the GET callback
// with the same response parameters. The session cookie stays SameSite=Lax:
// it is the redirected top-level GET, not the cross-site POST, that finishes
// the dance.
func (s *Server) handleFormPostCallback() echo.HandlerFunc {
	return func(c echo.Context) error {
		form, err := c.FormParams()
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		q := url.Values{}
		for _, k := range callbackParams {
			if v := form.Get(k); v != "" {
				q.Set(k, v)
			}
		}
		if q.Get("state") == "" {
			return links.ErrStateUnknown
		}
		return c.Redirect(http.StatusSeeOther, "/auth/"+url.PathEscape(c.Param("provider"))+"/callback?"+q.Encode())
	}
}

// orIntent is a dance's intent, or for a state that named none the one
// the browser's log-in suggests.
func orIntent(intent links.Intent, userID int64) links.Intent {
	switch {
	case intent != "":
		return intent
	case userID != 0:
		return links.IntentConnect
	}
	return links.IntentLogin
}

func (s *Server) knownProvider(id string) bool {
	for _, p := range s.opts.Providers {
		if p.ID == id {
			return true
		}
	}
	return false
}
