package httpserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/i18n"
	"github.com/dancecard/dancecard/internal/ratelimit"
	"github.com/dancecard/dancecard/web"
)

// passkeyLoginPerIP bounds the anonymous passkey ceremonies one address
// begins. The log-in page begins one on every view where the browser offers
// passkeys in its autofill, so the bound is generous; a passkey answer
// cannot be guessed, and the bound only keeps the ceremony table small.
var passkeyLoginPerIP = ratelimit.Rule{Max: 120, Window: 15 * time.Minute}

// passkeyAnswer is the body the passkey script posts: the ceremony it
// answers, the PublicKeyCredential as JSON, and a name (adding) or the path
// to go to next (logging in).
type passkeyAnswer struct {
	Ceremony   string          `json:"ceremony"`
	Credential json.RawMessage `json:"credential"`
	Name       string          `json:"name"`
	Next       string          `json:"next"`
}

// passkeyOptions answers the options of a ceremony just begun with the
// token that finds it again. The token alone finishes nothing: the
// ceremony is bound to this browser's HttpOnly browser cookie. It travels
// in the body, not in a cookie of its own, so the autofill's ceremony and
// a button's can wait side by side on one page.
func (s *Server) passkeyOptions(c echo.Context, options []byte, token string, err error) error {
	if err != nil {
		return s.passkeyError(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, struct {
		Ceremony string          `json:"ceremony"`
		Options  json.RawMessage `json:"options"`
	}{token, options})
}

// passkeyError answers the script with the error table's message as JSON;
// errors the table does not know go to the usual handler.
func (s *Server) passkeyError(c echo.Context, err error) error {
	if errors.Is(err, errPasskeyNoScript) {
		s.flash(c, "error", tr(c, "flash.passkeys_need_js"))
		if sessionFrom(c) != nil {
			return redirect(c, "/profile/security#passkeys")
		}
		return redirect(c, "/login")
	}
	var fe *accounts.FieldError
	if errors.As(err, &fe) {
		return c.JSON(http.StatusUnprocessableEntity, map[string]string{"error": fieldErrorText(c.Request().Context(), fe), "field": fe.Field})
	}
	for _, known := range passkeyRefusals {
		if errors.Is(err, known) {
			e := lookupError(known)
			_, msg := localError(c, known, "")
			s.opts.Logger.Info("passkey refused", "error", err.Error())
			return c.JSON(e.status, map[string]string{"error": msg})
		}
	}
	return err
}

// passkeyRefusals are the errors a passkey ceremony answers with their own
// status and words, as JSON for the page's script; anything else is a
// server error.
var passkeyRefusals = []error{accounts.ErrNoCeremony, accounts.ErrPasskeyRefused, accounts.ErrNoWebAuthn,
	accounts.ErrNotFound, accounts.ErrAccountDisabled, errRateLimited}

// errPasskeyNoScript: a passkey form was posted as a form, so the browser
// runs no JavaScript and cannot reach its passkeys.
var errPasskeyNoScript = errors.New("httpserver: passkey form posted without JavaScript")

func readPasskeyAnswer(c echo.Context) (passkeyAnswer, error) {
	var a passkeyAnswer
	if !strings.HasPrefix(c.Request().Header.Get("Content-Type"), "application/json") {
		return a, errPasskeyNoScript
	}
	if err := json.NewDecoder(c.Request().Body).Decode(&a); err != nil || len(a.Credential) == 0 {
		return a, accounts.ErrPasskeyRefused
	}
	return a, nil
}

func (s *Server) handlePasskeyOptions() echo.HandlerFunc {
	return func(c echo.Context) error {
		opts, token, err := s.opts.Accounts.BeginPasskeyRegistration(c.Request().Context(), sessionFrom(c).UserID, s.browserID(c))
		return s.passkeyOptions(c, opts, token, err)
	}
}

func (s *Server) handlePasskeyCreate() echo.HandlerFunc {
	return func(c echo.Context) error {
		a, err := readPasskeyAnswer(c)
		if err != nil {
			return s.passkeyError(c, err)
		}
		p, err := s.opts.Accounts.FinishPasskeyRegistration(c.Request().Context(), sessionFrom(c).UserID, s.browserID(c),
			a.Ceremony, a.Name, a.Credential)
		if err != nil {
			return s.passkeyError(c, err)
		}
		s.flash(c, "success", tr(c, "flash.passkey_added", i18n.Data{"Name": p.Name}))
		return c.JSON(http.StatusCreated, map[string]any{"id": p.ID, "name": p.Name, "next": "/profile/security#passkeys"})
	}
}

// handlePasskeyRename names one of the user's passkeys; a plain form, no
// script needed.
func (s *Server) handlePasskeyRename() echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return echo.ErrNotFound
		}
		err = s.opts.Accounts.RenamePasskey(c.Request().Context(), sessionFrom(c).UserID, id, c.FormValue("name"))
		var fe *accounts.FieldError
		switch {
		case errors.As(err, &fe):
			s.flash(c, "error", fieldErrorText(c.Request().Context(), fe))
		case err != nil:
			return err
		default:
			s.flash(c, "success", tr(c, "flash.passkey_renamed"))
		}
		return redirect(c, "/profile/security#passkeys")
	}
}

