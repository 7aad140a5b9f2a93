package httpserver

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/i18n"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/web"
)

// adminSendReset mails the user a password-reset link; the administrator
// never sees it.
func (s *Server) adminSendReset(c echo.Context, adminID, userID int64) (string, error) {
	err := s.opts.Accounts.SendPasswordReset(c.Request().Context(), userID)
	if err != nil {
		return "", err // accounts.ErrNoEmail has its own message
	}
	return tr(c, "flash.admin.reset_sent"), nil
}

// adminResendVerification mails the user a new verification link.
func (s *Server) adminResendVerification(c echo.Context, adminID, userID int64) (string, error) {
	err := s.opts.Accounts.ResendVerification(c.Request().Context(), userID)
	switch {
	case errors.Is(err, accounts.ErrAlreadyVerified):
		return tr(c, "flash.admin.already_verified"), nil
	case err != nil:
		return "", err // accounts.ErrNoEmail has its own message
	}
	return tr(c, "flash.admin.verification_sent"), nil
}

// mailParams are the query parameters of the failed mail page.
var mailParams = []string{"cursor", "limit"}

// handleAdminMail lists a page of mail parked as dead after its last
// attempt failed.
func (s *Server) handleAdminMail() echo.HandlerFunc {
	return func(c echo.Context) error {
		err := knownParams(c, mailParams)
		var mq admin.MailQuery
		if err == nil {
			mq, err = admin.ParseMailQuery(c.QueryParams().Get)
		}
		var page admin.Page[admin.MailRow]
		if err == nil {
			page, err = s.opts.Admin.FailedMail(c.Request().Context(), mq)
		}
		var v web.AdminMailPage
		if v.Error, err = filterMessage(c, err); err != nil {
			return err
		}
		v.Failed = page.Rows
		v.Pager = pagerOf(c, page, "mail")
		return render(c, statusFor(v.Error), web.AdminMail(s.page(c, tr(c, "admin.mail.title")), v))
	}
}

// handleAdminMailRetry queues a dead mail again, with a fresh link.
func (s *Server) handleAdminMailRetry() echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		if err := mail.Retry(c.Request().Context(), s.opts.DB, id, sessionFrom(c).UserID); err != nil {
			return err
		}
		s.flash(c, "success", tr(c, "flash.admin.mail_queued", i18n.Data{"ID": id}))
		return redirect(c, "/admin/mail")
	}
}
