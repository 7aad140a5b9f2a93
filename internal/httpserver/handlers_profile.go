package httpserver

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/i18n"
	"github.com/dancecard/dancecard/web"
)

// handleProfile shows one page of the profile.
func (s *Server) handleProfile(section web.ProfileSection) echo.HandlerFunc {
	return func(c echo.Context) error {
		return s.renderSection(c, http.StatusOK, section, profileForms{})
	}
}

// profileForms carries the state of the profile's forms after a POST that
// renders a page again: errors, and what was typed.
type profileForms struct {
	password web.PasswordForm
	token    web.TokenForm
	email    web.EmailForm
	del      web.DeleteForm
	name     web.NameForm
}

// section is the page that holds the form f carries; the connections page
// when it carries none.
func (f profileForms) section() web.ProfileSection {
	switch {
	case f.password.Errors != nil || f.password.Error != "":
		return web.SectionSecurity
	case f.token.Errors != nil:
		return web.SectionTokens
	case f.email != (web.EmailForm{}) || f.del != (web.DeleteForm{}) || f.name != (web.NameForm{}):
		return web.SectionAccount
	}
	return web.SectionConnections
}

// renderProfile draws again the profile page whose form a POST refused,
// with the form's state.
func (s *Server) renderProfile(c echo.Context, status int, f profileForms) error {
	return s.renderSection(c, status, f.section(), f)
}

// renderSection draws one profile page. Each page reads only what it
// shows, one query per list: the connections page, the one every log-in
// lands on, reads the connections alone, in one query; the security page
// reads the sessions, the second factors and the passkeys; the tokens page
// the secrets just handed off to this browser and the tokens; the account
// page the address a change waits at and, unless a refused form brings one,
// the name.
func (s *Server) renderSection(c echo.Context, status int, section web.ProfileSection, f profileForms) error {
	sess := sessionFrom(c)
	v := web.Profile{
		Email: sess.User.Email, EmailVerified: sess.User.EmailVerified, CreatedAt: sess.User.CreatedAt,
		HasPassword: sess.User.HasPassword, IsAdmin: sess.User.IsAdmin,
		PasswordForm: f.password, TokenForm: f.token, EmailForm: f.email, DeleteForm: f.del, NameForm: f.name,
	}
	var err error
	switch section {
	case web.SectionSecurity:
		err = s.readSecurity(c, sess, &v)
	case web.SectionTokens:
		err = s.readTokens(c, sess, &v)
	case web.SectionAccount:
		err = s.readAccount(c, sess, &v)
	default:
		err = s.readConnections(c, sess, &v)
	}
	if err != nil {
		return fmt.Errorf("profile %s: %w", section.ID, err)
	}
	page := s.page(c, tr(c, "profile.page_title", i18n.Data{"Section": i18n.T(c.Request().Context(), section.Name)}))
	switch section {
	case web.SectionSecurity:
		return render(c, status, web.ProfileSecurityPage(page, v))
	case web.SectionTokens:
		return render(c, status, web.ProfileTokensPage(page, v))
	case web.SectionAccount:
		return render(c, status, web.ProfileAccountPage(page, v))
	}
	return render(c, status, web.ProfileConnectionsPage(page, v))
}

// handleNameChange changes the name the account goes by.
func (s *Server) handleNameChange() echo.HandlerFunc {
	return func(c echo.Context) error {
		name, err := s.opts.Accounts.SetName(c.Request().Context(), sessionFrom(c).UserID, c.FormValue("name"))
		if errors.Is(err, accounts.ErrBadName) {
			return s.renderProfile(c, http.StatusUnprocessableEntity, profileForms{name: web.NameForm{Name: c.FormValue("name"),
				Error: tr(c, "profile.name.bad")}})
		}
		if err != nil {
			return err
		}
		if name == "" {
			s.flash(c, "success", tr(c, "flash.profile.name_cleared"))
		} else {
			s.flash(c, "success", tr(c, "flash.profile.name_saved"))
		}
		return redirect(c, "/profile/account#display-name")
	}
}