func (s *Server) handlePasskeyDelete() echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return echo.ErrNotFound
		}
		if err := s.opts.Accounts.RemovePasskey(c.Request().Context(), sessionFrom(c).UserID, id); err != nil {
			return err
		}
		s.flash(c, "success", tr(c, "flash.passkey_removed"))
		return redirect(c, "/profile/security#passkeys")
	}
}

func (s *Server) handlePasskeyLoginOptions() echo.HandlerFunc {
	return func(c echo.Context) error {
		if ok, _, err := s.opts.Limiter.Hit(c.Request().Context(), "passkey:ip:"+c.RealIP(), passkeyLoginPerIP); err != nil {
			return err
		} else if !ok {
			return s.passkeyError(c, errRateLimited)
		}
		opts, token, err := s.opts.Accounts.BeginPasskeyLogin(c.Request().Context(), s.browserID(c))
		return s.passkeyOptions(c, opts, token, err)
	}
}

// handlePasskeyLogin logs in the owner of the passkey that answered. It
// needs no second factor, so a log-in held for one in this browser is
// dropped.
func (s *Server) handlePasskeyLogin() echo.HandlerFunc {
	return func(c echo.Context) error {
		a, err := readPasskeyAnswer(c)
		if err != nil {
			return s.passkeyError(c, err)
		}
		old := ""
		if ck, err := c.Cookie(s.cookies.session); err == nil {
			old = ck.Value
		}
		_, session, err := s.opts.Accounts.FinishPasskeyLogin(c.Request().Context(), s.browserID(c), a.Ceremony, a.Credential, old)
		if err != nil {
			s.metrics.logins.WithLabelValues("passkey", "", "refused").Inc()
			return s.passkeyError(c, err)
		}
		s.metrics.logins.WithLabelValues("passkey", "", "ok").Inc()
		s.clearCookie(c, s.cookies.mfa)
		s.setSessionCookie(c, session)
		s.flash(c, "success", tr(c, "flash.logged_in"))
		return c.JSON(http.StatusOK, map[string]string{"next": orDefault(safeNext(a.Next), "/profile")})
	}
}

func (s *Server) handlePasskeyReauthOptions() echo.HandlerFunc {
	return func(c echo.Context) error {
		opts, token, err := s.opts.Accounts.BeginPasskeyReauth(c.Request().Context(), *sessionFrom(c), s.browserID(c))
		return s.passkeyOptions(c, opts, token, err)
	}
}

// handlePasskeyReauth counts the session as freshly authenticated when one
// of its user's own passkeys answers; the session stays the same.
func (s *Server) handlePasskeyReauth() echo.HandlerFunc {
	return func(c echo.Context) error {
		a, err := readPasskeyAnswer(c)
		if err != nil {
			return s.passkeyError(c, err)
		}
		sess := sessionFrom(c)
		if verdict, err := s.loginAllowed(c, sess.User.Email); err != nil {
			return err
		} else if verdict != loginOK {
			return s.passkeyError(c, errRateLimited)
		}
		if err := s.opts.Accounts.FinishPasskeyReauth(c.Request().Context(), *sess, s.browserID(c), a.Ceremony, a.Credential); err != nil {
			if errors.Is(err, accounts.ErrPasskeyRefused) {
				if err := s.loginFailed(c, sess.User.Email); err != nil {
					return err
				}
			}
			return s.passkeyError(c, err)
		}
		s.flash(c, "success", tr(c, "flash.reauth_done"))
		return c.JSON(http.StatusOK, map[string]string{"next": orDefault(safeNext(a.Next), "/profile")})
	}
}

// passkeyViews lists userID's passkeys for the profile.
func passkeyViews(keys []accounts.Passkey) []web.Passkey {
	out := make([]web.Passkey, 0, len(keys))
	for _, k := range keys {
		out = append(out, web.Passkey{ID: strconv.FormatInt(k.ID, 10), Name: k.Name, CreatedAt: k.CreatedAt,
			LastUsedAt: k.LastUsedAt, Synced: k.BackupState})
	}
	return out
}
