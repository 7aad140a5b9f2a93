package httpserver

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/i18n"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/ratelimit"
	"github.com/dancecard/dancecard/web"
)

// Limits on the forms that send mail: per network, and per address so
// nobody can fill one inbox from many networks.
var (
	mailPerIP      = ratelimit.Rule{Max: 20, Window: time.Hour}
	mailPerAddress = ratelimit.Rule{Max: 5, Window: time.Hour}
)

// mailAllowed counts one mail-sending request from this network to email.
func (s *Server) mailAllowed(c echo.Context, email string) (bool, error) {
	ctx := c.Request().Context()
	ok, _, err := s.opts.Limiter.Hit(ctx, "mail:ip:"+c.RealIP(), mailPerIP)
	if err != nil || !ok || email == "" {
		return ok, err
	}
	ok, _, err = s.opts.Limiter.Hit(ctx, "mail:to:"+email, mailPerAddress)
	return ok, err
}

// handleVerifyForm shows what a verification or email-change link would do
// and a button to do it; opening the link changes nothing.
func (s *Server) handleVerifyForm() echo.HandlerFunc {
	return func(c echo.Context) error {
		token := c.QueryParam("token")
		v := web.VerifyEmailPage{Token: token}
		info, err := s.opts.Accounts.PeekLink(c.Request().Context(), token, mail.PurposeVerifyEmail, mail.PurposeEmailChange)
		if err != nil {
			return s.renderLinkError(c, err, func(msg string) error {
				v.Error, v.Token = msg, ""
				return render(c, lookupError(err).status, web.VerifyEmail(s.page(c, tr(c, "verify.page_title")), v))
			})
		}
		v.Email, v.Change = info.Email, info.Purpose == mail.PurposeEmailChange
		return render(c, http.StatusOK, web.VerifyEmail(s.page(c, tr(c, "verify.page_title")), v))
	}
}

// renderLinkError shows a link's error on its page, or returns err when it
// is not the link's fault.
func (s *Server) renderLinkError(c echo.Context, err error, show func(msg string) error) error {
	if errors.Is(err, mail.ErrLinkNotFound) || errors.Is(err, mail.ErrLinkExpired) || errors.Is(err, mail.ErrLinkUsed) ||
		errors.Is(err, accounts.ErrEmailTaken) {
		_, msg := localError(c, err, "")
		return show(msg)
	}
	return err
}

func (s *Server) handleVerify() echo.HandlerFunc {
	return func(c echo.Context) error {
		v := web.VerifyEmailPage{}
		info, err := s.opts.Accounts.VerifyEmail(c.Request().Context(), c.FormValue("token"))
		if err != nil {
			return s.renderLinkError(c, err, func(msg string) error {
				v.Error = msg
				return render(c, lookupError(err).status, web.VerifyEmail(s.page(c, tr(c, "verify.page_title")), v))
			})
		}
		msg := tr(c, "flash.email_verified", i18n.Data{"Email": info.Email})
		if info.Purpose == mail.PurposeEmailChange {
			msg = tr(c, "flash.email_changed", i18n.Data{"Email": info.Email})
		}
		s.flash(c, "success", msg)
		if sessionFrom(c) != nil {
			return redirect(c, "/profile/account")
		}
		return redirect(c, "/login")
	}
}

// handleResendVerification mails the signed-in user a new link.
func (s *Server) handleResendVerification() echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := sessionFrom(c)
		if ok, err := s.mailAllowed(c, sess.User.Email); err != nil {
			return err
		} else if !ok {
			return errRateLimited
		}
		err := s.opts.Accounts.ResendVerification(c.Request().Context(), sess.UserID)
		if errors.Is(err, accounts.ErrAlreadyVerified) || errors.Is(err, accounts.ErrNoEmail) {
			_, msg := localError(c, err, "")
			s.flash(c, "info", msg)
			return redirect(c, "/profile/account")
		}
		if err != nil {
			return err
		}
		s.flash(c, "success", tr(c, "flash.verification_sent", i18n.Data{"Email": sess.User.Email}))
		return redirect(c, "/profile/account")
	}
}

// handleResendVerificationTo is the log-in page's "send a new link": it
// answers the same whether or not the address has an unverified account.
func (s *Server) handleResendVerificationTo() echo.HandlerFunc {
	return s.handleMailByAddress(s.opts.Accounts.ResendVerificationTo,
		i18n.ID("checkmail.resend_sent"))
}

// handleMailByAddress serves the forms that mail whoever owns an address
// typed by anyone: limited per network and per address, and answered with
// the same page (the message id, with {{.Email}} the address) whether or
// not it has an account.
func (s *Server) handleMailByAddress(send func(ctx context.Context, email string) error, messageID string) echo.HandlerFunc {
	return func(c echo.Context) error {
		email, err := accounts.NormalizeEmail(c.FormValue("email"))
		if err != nil {
			return err
		}
		if ok, err := s.mailAllowed(c, email); err != nil {
			return err
		} else if !ok {
			return errRateLimited
		}
		if err := send(c.Request().Context(), email); err != nil {
			return err
		}
		ctx := c.Request().Context()
		return render(c, http.StatusOK, web.CheckMail(s.page(c, tr(c, "checkmail.title")), web.CheckMailPage{Email: email,
			Message: i18n.T(ctx, messageID, i18n.Data{"Email": email})}))
	}
}

// handleEmailChange mails a confirmation link to the new address.
func (s *Server) handleEmailChange() echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := sessionFrom(c)
		email, _ := accounts.NormalizeEmail(c.FormValue("email"))
		if ok, err := s.mailAllowed(c, email); err != nil {
			return err
		} else if !ok {
			return errRateLimited
		}
		email, err := s.opts.Accounts.RequestEmailChange(c.Request().Context(), sess.UserID, c.FormValue("email"))
		var fe *accounts.FieldError
		if errors.As(err, &fe) {
			return s.renderProfile(c, http.StatusUnprocessableEntity, profileForms{email: web.EmailForm{Email: c.FormValue("email"), Error: fieldErrorText(c.Request().Context(), fe)}})
		}
		if err != nil {
			return err
		}
		s.flash(c, "success", tr(c, "flash.email_change_sent", i18n.Data{"Email": email}))
		return redirect(c, "/profile/account")
	}
}
