package httpserver

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/web"
)

// requireRecentAuth guards sensitive actions: a session whose user last
// proved who they are longer ago than security.reauth_window is sent to
// /reauth (browsers) or refused with recent_auth_required (JSON). The
// action is not performed: the user repeats it afterwards, knowingly.
// Calls with a bearer token are the token's business, not a session's.
func (s *Server) requireRecentAuth() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			sess := sessionFrom(c)
			if sess == nil || c.Request().Header.Get(echo.HeaderAuthorization) != "" || s.opts.Accounts.Recent(*sess) {
				return next(c)
			}
			if strings.HasPrefix(c.Request().URL.Path, "/api/") {
				return accounts.ErrReauthRequired
			}
			s.flash(c, "info", tr(c, "flash.reauth_first"))
			return redirect(c, "/reauth?next="+url.QueryEscape(s.backTo(c)))
		}
	}
}

// backTo is the same-site page a form was posted from, where the user goes
// back to after re-authenticating, or the profile.
func (s *Server) backTo(c echo.Context) string {
	if next := safeNext(c.FormValue("next")); next != "" {
		return next
	}
	ref, err := url.Parse(c.Request().Referer())
	if err != nil || !strings.EqualFold(ref.Host, s.opts.BaseURL.Host) && !strings.EqualFold(ref.Host, c.Request().Host) {
		return "/profile"
	}
	back := ref.EscapedPath()
	if ref.RawQuery != "" {
		back += "?" + ref.RawQuery
	}
	if back = safeNext(back); back == "" || strings.HasPrefix(back, "/reauth") {
		return "/profile"
	}
	return back
}

// reauthForm lists the ways the signed-in user can prove who they are.
func (s *Server) reauthForm(c echo.Context) (web.ReauthForm, error) {
	sess := sessionFrom(c)
	f := web.ReauthForm{Next: orDefault(safeNext(c.FormValue("next")), "/profile"), Email: sess.User.Email, HasPassword: sess.User.HasPassword}
	mfa, err := s.opts.Accounts.MFAStatus(c.Request().Context(), sess.UserID)
	if err != nil {
		return f, err
	}
	f.HasTOTP = mfa.TOTP
	f.HasPasskey = mfa.Passkeys > 0
	conns, err := s.opts.Links.Connections(c.Request().Context(), sess.UserID)
	if err != nil {
		return f, err
	}
	seen := map[string]bool{}
	for _, p := range s.opts.Providers {
		for _, cn := range conns {
			if cn.Provider == p.ID && !seen[p.ID] {
				seen[p.ID] = true
				f.Providers = append(f.Providers, providerButton(p))
			}
		}
	}
	return f, nil
}

func (s *Server) handleReauthForm() echo.HandlerFunc {
	return func(c echo.Context) error {
		f, err := s.reauthForm(c)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, web.Reauth(s.page(c, tr(c, "reauth.title")), f))
	}
}

func (s *Server) handleReauth() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		sess := sessionFrom(c)
		f, err := s.reauthForm(c)
		if err != nil {
			return err
		}
		if verdict, err := s.loginAllowed(c, sess.User.Email); err != nil {
			return err
		} else if verdict != loginOK {
			_, f.Error = localError(c, errRateLimited, "")
			return render(c, http.StatusTooManyRequests, web.Reauth(s.page(c, tr(c, "reauth.title")), f))
		}
		if code := c.FormValue("code"); code != "" {
			err = s.opts.Accounts.ReauthenticateWithCode(ctx, *sess, code)
		} else {
			err = s.opts.Accounts.Reauthenticate(ctx, *sess, c.FormValue("password"))
		}
		var fe *accounts.FieldError
		if errors.As(err, &fe) {
			if err := s.loginFailed(c, sess.User.Email); err != nil {
				return err
			}
			f.Error = fieldErrorText(c.Request().Context(), fe)
			return render(c, http.StatusUnauthorized, web.Reauth(s.page(c, tr(c, "reauth.title")), f))
		}
		if err != nil {
			return err
		}
		s.flash(c, "success", tr(c, "flash.reauth_done"))
		return redirect(c, f.Next)
	}
}
