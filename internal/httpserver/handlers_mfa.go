package httpserver

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/ratelimit"
	"github.com/dancecard/dancecard/web"
)

// mfaPerAccount bounds second-step codes per account across held log-ins:
// each hold allows 5, and a new password log-in makes a new hold.
var mfaPerAccount = ratelimit.Rule{Max: 20, Window: 15 * time.Minute}

// holdLogin parks a log-in whose password (or provider) was right until the
// second step, and sends the browser there.
func (s *Server) holdLogin(c echo.Context, userID int64, method, provider, next string) error {
	token, err := s.opts.Accounts.HoldLogin(c.Request().Context(), userID, s.browserID(c), method, provider)
	if err != nil {
		return err
	}
	s.setCookie(c, s.cookies.mfa, token, int((5 * time.Minute).Seconds()))
	target := "/login/mfa"
	if next != "" {
		target += "?next=" + url.QueryEscape(next)
	}
	return redirect(c, target)
}

func (s *Server) mfaToken(c echo.Context) string {
	if ck, err := c.Cookie(s.cookies.mfa); err == nil && len(ck.Value) <= 128 {
		return ck.Value
	}
	return ""
}

func (s *Server) handleMFALoginForm() echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := s.opts.Accounts.PendingLogin(c.Request().Context(), s.mfaToken(c), s.browserID(c)); err != nil {
			return s.restartLogin(c, err)
		}
		return render(c, http.StatusOK, web.MFALogin(s.page(c, tr(c, "mfa.title")), web.MFALoginForm{Next: safeNext(c.QueryParam("next"))}))
	}
}

// restartLogin sends the browser back to /login when its held log-in is
// gone, expired, or used up its attempts.
func (s *Server) restartLogin(c echo.Context, err error) error {
	if !errors.Is(err, accounts.ErrNoPending) && !errors.Is(err, accounts.ErrTooManyAttempts) {
		return err
	}
	s.clearCookie(c, s.cookies.mfa)
	msg := tr(c, "flash.login_expired")
	if errors.Is(err, accounts.ErrTooManyAttempts) {
		msg = tr(c, "flash.too_many_codes")
	}
	s.flash(c, "error", msg)
	return redirect(c, "/login")
}

func (s *Server) handleMFALogin() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		form := web.MFALoginForm{Next: safeNext(c.FormValue("next"))}
		token, browser := s.mfaToken(c), s.browserID(c)
		p, err := s.opts.Accounts.PendingLogin(ctx, token, browser)
		if err != nil {
			return s.restartLogin(c, err)
		}
		if ok, _, err := s.opts.Limiter.Hit(ctx, "mfa:account:"+strconv.FormatInt(p.UserID, 10), mfaPerAccount); err != nil {
			return err
		} else if !ok {
			_, form.Error = localError(c, errRateLimited, "")
			return render(c, http.StatusTooManyRequests, web.MFALogin(s.page(c, tr(c, "mfa.title")), form))
		}
		old := ""
		if ck, err := c.Cookie(s.cookies.session); err == nil {
			old = ck.Value
		}
		_, session, err := s.opts.Accounts.CompleteLogin(ctx, token, browser, c.FormValue("code"), old)
		var fe *accounts.FieldError
		switch {
		case errors.As(err, &fe):
			s.metrics.passwordLogin("wrong_second_factor")
			form.Error = fieldErrorText(c.Request().Context(), fe)
			return render(c, http.StatusUnauthorized, web.MFALogin(s.page(c, tr(c, "mfa.title")), form))
		case err != nil:
			return s.restartLogin(c, err)
		}
		s.clearCookie(c, s.cookies.mfa)
		s.setSessionCookie(c, session)
		s.flash(c, "success", tr(c, "flash.logged_in"))
		return redirect(c, orDefault(form.Next, "/profile"))
	}
}

// handleTOTPBegin shows a new authenticator secret to scan.
func (s *Server) handleTOTPBegin() echo.HandlerFunc {
	return func(c echo.Context) error {
		en, err := s.opts.Accounts.BeginTOTP(c.Request().Context(), sessionFrom(c).UserID)
		if err != nil {
			return err
		}
		v, err := totpPage(en.Secret, en.URI)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, web.TOTPEnrol(s.page(c, tr(c, "mfa.setup_title")), v))
	}
}

// totpPage draws the enrolment page, QR code included, server-side.
func totpPage(secret, uri string) (web.TOTPEnrolPage, error) {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return web.TOTPEnrolPage{}, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return web.TOTPEnrolPage{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return web.TOTPEnrolPage{}, err
	}
	return web.TOTPEnrolPage{Secret: secret, URI: uri,
		QRDataURI: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

func (s *Server) handleTOTPConfirm() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		uid := sessionFrom(c).UserID
		codes, err := s.opts.Accounts.ConfirmTOTP(ctx, uid, c.FormValue("code"))
		var fe *accounts.FieldError
		switch {
		case errors.As(err, &fe):
			// The pending secret stays; show it again from a fresh begin
			// would replace it, so the page is drawn from what was posted.
			v, perr := totpPage(c.FormValue("secret"), c.FormValue("uri"))
			if perr != nil {
				return redirect(c, "/profile/security#mfa")
			}
			v.Error = fieldErrorText(c.Request().Context(), fe)
			return render(c, http.StatusUnprocessableEntity, web.TOTPEnrol(s.page(c, tr(c, "mfa.setup_title")), v))
		case errors.Is(err, accounts.ErrNoEnrolment):
			s.flash(c, "error", tr(c, "flash.totp_restart"))
			return redirect(c, "/profile/security#mfa")
		case err != nil:
			return err
		}
		s.flash(c, "success", tr(c, "flash.mfa_on"))
		if len(codes) == 0 {
			return redirect(c, "/profile/security#mfa")
		}
		return s.renderRecoveryCodes(c, codes)
	}
}

func (s *Server) renderRecoveryCodes(c echo.Context, codes []string) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, web.RecoveryCodes(s.page(c, tr(c, "mfa.codes_title")), web.RecoveryCodesPage{Codes: codes}))
}

func (s *Server) handleTOTPDisable() echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.opts.Accounts.DisableTOTP(c.Request().Context(), sessionFrom(c).UserID); err != nil &&
			!errors.Is(err, accounts.ErrNoSecondFactor) {
			return err
		}
		s.flash(c, "success", tr(c, "flash.mfa_off"))
		return redirect(c, "/profile/security#mfa")
	}
}

func (s *Server) handleRecoveryCodesRegenerate() echo.HandlerFunc {
	return func(c echo.Context) error {
		codes, err := s.opts.Accounts.RegenerateRecoveryCodes(c.Request().Context(), sessionFrom(c).UserID)
		if errors.Is(err, accounts.ErrNoSecondFactor) {
			s.flash(c, "error", tr(c, "flash.totp_first"))
			return redirect(c, "/profile/security#mfa")
		}
		if err != nil {
			return err
		}
		return s.renderRecoveryCodes(c, codes)
	}
}

func (s *Server) adminResetMFA(c echo.Context, adminID, userID int64) (string, error) {
	return tr(c, "flash.admin_mfa_reset"),
		s.opts.Accounts.ResetSecondFactors(c.Request().Context(), adminID, userID)
}
