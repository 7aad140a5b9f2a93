package httpserver

import (
	"crypto/hmac"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/i18n"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/ratelimit"
	"github.com/dancecard/dancecard/web"
)

// Log-in limits an attacker cannot turn against an account's owner.
// Failures are counted per account and source, so guessing from one
// network stops that network only; the per-account limit, counted across
// all sources, slows a distributed guesser but still lets in a browser
// that logged in to the account before (the device cookie) or that
// followed a mailed unlock link. A success clears only its own source's
// count, never the failures counted elsewhere.
var (
	loginPerIP      = ratelimit.Rule{Max: 30, Window: 5 * time.Minute}  // every attempt from a network
	loginPerSource  = ratelimit.Rule{Max: 10, Window: 15 * time.Minute} // failures for one account from one network
	loginPerAccount = ratelimit.Rule{Max: 50, Window: 15 * time.Minute} // failures for one account from anywhere
	deviceCookieAge = 180 * 24 * time.Hour
)

type loginVerdict int

const (
	loginOK            loginVerdict = iota
	loginThrottled                  // this network tried too often
	loginAccountLocked              // the account is under attack and this browser is unknown to it
)

func sourceKey(email, ip string) string { return "login:source:" + email + ":" + ip }

// loginAllowed decides whether a password attempt for email may be tried.
func (s *Server) loginAllowed(c echo.Context, email string) (loginVerdict, error) {
	ctx := c.Request().Context()
	ok, _, err := s.opts.Limiter.Hit(ctx, "login:ip:"+c.RealIP(), loginPerIP)
	if err != nil || !ok {
		return loginThrottled, err
	}
	if email == "" {
		return loginOK, nil
	}
	if ok, _, err := s.opts.Limiter.Peek(ctx, sourceKey(email, c.RealIP()), loginPerSource); err != nil || !ok {
		return loginThrottled, err
	}
	if s.knownDevice(c, email) {
		return loginOK, nil
	}
	if ok, _, err := s.opts.Limiter.Peek(ctx, "login:account:"+email, loginPerAccount); err != nil || !ok {
		return loginAccountLocked, err
	}
	return loginOK, nil
}

// loginFailed counts a wrong password for email from this network.
func (s *Server) loginFailed(c echo.Context, email string) error {
	if email == "" {
		return nil
	}
	ctx := c.Request().Context()
	if _, _, err := s.opts.Limiter.Hit(ctx, sourceKey(email, c.RealIP()), loginPerSource); err != nil {
		return err
	}
	_, _, err := s.opts.Limiter.Hit(ctx, "login:account:"+email, loginPerAccount)
	return err
}

// loginSucceeded clears this network's failures and remembers the browser.
func (s *Server) loginSucceeded(c echo.Context, email string) {
	if email == "" {
		return
	}
	_ = s.opts.Limiter.Reset(c.Request().Context(), sourceKey(email, c.RealIP()))
	s.rememberDevice(c, email)
}

// rememberDevice gives the browser a signed note that it logged in to
// email, so the per-account limit does not keep it out later.
func (s *Server) rememberDevice(c echo.Context, email string) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	s.setCookie(c, s.cookies.device, ts+"."+s.sign("device", email+"\x00"+ts), int(deviceCookieAge.Seconds()))
}

func (s *Server) knownDevice(c echo.Context, email string) bool {
	ck, err := c.Cookie(s.cookies.device)
	if err != nil || len(ck.Value) > 256 {
		return false
	}
	ts, sig, ok := strings.Cut(ck.Value, ".")
	at, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || time.Since(time.Unix(at, 0)) > deviceCookieAge {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(s.sign("device", email+"\x00"+ts)))
}

// handleUnlockRequest mails an unlock link; the page is the same whether or
// not the address has an account.
func (s *Server) handleUnlockRequest() echo.HandlerFunc {
	return s.handleMailByAddress(s.opts.Accounts.RequestUnlock,
		i18n.ID("checkmail.unlock_sent"))
}

func (s *Server) handleUnlockForm() echo.HandlerFunc {
	return func(c echo.Context) error {
		u := web.UnlockPage{Token: c.QueryParam("token")}
		if _, err := s.opts.Accounts.PeekLink(c.Request().Context(), u.Token, mail.PurposeLoginUnlock); err != nil {
			return s.renderLinkError(c, err, func(msg string) error {
				u = web.UnlockPage{Error: msg}
				return render(c, lookupError(err).status, web.Unlock(s.page(c, tr(c, "mail.unlock.action")), u))
			})
		}
		return render(c, http.StatusOK, web.Unlock(s.page(c, tr(c, "mail.unlock.action")), u))
	}
}

// handleUnlock uses the link: this browser counts as known to the account.
func (s *Server) handleUnlock() echo.HandlerFunc {
	return func(c echo.Context) error {
		email, err := s.opts.Accounts.Unlock(c.Request().Context(), c.FormValue("token"))
		if err != nil {
			return s.renderLinkError(c, err, func(msg string) error {
				return render(c, lookupError(err).status, web.Unlock(s.page(c, tr(c, "mail.unlock.action")), web.UnlockPage{Error: msg}))
			})
		}
		s.rememberDevice(c, email)
		s.flash(c, "success", tr(c, "flash.unlocked", i18n.Data{"Email": email}))
		return redirect(c, "/login")
	}
}
