package httpserver

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/i18n"
	"github.com/dancecard/dancecard/internal/ratelimit"
	"github.com/dancecard/dancecard/web"
)

// Limits on creating accounts; the log-in limits are in login_limits.go.
var signupPerIP = ratelimit.Rule{Max: 10, Window: time.Hour}

func (s *Server) handleHome() echo.HandlerFunc {
	return func(c echo.Context) error {
		return render(c, http.StatusOK, web.Home(s.page(c, tr(c, "home.page_title"))))
	}
}

func (s *Server) handleSignupForm() echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.opts.SignupLocal {
			title := tr(c, "signup.closed_title")
			return render(c, http.StatusNotFound, web.ErrorPage(s.page(c, title), http.StatusNotFound,
				title, tr(c, "signup.closed_message")))
		}
		if sessionFrom(c) != nil {
			return redirect(c, "/profile")
		}
		return render(c, http.StatusOK, web.Signup(s.page(c, tr(c, "signup.title")), web.SignupForm{}))
	}
}

func (s *Server) handleSignup() echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.opts.SignupLocal {
			return echo.ErrNotFound
		}
		form := web.SignupForm{Email: c.FormValue("email"), Errors: map[string]string{}}
		password := c.FormValue("password")
		if ok, _, err := s.opts.Limiter.Hit(c.Request().Context(), "signup:ip:"+c.RealIP(), signupPerIP); err != nil {
			return err
		} else if !ok {
			form.Error = tr(c, "signup.too_many")
			return render(c, http.StatusTooManyRequests, web.Signup(s.page(c, tr(c, "signup.title")), form))
		}
		if password != c.FormValue("password_confirm") {
			form.Errors["password_confirm"] = tr(c, "field_error.passwords_differ")
			_, err := accounts.CheckSignUp(form.Email, password) // the other fields' problems too
			localFieldErrors(c, form.Errors, err)
			return render(c, http.StatusUnprocessableEntity, web.Signup(s.page(c, tr(c, "signup.title")), form))
		}
		mode := s.opts.Accounts.Verification()
		if email, err := accounts.NormalizeEmail(form.Email); err == nil && mode == accounts.VerifyRequired {
			if ok, err := s.mailAllowed(c, email); err != nil {
				return err
			} else if !ok {
				_, form.Error = localError(c, errRateLimited, "")
				return render(c, http.StatusTooManyRequests, web.Signup(s.page(c, tr(c, "signup.title")), form))
			}
		}
		u, err := s.opts.Accounts.SignUp(c.Request().Context(), form.Email, password)
		switch {
		case localFieldErrors(c, form.Errors, err):
			return render(c, http.StatusUnprocessableEntity, web.Signup(s.page(c, tr(c, "signup.title")), form))
		case mode == accounts.VerifyRequired && (err == nil || errors.Is(err, accounts.ErrEmailTaken)):
			// The same answer whether or not the address had an account:
			// its owner's inbox is told which.
			email, _ := accounts.NormalizeEmail(form.Email)
			return render(c, http.StatusOK, web.CheckMail(s.page(c, tr(c, "checkmail.title")), web.CheckMailPage{Email: email,
				Message: tr(c, "signup.check_mail", i18n.Data{"Email": email})}))
		case errors.Is(err, accounts.ErrEmailTaken):
			form.Errors["email"] = tr(c, "signup.email_taken")
			form.EmailTaken = true
			return render(c, http.StatusConflict, web.Signup(s.page(c, tr(c, "signup.title")), form))
		case err != nil:
			return err
		}
		if err := s.startSession(c, u.ID); err != nil {
			return err
		}
		s.keepChosenLanguage(c, u.ID)
		msg := tr(c, "signup.welcome")
		if mode != accounts.VerifyOff {
			msg = tr(c, "signup.welcome_verify", i18n.Data{"Email": u.Email})
		}
		s.flash(c, "success", msg)
		return redirect(c, "/profile")
	}
}

