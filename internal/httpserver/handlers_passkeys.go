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
	"github.com/dancecard/dancecard/internal/ratelimit"
	"github.com/dancecard/dancecard/web"
)

// passkeyLoginPerIP bounds anonymous passkey ceremonies from one address.
var passkeyLoginPerIP = ratelimit.Rule{Max: 30, Window: 15 * time.Minute}

// passkeyAnswer is the body the passkey script posts: the PublicKeyCredential
// as JSON, and a name (adding) or the path to go to next (logging in).
type passkeyAnswer struct {
	Credential json.RawMessage `json:"credential"`
	Name       string          `json:"name"`
	Next       string          `json:"next"`
}

func (s *Server) passkeyToken(c echo.Context) string {
	if ck, err := c.Cookie(s.cookies.passkey); err == nil && len(ck.Value) <= 128 {
		return ck.Value
	}
	return ""
}

// passkeyOptions answers the options of a ceremony just begun, keeping its
// token in an HttpOnly cookie for the answer.
func (s *Server) passkeyOptions(c echo.Context, options []byte, token string, err error) error {
	if err != nil {
		return s.passkeyError(c, err)
	}
	s.setCookie(c, s.cookies.passkey, token, int((5 * time.Minute).Seconds()))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSONBlob(http.StatusOK, options)
}

// passkeyError answers the script with the error table's message as JSON;
// errors the table does not know go to the usual handler.
func (s *Server) passkeyError(c echo.Context, err error) error {
	if errors.Is(err, errPasskeyNoScript) {
		s.flash(c, "error", "Passkeys need JavaScript. Turn it on, or use another way to log in.")
		if sessionFrom(c) != nil {
			return redirect(c, "/profile#passkeys")
		}
		return redirect(c, "/login")
	}
	var fe *accounts.FieldError
	if errors.As(err, &fe) {
		return c.JSON(http.StatusUnprocessableEntity, map[string]string{"error": fe.Message, "field": fe.Field})
	}
	for _, known := range []error{accounts.ErrNoCeremony, accounts.ErrPasskeyRefused, accounts.ErrNoWebAuthn,
		accounts.ErrNotFound, accounts.ErrAccountDisabled, errRateLimited} {
		if errors.Is(err, known) {
			e := lookupError(known)
			s.opts.Logger.Info("passkey refused", "error", err.Error())
			return c.JSON(e.status, map[string]string{"error": e.message})
		}
	}
	return err
}

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
		token := s.passkeyToken(c)
		s.clearCookie(c, s.cookies.passkey)
		p, err := s.opts.Accounts.FinishPasskeyRegistration(c.Request().Context(), sessionFrom(c).UserID, s.browserID(c),
			token, a.Name, a.Credential)
		if err != nil {
			return s.passkeyError(c, err)
		}
		s.flash(c, "success", "Passkey “"+p.Name+"” added.")
		return c.JSON(http.StatusCreated, map[string]any{"id": p.ID, "name": p.Name, "next": "/profile#passkeys"})
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
		s.flash(c, "success", "Passkey removed.")
		return redirect(c, "/profile#passkeys")
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
		token := s.passkeyToken(c)
		s.clearCookie(c, s.cookies.passkey)
		_, session, err := s.opts.Accounts.FinishPasskeyLogin(c.Request().Context(), s.browserID(c), token, a.Credential, old)
		if err != nil {
			s.metrics.logins.WithLabelValues("passkey", "", "refused").Inc()
			return s.passkeyError(c, err)
		}
		s.metrics.logins.WithLabelValues("passkey", "", "ok").Inc()
		s.clearCookie(c, s.cookies.mfa)
		s.setSessionCookie(c, session)
		s.flash(c, "success", "You are logged in.")
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
