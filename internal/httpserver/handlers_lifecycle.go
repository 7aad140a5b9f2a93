package httpserver

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/web"
)

// handleAccountDelete deletes the signed-in account once the user typed its
// email (or DELETE); connections are revoked at their providers.
func (s *Server) handleAccountDelete() echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := sessionFrom(c)
		if err := accounts.CheckDeleteConfirmation(sess.User, c.FormValue("confirm_email")); err != nil {
			var fe *accounts.FieldError
			errors.As(err, &fe)
			return s.renderProfile(c, http.StatusUnprocessableEntity, profileForms{del: web.DeleteForm{Error: fieldErrorText(c.Request().Context(), fe)}})
		}
		if err := s.opts.Links.DeleteUser(c.Request().Context(), sess.UserID); err != nil {
			return err
		}
		s.clearCookie(c, s.cookies.session)
		c.Set(ctxSession, nil)
		s.flash(c, "info", tr(c, "flash.account_deleted"))
		return redirect(c, "/")
	}
}

// exportData is the download: the account, its connections (without
// tokens), sessions, API tokens (without secrets) and events.
type exportData struct {
	accounts.Export
	Connections []apiConnection `json:"connections"`
}

// handleExport downloads everything stored about the user as JSON.
func (s *Server) handleExport() echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := sessionFrom(c)
		ex, err := s.opts.Accounts.Export(c.Request().Context(), sess.UserID)
		if err != nil {
			return err
		}
		conns, err := s.opts.Links.Connections(c.Request().Context(), sess.UserID)
		if err != nil {
			return err
		}
		out := exportData{Export: ex, Connections: make([]apiConnection, 0, len(conns))}
		for _, cn := range conns {
			out.Connections = append(out.Connections, newAPIConnection(cn))
		}
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="dancecard-export-`+strconv.FormatInt(sess.UserID, 10)+`.json"`)
		return c.JSONPretty(http.StatusOK, out, "  ")
	}
}
