package httpserver

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/web"
)

func (s *Server) handleForgotForm() echo.HandlerFunc {
	return func(c echo.Context) error {
		return render(c, http.StatusOK, web.ForgotPassword(s.page(c, tr(c, "login.forgot")), web.ForgotPasswordForm{}))
	}
}

// handleForgot answers the same page whether or not the address has an
// account; only its inbox learns the difference.
func (s *Server) handleForgot() echo.HandlerFunc {
	return func(c echo.Context) error {
		f := web.ForgotPasswordForm{Email: c.FormValue("email")}
		email, err := accounts.NormalizeEmail(f.Email)
		var fe *accounts.FieldError
		if errors.As(err, &fe) {
			f.Error = fieldErrorText(c.Request().Context(), fe)
			return render(c, http.StatusUnprocessableEntity, web.ForgotPassword(s.page(c, tr(c, "login.forgot")), f))
		}
		if ok, err := s.mailAllowed(c, email); err != nil {
			return err
		} else if !ok {
			_, f.Error = localError(c, errRateLimited, "")
			return render(c, http.StatusTooManyRequests, web.ForgotPassword(s.page(c, tr(c, "login.forgot")), f))
		}
		if err := s.opts.Accounts.RequestPasswordReset(c.Request().Context(), email); err != nil {
			return err
		}
		f.Sent = true
		return render(c, http.StatusOK, web.ForgotPassword(s.page(c, tr(c, "checkmail.title")), f))
	}
}

func (s *Server) handleResetForm() echo.HandlerFunc {
	return func(c echo.Context) error {
		f := web.ResetPasswordForm{Token: c.QueryParam("token")}
		info, err := s.opts.Accounts.PeekLink(c.Request().Context(), f.Token, mail.PurposePasswordReset)
		if err != nil {
			return s.renderLinkError(c, err, func(msg string) error {
				f = web.ResetPasswordForm{Invalid: true, Error: msg}
				return render(c, lookupError(err).status, web.ResetPassword(s.page(c, tr(c, "password.page_title")), f))
			})
		}
		f.Email = info.Email
		return render(c, http.StatusOK, web.ResetPassword(s.page(c, tr(c, "password.page_title")), f))
	}
}

// handleReset sets the new password. A password the rules refuse keeps
// the link usable; success ends every session, so the user logs in anew.
func (s *Server) handleReset() echo.HandlerFunc {
	return func(c echo.Context) error {
		f := web.ResetPasswordForm{Token: c.FormValue("token"), Errors: map[string]string{}}
		password := c.FormValue("password")
		title := tr(c, "password.page_title")
		if info, err := s.opts.Accounts.PeekLink(c.Request().Context(), f.Token, mail.PurposePasswordReset); err == nil {
			f.Email = info.Email
		}
		var err error
		if password != c.FormValue("password_confirm") {
			f.Errors["password_confirm"] = tr(c, "field_error.passwords_differ")
			err = accounts.CheckPassword("password", password, f.Email) // the password's own problems too
		} else {
			_, err = s.opts.Accounts.ResetPassword(c.Request().Context(), f.Token, password)
		}
		if localFieldErrors(c, f.Errors, err) || len(f.Errors) > 0 {
			return render(c, http.StatusUnprocessableEntity, web.ResetPassword(s.page(c, title), f))
		}
		if err != nil {
			return s.renderLinkError(c, err, func(msg string) error {
				f = web.ResetPasswordForm{Invalid: true, Error: msg}
				return render(c, lookupError(err).status, web.ResetPassword(s.page(c, title), f))
			})
		}
		s.clearCookie(c, s.cookies.session)
		c.Set(ctxSession, nil)
		s.flash(c, "success", tr(c, "flash.password_reset"))
		return redirect(c, "/login")
	}
}