// startSession logs the browser in as userID with a fresh session id.
func (s *Server) startSession(c echo.Context, userID int64) error {
	old := ""
	if ck, err := c.Cookie(s.cookies.session); err == nil {
		old = ck.Value
	}
	token, err := s.opts.Accounts.NewSession(c.Request().Context(), userID, old)
	if err != nil {
		return err
	}
	s.setSessionCookie(c, token)
	return nil
}

func (s *Server) setSessionCookie(c echo.Context, token string) {
	s.setCookie(c, s.cookies.session, token, 0)
}

func (s *Server) loginForm(c echo.Context) web.LoginForm {
	return web.LoginForm{Next: safeNext(c.FormValue("next")), SignupEnabled: s.opts.SignupLocal, Providers: s.providerButtons()}
}

func (s *Server) providerButtons() []web.ProviderButton {
	buttons := make([]web.ProviderButton, 0, len(s.opts.Providers))
	for _, p := range s.opts.Providers {
		buttons = append(buttons, providerButton(p))
	}
	return buttons
}

func (s *Server) handleLoginForm() echo.HandlerFunc {
	return func(c echo.Context) error {
		form := s.loginForm(c)
		if sessionFrom(c) != nil {
			return redirect(c, orDefault(form.Next, "/profile"))
		}
		return render(c, http.StatusOK, web.Login(s.page(c, tr(c, "login.title")), form))
	}
}

func (s *Server) handleLogin() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		form := s.loginForm(c)
		form.Email = c.FormValue("email")
		password := c.FormValue("password")
		email, _ := accounts.NormalizeEmail(form.Email)
		if verdict, err := s.loginAllowed(c, email); err != nil {
			return err
		} else if verdict != loginOK {
			s.metrics.passwordLogin("rate_limited")
			form.Error = tr(c, "login.too_many")
			if verdict == loginAccountLocked {
				form.Error, form.Locked = "", true
			}
			return render(c, http.StatusTooManyRequests, web.Login(s.page(c, tr(c, "login.title")), form))
		}
		old := ""
		if ck, err := c.Cookie(s.cookies.session); err == nil {
			old = ck.Value
		}
		u, token, err := s.opts.Accounts.LogIn(ctx, form.Email, password, old)
		switch {
		case errors.Is(err, accounts.ErrSecondFactorRequired):
			s.loginSucceeded(c, email)
			return s.holdLogin(c, u.ID, "password", "", form.Next)
		case errors.Is(err, accounts.ErrEmailUnverified):
			s.metrics.passwordLogin("email_unverified")
			form.Unverified = true
			return render(c, http.StatusForbidden, web.Login(s.page(c, tr(c, "login.title")), form))
		case errors.Is(err, accounts.ErrInvalidCredentials), errors.Is(err, accounts.ErrAccountDisabled):
			s.metrics.passwordLogin(map[bool]string{true: "account_disabled", false: "invalid_credentials"}[errors.Is(err, accounts.ErrAccountDisabled)])
			if err := s.loginFailed(c, email); err != nil {
				return err
			}
			form.Error = tr(c, "login.no_match")
			if errors.Is(err, accounts.ErrAccountDisabled) {
				_, form.Error = localError(c, accounts.ErrAccountDisabled, "")
			}
			return render(c, http.StatusUnauthorized, web.Login(s.page(c, tr(c, "login.title")), form))
		case err != nil:
			return err
		}
		s.metrics.passwordLogin("ok")
		s.loginSucceeded(c, email)
		s.setSessionCookie(c, token)
		s.flash(c, "success", tr(c, "flash.logged_in"))
		return redirect(c, orDefault(form.Next, "/profile"))
	}
}

func (s *Server) handleLogout() echo.HandlerFunc {
	return func(c echo.Context) error {
		if ck, err := c.Cookie(s.cookies.session); err == nil && ck.Value != "" {
			if err := s.opts.Accounts.EndSession(c.Request().Context(), ck.Value); err != nil {
				return err
			}
		}
		s.clearCookie(c, s.cookies.session)
		c.Set(ctxSession, nil)
		s.flash(c, "info", tr(c, "flash.logged_out"))
		return redirect(c, "/")
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
