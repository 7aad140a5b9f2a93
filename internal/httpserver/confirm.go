package httpserver

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/web"
)

// question builds the confirmation a destructive action asks for, from
// what the database holds now. A question that does not ask (a zero
// web.Confirm) lets the request through: the action changes nothing, or
// the handler refuses it and says why.
type question func(c echo.Context) (web.Confirm, error)

// confirmFirst guards a destructive browser action. A post without
// confirm=yes changes nothing: it is answered with a page that names what
// will happen, whose form posts the same fields again with confirm=yes.
// With JavaScript, confirm.js fetches that page with "X-Confirm: ask" and
// asks in a <dialog> instead: such a request never reaches the action, and
// is answered 204 when there is nothing to ask. It runs after
// requireRecentAuth, so a stale session is sent to /reauth before it is
// asked anything.
func (s *Server) confirmFirst(ask question) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			probe := c.Request().Header.Get("X-Confirm") == "ask"
			if !probe && c.FormValue("confirm") == "yes" {
				return next(c)
			}
			q, err := ask(c)
			switch {
			case err != nil:
				return err
			case q.Asks():
				return s.renderConfirm(c, q)
			case probe:
				return c.NoContent(http.StatusNoContent)
			}
			return next(c)
		}
	}
}

// renderConfirm answers 200 with the confirmation page for the action c
// posted. The page's form carries the CSRF token and every field the
// original form posted; next brings a session that goes stale meanwhile
// back where it started after /reauth, not to this form's address.
func (s *Server) renderConfirm(c echo.Context, q web.Confirm) error {
	r := c.Request()
	q.Action = r.URL.EscapedPath()
	if !strings.HasPrefix(q.Action, "/") || strings.HasPrefix(q.Action, "//") {
		return echo.ErrNotFound
	}
	q.Cancel = s.backTo(c)
	if _, err := c.FormParams(); err != nil { // parses the body into PostForm
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	for _, k := range slices.Sorted(maps.Keys(r.PostForm)) {
		if k == "csrf_token" || k == "confirm" {
			continue
		}
		for _, v := range r.PostForm[k] {
			q.Fields = append(q.Fields, web.Field{Name: k, Value: v})
		}
	}
	if r.PostForm.Get("next") == "" {
		q.Fields = append(q.Fields, web.Field{Name: "next", Value: q.Cancel})
	}
	return render(c, http.StatusOK, web.ConfirmPage(s.page(c, q.Title), q))
}

// providerDisplayName is how people know a provider: its configured name,
// or its id once it is no longer configured.
func (s *Server) providerDisplayName(id string) string {
	for _, p := range s.opts.Providers {
		if p.ID == id && p.Name != "" {
			return p.Name
		}
	}
	return id
}

// askDisconnect names the user's connection and whether its token is
// revoked at the provider. Removing the last way to log in is not asked
// about: the handler refuses it and says why on the profile.
func (s *Server) askDisconnect(c echo.Context) (web.Confirm, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return web.Confirm{}, links.ErrNotFound
	}
	sess := sessionFrom(c)
	conns, err := s.opts.Links.Connections(c.Request().Context(), sess.UserID)
	if err != nil {
		return web.Confirm{}, err
	}
	i := slices.IndexFunc(conns, func(cn links.Connection) bool { return cn.ID == id })
	switch {
	case i < 0:
		return web.Confirm{}, links.ErrNotFound
	case !sess.User.HasPassword && len(conns) == 1:
		return web.Confirm{}, nil
	}
	cn := conns[i]
	return web.AskDisconnect(c.Request().Context(), s.providerDisplayName(cn.Provider), web.AccountName(cn.Username, cn.Name, cn.Email),
		s.opts.Links.Revokes(cn.Provider)), nil
}

// askRevokeToken names the token and when it was last used.
func (s *Server) askRevokeToken(c echo.Context) (web.Confirm, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return web.Confirm{}, accounts.ErrNotFound
	}
	toks, err := s.opts.Accounts.Tokens(c.Request().Context(), sessionFrom(c).UserID)
	if err != nil {
		return web.Confirm{}, err
	}
	for _, t := range toks {
		if t.ID == id {
			return web.AskRevokeToken(c.Request().Context(), t.Name, t.LastUsedAt), nil
		}
	}
	return web.Confirm{}, accounts.ErrNotFound
}

