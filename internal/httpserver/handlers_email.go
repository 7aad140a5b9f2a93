package httpserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
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
				return render(c, lookupError(err).status, web.VerifyEmail(s.page(c, "Confirm your email"), v))
			})
		}
		v.Email, v.Change = info.Email, info.Purpose == mail.PurposeEmailChange
		return render(c, http.StatusOK, web.VerifyEmail(s.page(c, "Confirm your email"), v))
	}
}

// renderLinkError shows a link's error on its page, or returns err when it
// is not the link's fault.
func (s *Server) renderLinkError(c echo.Context, err error, show func(msg string) error) error {
	if errors.Is(err, mail.ErrLinkNotFound) || errors.Is(err, mail.ErrLinkExpired) || errors.Is(err, mail.ErrLinkUsed) ||
		errors.Is(err, accounts.ErrEmailTaken) {
		return show(lookupError(err).message)
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
				return render(c, lookupError(err).status, web.VerifyEmail(s.page(c, "Confirm your email"), v))
			})
		}
		msg := "Thanks! " + info.Email + " is verified."
		if info.Purpose == mail.PurposeEmailChange {
			msg = "Your email address is now " + info.Email + "."
		}
		s.flash(c, "success", msg)
		if sessionFrom(c) != nil {
			return redirect(c, "/profile")
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
			s.flash(c, "info", lookupError(err).message)
			return redirect(c, "/profile")
		}
		if err != nil {
			return err
		}
		s.flash(c, "success", "We sent a new verification link to "+sess.User.Email+". Older links no longer work.")
		return redirect(c, "/profile")
	}
}

// handleResendVerificationTo is the log-in page's "send a new link": it
// answers the same whether or not the address has an unverified account.
func (s *Server) handleResendVerificationTo() echo.HandlerFunc {
	return s.handleMailByAddress(s.opts.Accounts.ResendVerificationTo,
		"If %s belongs to an account that still needs verifying, a new link is on its way.")
}

// handleMailByAddress serves the forms that mail whoever owns an address
// typed by anyone: limited per network and per address, and answered with
// the same page (message, with %s the address) whether or not it has an
// account.
func (s *Server) handleMailByAddress(send func(ctx context.Context, email string) error, message string) echo.HandlerFunc {
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
		return render(c, http.StatusOK, web.CheckMail(s.page(c, "Check your mail"), web.CheckMailPage{Email: email,
			Message: fmt.Sprintf(message, email)}))
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
			return s.renderProfile(c, http.StatusUnprocessableEntity, profileForms{email: web.EmailForm{Email: c.FormValue("email"), Error: fe.Message}})
		}
		if err != nil {
			return err
		}
		s.flash(c, "success", "We sent a confirmation link to "+email+". Your address changes when you open it there.")
		return redirect(c, "/profile")
	}
}
