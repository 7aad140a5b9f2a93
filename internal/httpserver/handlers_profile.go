package httpserver

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/web"
)

func (s *Server) handleProfile() echo.HandlerFunc {
	return func(c echo.Context) error {
		return s.renderProfile(c, http.StatusOK, profileForms{})
	}
}

// profileForms carries the state of the profile's forms after a POST that
// renders the page again: errors, or a token to show once.
type profileForms struct {
	password web.PasswordForm
	token    web.TokenForm
	email    web.EmailForm
	del      web.DeleteForm
}

// renderProfile draws the profile page with the forms' state.
func (s *Server) renderProfile(c echo.Context, status int, f profileForms) error {
	sess := sessionFrom(c)
	// Everything the page shows comes back in one round trip.
	var list []accounts.Session
	var conns []links.Connection
	var toks []accounts.APIToken
	var pending string
	var mfa accounts.MFA
	var passkeys []accounts.Passkey
	var handed []accounts.ShownToken
	b := &pgx.Batch{}
	s.opts.Accounts.QueueSessions(b, sess.UserID, &list)
	s.opts.Links.QueueConnections(b, sess.UserID, &conns)
	s.opts.Accounts.QueueTokens(b, sess.UserID, &toks)
	s.opts.Accounts.QueuePendingEmail(b, sess.UserID, &pending)
	s.opts.Accounts.QueueMFAStatus(b, sess.UserID, &mfa)
	s.opts.Accounts.QueuePasskeys(b, sess.UserID, &passkeys)
	// A token just created on this browser: shown on this view only.
	s.opts.Accounts.QueueTokenHandOffs(b, sess.UserID, s.browserID(c), &handed)
	if err := s.opts.DB.SendBatch(c.Request().Context(), b).Close(); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	keys := passkeyViews(passkeys)
	v := web.Profile{
		Email:            sess.User.Email,
		EmailVerified:    sess.User.EmailVerified,
		PendingEmail:     pending,
		MFA:              web.MFASection{TOTP: mfa.TOTP, RecoveryCodesLeft: mfa.RecoveryCodesLeft, Passkeys: mfa.Passkeys},
		Passkeys:         keys,
		EmailForm:        f.email,
		DeleteForm:       f.del,
		CreatedAt:        sess.User.CreatedAt,
		HasPassword:      sess.User.HasPassword,
		PasswordForm:     f.password,
		IsAdmin:          sess.User.IsAdmin,
		TokenForm:        f.token,
		Sessions:         make([]web.Session, 0, len(list)),
		Connections:      s.connectionViews(conns),
		ConnectProviders: s.providerButtons(),
	}
	for _, t := range handed {
		v.NewTokens = append(v.NewTokens, web.NewToken{Name: t.Name, Scope: string(t.Scope), Secret: t.Secret, ExpiresAt: t.ExpiresAt})
	}
	for _, t := range toks {
		v.Tokens = append(v.Tokens, web.APIToken{ID: strconv.FormatInt(t.ID, 10), Name: t.Name, Scope: string(t.Scope),
			Prefix: t.Prefix, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt})
	}
	for _, ss := range list {
		// The current session comes first: it is the one people look for.
		v.Sessions = append(v.Sessions, web.Session{
			ID: strconv.FormatInt(ss.ID, 10), CreatedAt: ss.CreatedAt, LastSeenAt: ss.LastSeenAt,
			UserAgent: ss.UserAgent, IP: ss.IP, Current: ss.ID == sess.ID,
		})
	}
	slices.SortStableFunc(v.Sessions, func(a, b web.Session) int {
		switch {
		case a.Current == b.Current:
			return 0
		case a.Current:
			return -1
		default:
			return 1
		}
	})
	return render(c, status, web.ProfilePage(s.page(c, "Your profile"), v))
}

func (s *Server) handlePasswordChange() echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := sessionFrom(c)
		pf := web.PasswordForm{Errors: map[string]string{}}
		ctx, current, newPassword := c.Request().Context(), c.FormValue("current_password"), c.FormValue("new_password")
		var err error
		if newPassword != c.FormValue("new_password_confirm") {
			pf.Errors["new_password_confirm"] = "The two passwords do not match."
			err = s.opts.Accounts.CheckPasswordChange(ctx, sess.UserID, current, newPassword) // the other fields' problems too
		} else {
			err = s.opts.Accounts.ChangePassword(ctx, sess.UserID, sess.ID, current, newPassword)
		}
		if addFieldErrors(pf.Errors, err) || len(pf.Errors) > 0 {
			return s.renderProfile(c, http.StatusUnprocessableEntity, profileForms{password: pf})
		}
		if err != nil {
			return err
		}
		s.flash(c, "success", "Your password has been changed. Your other sessions were logged out.")
		return redirect(c, "/profile")
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
			s.flash(c, "info", "Revoked "+plural(t, "API token")+".")
		}
		if scope == "all" {
			s.clearCookie(c, s.cookies.session)
			c.Set(ctxSession, nil)
			s.flash(c, "info", "You have been logged out everywhere.")
			return redirect(c, "/login")
		}
		s.flash(c, "success", "Logged out "+plural(n, "other session")+".")
		return redirect(c, "/profile")
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
			s.flash(c, "info", "You have been logged out.")
			return redirect(c, "/login")
		}
		s.flash(c, "success", "That session has been ended.")
		return redirect(c, "/profile")
	}
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}

// connectionViews turns connections into what the profile shows; the first
// (highest-ranked) account at each provider is its primary.
func (s *Server) connectionViews(conns []links.Connection) []web.Connection {
	names := make(map[string]string, len(s.opts.Providers))
	for _, p := range s.opts.Providers {
		names[p.ID] = p.Name
	}
	out := make([]web.Connection, 0, len(conns))
	seen := map[string]bool{}
	for _, c := range conns {
		out = append(out, web.Connection{
			ID: strconv.FormatInt(c.ID, 10), Provider: c.Provider, ProviderName: orDefault(names[c.Provider], c.Provider),
			Username: c.Username, Name: c.Name, ProfileURL: c.ProfileURL, AvatarURL: c.AvatarURL, Email: c.Email,
			Scopes: c.Scopes, Status: string(c.Status), Primary: !seen[c.Provider],
			CreatedAt: c.CreatedAt, LastUsedAt: c.LastUsedAt,
		})
		seen[c.Provider] = true
	}
	return out
}

// handleTokenCreate creates a personal access token and redirects to the
// profile (post/redirect/get), which shows the secret once at its top: the
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
			tf.Errors["expires_at"] = "Choose when the token expires."
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
		if addFieldErrors(tf.Errors, err) || len(tf.Errors) > 0 {
			return s.renderProfile(c, http.StatusUnprocessableEntity, profileForms{token: tf})
		}
		if err != nil {
			return err
		}
		return redirect(c, "/profile#new-token")
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
		s.flash(c, "success", "The token has been revoked. Programs using it can no longer call the API.")
		return redirect(c, "/profile#tokens")
	}
}