// askEndSession names the session's browser and when it was last active.
func (s *Server) askEndSession(c echo.Context) (web.Confirm, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return web.Confirm{}, accounts.ErrNotFound
	}
	sess := sessionFrom(c)
	list, err := s.opts.Accounts.Sessions(c.Request().Context(), sess.UserID)
	if err != nil {
		return web.Confirm{}, err
	}
	for _, ss := range list {
		if ss.ID == id {
			return web.AskEndSession(c.Request().Context(), ss.UserAgent, ss.IP, ss.LastSeenAt, ss.ID == sess.ID), nil
		}
	}
	return web.Confirm{}, accounts.ErrNotFound
}

// askLogOut counts the sessions that end and, when they go too, the API
// tokens. Logging out no other session and revoking nothing needs no
// confirmation; a bad scope is the handler's to refuse.
func (s *Server) askLogOut(c echo.Context) (web.Confirm, error) {
	scope := c.FormValue("scope")
	if scope != "others" && scope != "all" {
		return web.Confirm{}, nil
	}
	sess := sessionFrom(c)
	list, err := s.opts.Accounts.Sessions(c.Request().Context(), sess.UserID)
	if err != nil {
		return web.Confirm{}, fmt.Errorf("log out: %w", err)
	}
	others := 0
	for _, ss := range list {
		if ss.ID != sess.ID {
			others++
		}
	}
	tokens := -1
	if c.FormValue("revoke_tokens") == "1" {
		toks, err := s.opts.Accounts.Tokens(c.Request().Context(), sess.UserID)
		if err != nil {
			return web.Confirm{}, fmt.Errorf("log out: %w", err)
		}
		tokens = len(toks)
	}
	if scope == "all" {
		return web.AskLogOutEverywhere(c.Request().Context(), others, tokens), nil
	}
	if others == 0 && tokens <= 0 {
		return web.Confirm{}, nil
	}
	return web.AskLogOutOthers(c.Request().Context(), others, tokens), nil
}

// askRemovePasskey names the passkey and says when it is the last second
// factor.
func (s *Server) askRemovePasskey(c echo.Context) (web.Confirm, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return web.Confirm{}, echo.ErrNotFound
	}
	uid := sessionFrom(c).UserID
	keys, err := s.opts.Accounts.Passkeys(c.Request().Context(), uid)
	if err != nil {
		return web.Confirm{}, fmt.Errorf("remove passkey: %w", err)
	}
	mfa, err := s.opts.Accounts.MFAStatus(c.Request().Context(), uid)
	if err != nil {
		return web.Confirm{}, fmt.Errorf("remove passkey: %w", err)
	}
	for _, k := range keys {
		if k.ID == id {
			return web.AskRemovePasskey(c.Request().Context(), k.Name, !mfa.TOTP && mfa.Passkeys == 1), nil
		}
	}
	return web.Confirm{}, accounts.ErrNotFound
}

// askTurnOffTOTP says which recovery codes go with the authenticator app
// and whether passkeys still ask for a second step.
func (s *Server) askTurnOffTOTP(c echo.Context) (web.Confirm, error) {
	mfa, err := s.opts.Accounts.MFAStatus(c.Request().Context(), sessionFrom(c).UserID)
	if err != nil || !mfa.TOTP {
		return web.Confirm{}, err
	}
	return web.AskTurnOffTOTP(c.Request().Context(), mfa.RecoveryCodesLeft, mfa.Passkeys), nil
}

// askNewRecoveryCodes counts the unused codes the new set voids.
func (s *Server) askNewRecoveryCodes(c echo.Context) (web.Confirm, error) {
	mfa, err := s.opts.Accounts.MFAStatus(c.Request().Context(), sessionFrom(c).UserID)
	if err != nil || !mfa.TOTP && mfa.Passkeys == 0 && mfa.RecoveryCodesLeft == 0 {
		return web.Confirm{}, err // nothing to void: the handler refuses without a second factor
	}
	return web.AskNewRecoveryCodes(c.Request().Context(), mfa.RecoveryCodesLeft), nil
}
