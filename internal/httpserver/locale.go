package httpserver

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/i18n"
	"github.com/dancecard/dancecard/internal/mail"
)

// langCookieAge keeps an anonymous visitor's language choice for a year.
const langCookieAge = 365 * 24 * 60 * 60

// langCookie names the cookie that keeps the language a browser chose.
func (s *Server) langCookie() string {
	if s.cookies.secure {
		return "__Host-dc_lang"
	}
	return "dc_lang"
}

// locale decides the language of the request and puts its localizer in the
// request context, where pages, error pages and mail enqueued by the
// request find it. The order: the logged-in user's stored choice, the
// browser's cookie, Accept-Language, English. It runs once for every
// request and again after loadSession, which adds the stored choice.
func (s *Server) locale() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			s.setLanguage(c, s.languageOf(c))
			return next(c)
		}
	}
}

// languageOf is the language the request asks for.
func (s *Server) languageOf(c echo.Context) string {
	var choices []string
	if sess := sessionFrom(c); sess != nil {
		choices = append(choices, sess.Language)
	}
	if ck, err := c.Cookie(s.langCookie()); err == nil {
		choices = append(choices, ck.Value)
	}
	return i18n.Embedded().Match(c.Request().Header.Get("Accept-Language"), choices...)
}

// setLanguage makes lang the language of the rest of the request.
func (s *Server) setLanguage(c echo.Context, lang string) {
	r := c.Request()
	ctx := i18n.With(r.Context(), i18n.Embedded().Localizer(lang))
	c.SetRequest(r.WithContext(mail.WithLanguage(ctx, lang)))
}

// tr translates a message id into the request's language, for flashes,
// titles and form errors that handlers set. Ids are string literals, as in
// the templates' t.
func tr(c echo.Context, id string, data ...i18n.Data) string {
	return i18n.T(c.Request().Context(), id, data...)
}

// trn translates id in the plural form for n.
func trn(c echo.Context, id string, n int, data ...i18n.Data) string {
	return i18n.N(c.Request().Context(), id, n, data...)
}

// handleLanguage keeps the language a visitor chose: in a cookie, and on
// the account when logged in, so that mail follows it too. A plain form
// post, so the choice works without JavaScript; it returns to the page
// the form was on.
func (s *Server) handleLanguage() echo.HandlerFunc {
	return func(c echo.Context) error {
		lang := c.FormValue("lang")
		if !i18n.Supported(lang) {
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		if sess := sessionFrom(c); sess != nil {
			err := s.opts.Accounts.SetLanguage(c.Request().Context(), sess.UserID, lang)
			if err != nil && !errors.Is(err, accounts.ErrNotFound) {
				return err
			}
			sess.Language = lang
		}
		s.setCookie(c, s.langCookie(), lang, langCookieAge)
		s.setLanguage(c, lang)
		s.flash(c, "success", tr(c, "flash.language_changed"))
		to := safeNext(c.FormValue("next"))
		if to == "" {
			to = "/"
		}
		return redirect(c, to)
	}
}

// keepChosenLanguage stores the language a visitor chose before signing up
// (the cookie) on their new account, so that mail sent later, outside any
// request of theirs, is in it too.
func (s *Server) keepChosenLanguage(c echo.Context, userID int64) {
	ck, err := c.Cookie(s.langCookie())
	if err != nil || !i18n.Supported(ck.Value) {
		return
	}
	if err := s.opts.Accounts.SetLanguage(c.Request().Context(), userID, ck.Value); err != nil {
		s.log.WarnContext(c.Request().Context(), "keeping the chosen language", "err", err)
	}
}