func (s *Server) handlePasswordChange() echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := sessionFrom(c)
		pf := web.PasswordForm{Errors: map[string]string{}}
		ctx, current, newPassword := c.Request().Context(), c.FormValue("current_password"), c.FormValue("new_password")
		var err error
		if newPassword != c.FormValue("new_password_confirm") {
			pf.Errors["new_password_confirm"] = tr(c, "profile.password.mismatch")
			err = s.opts.Accounts.CheckPasswordChange(ctx, sess.UserID, current, newPassword) // the other fields' problems too
		} else {
			err = s.opts.Accounts.ChangePassword(ctx, sess.UserID, sess.ID, current, newPassword)
		}
		if localFieldErrors(c, pf.Errors, err) || len(pf.Errors) > 0 {
			return s.renderProfile(c, http.StatusUnprocessableEntity, profileForms{password: pf})
		}
		if err != nil {
			return err
		}
		s.flash(c, "success", tr(c, "flash.profile.password_changed"))
		return redirect(c, "/profile/security")
	}
}

// handleSessionsDelete ends the other sessions, or all of them including
// this one when scope=all.
func (s *Server) handleSessionsDelete() echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := sessionFrom(c)
		scope := c.FormValue("scope")
		if scope != "others" && scope != "all" {
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		keep := sess.ID
		if scope == "all" {
			keep = 0
		}
		n, err := s.opts.Accounts.EndSessions(c.Request().Context(), sess.UserID, keep)
		if err != nil {
			return err
		}
		if c.FormValue("revoke_tokens") == "1" {
			t, err := s.opts.Accounts.RevokeAllTokens(c.Request().Context(), sess.UserID)
			if err != nil {
				return err
			}
			s.flash(c, "info", trn(c, "flash.profile.tokens_revoked", int(t)))
		}
		if scope == "all" {
			s.clearCookie(c, s.cookies.session)
			c.Set(ctxSession, nil)
			s.flash(c, "info", tr(c, "flash.profile.logged_out_everywhere"))
			return redirect(c, "/login")
		}
		s.flash(c, "success", trn(c, "flash.profile.sessions_ended", int(n)))
		return redirect(c, "/profile/security#sessions")
	}
}

func (s *Server) handleSessionDelete() echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := sessionFrom(c)
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return accounts.ErrNotFound
		}
		if err := s.opts.Accounts.EndSessionByID(c.Request().Context(), sess.UserID, id); err != nil {
			return err
		}
		if id == sess.ID {
			s.clearCookie(c, s.cookies.session)
			c.Set(ctxSession, nil)
			s.flash(c, "info", tr(c, "flash.profile.logged_out"))
			return redirect(c, "/login")
		}
		s.flash(c, "success", tr(c, "flash.profile.session_ended"))
		return redirect(c, "/profile/security#sessions")
	}
}

// handleTokenCreate creates a personal access token and redirects to the
// tokens page (post/redirect/get), which shows the secret once at its top: the
// secret waits server-side, sealed and bound to this user and browser, for
// that one page view, so it is never in a URL, a cookie or a log, and a
// reload neither shows it again nor creates another token.
func (s *Server) handleTokenCreate() echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := sessionFrom(c)
		tf := web.TokenForm{Errors: map[string]string{}, Name: c.FormValue("name"),
			Scope: c.FormValue("scope"), ExpiresInDays: c.FormValue("expires_in_days")}
		nt := accounts.NewToken{Name: tf.Name, Scope: accounts.Scope(tf.Scope)}
		if days, err := strconv.Atoi(tf.ExpiresInDays); err != nil || days < 0 || days > 5*365 {
			tf.Errors["expires_at"] = tr(c, "profile.tokens.choose_expiry")
		} else if days > 0 {
			at := time.Now().AddDate(0, 0, days)
			nt.ExpiresAt = &at
		}
		var err error
		if len(tf.Errors) > 0 {
			err = accounts.CheckNewToken(sess.User, nt) // the other fields' problems too
		} else {
			_, err = s.opts.Accounts.CreateTokenHandOff(c.Request().Context(), sess.User, s.browserID(c), nt)
		}
		if localFieldErrors(c, tf.Errors, err) || len(tf.Errors) > 0 {
			return s.renderProfile(c, http.StatusUnprocessableEntity, profileForms{token: tf})
		}
		if err != nil {
			return err
		}
		return redirect(c, "/profile/tokens#new-token")
	}
}

func (s *Server) handleTokenDelete() echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return accounts.ErrNotFound
		}
		if err := s.opts.Accounts.RevokeToken(c.Request().Context(), sessionFrom(c).UserID, id); err != nil {
			return err
		}
		s.flash(c, "success", tr(c, "flash.profile.token_revoked"))
		return redirect(c, "/profile/tokens")
	}
}
