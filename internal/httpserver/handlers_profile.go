package httpserver

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/web"
)

func (s *Server) handleProfile() echo.HandlerFunc {
	return func(c echo.Context) error {
		return s.renderProfile(c, http.StatusOK, web.PasswordForm{})
	}
}

// renderProfile draws the profile page, with pf carrying any errors from a
// failed password change.
func (s *Server) renderProfile(c echo.Context, status int, pf web.PasswordForm) error {
	sess := sessionFrom(c)
	list, err := s.opts.Accounts.Sessions(c.Request().Context(), sess.UserID)
	if err != nil {
		return err
	}
	conns, err := s.opts.Links.Connections(c.Request().Context(), sess.UserID)
	if err != nil {
		return err
	}
	v := web.Profile{
		Email:            sess.User.Email,
		CreatedAt:        sess.User.CreatedAt,
		HasPassword:      sess.User.HasPassword,
		PasswordForm:     pf,
		Sessions:         make([]web.Session, 0, len(list)),
		Connections:      s.connectionViews(conns),
		ConnectProviders: s.providerButtons(),
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
		newPassword := c.FormValue("new_password")
		if newPassword != c.FormValue("new_password_confirm") {
			pf.Errors["new_password_confirm"] = "The two passwords do not match."
			return s.renderProfile(c, http.StatusUnprocessableEntity, pf)
		}
		err := s.opts.Accounts.ChangePassword(c.Request().Context(), sess.UserID, sess.ID, c.FormValue("current_password"), newPassword)
		var fe *accounts.FieldError
		if errors.As(err, &fe) {
			pf.Errors[fe.Field] = fe.Message
			return s.renderProfile(c, http.StatusUnprocessableEntity, pf)
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
