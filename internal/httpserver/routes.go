package httpserver

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/web"
)

// routes is the whole HTTP surface, grouped by the middleware each part needs.
func (s *Server) routes() {
	e := s.echo
	e.Pre(s.recoverPanics(), s.methods())
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}))
	e.Use(s.observe(), s.securityHeaders(), s.requestMeta(), s.locale())

	// Operations: no session, no CSRF, no body.
	e.GET("/healthz", s.handleHealthz())
	e.GET("/readyz", s.handleReadyz())
	if !s.opts.MetricsElsewhere {
		e.GET("/metrics", s.handleMetrics())
	}
	e.GET("/static/*", s.handleStatic())

	// Providers using response_mode=form_post (Apple) POST the callback
	// cross-site: no cookies arrive and no CSRF token can, so it is turned
	// into the GET callback, which a top-level navigation sends cookies to.
	e.POST("/auth/:provider/callback", s.handleFormPostCallback(), middleware.BodyLimit("64K"))

	// Dev mode's built-in provider is a separate site: it has its own
	// consent form and never sees this site's session or CSRF token.
	if s.opts.DevProvider != nil {
		e.Any("/dev/provider/*", echo.WrapHandler(s.opts.DevProvider), middleware.BodyLimit("64K"))
	}

	// Browser pages: a body cap, the session, CSRF on unsafe methods.
	site := e.Group("", middleware.BodyLimit("64K"), s.loadSession(), s.locale(), s.csrf())
	site.GET("/", s.handleHome())
	site.GET("/signup", s.handleSignupForm())
	site.POST("/signup", s.handleSignup())
	site.GET("/login", s.handleLoginForm())
	site.POST("/login", s.handleLogin())
	site.POST("/logout", s.handleLogout())
	site.POST("/language", s.handleLanguage())
	site.POST("/auth/:provider/login", s.handleDanceStart(links.IntentLogin))
	site.GET("/auth/:provider/callback", s.handleDanceCallback())
	// Links that arrive by mail: opening one (GET) changes nothing.
	site.GET("/email/verify", s.handleVerifyForm())
	site.POST("/email/verify", s.handleVerify())
	site.POST("/email/resend", s.handleResendVerificationTo())
	site.GET("/login/mfa", s.handleMFALoginForm())
	site.POST("/login/mfa", s.handleMFALogin())
	site.POST("/login/passkey/options", s.handlePasskeyLoginOptions())
	site.POST("/login/passkey", s.handlePasskeyLogin())
	site.POST("/login/unlock-request", s.handleUnlockRequest())
	site.GET("/login/unlock", s.handleUnlockForm())
	site.POST("/login/unlock", s.handleUnlock())
	site.GET("/password/forgot", s.handleForgotForm())
	site.POST("/password/forgot", s.handleForgot())
	site.GET("/password/reset", s.handleResetForm())
	site.POST("/password/reset", s.handleReset())

	// Destructive actions name what will happen and wait for confirm=yes
	// (confirmFirst): a confirmation page, or confirm.js's dialog.
	user := site.Group("", s.requireUser())
	// The profile is a page per section (web.SectionConnections first).
	user.GET("/profile", s.handleProfile(web.SectionConnections))
	user.GET("/profile/security", s.handleProfile(web.SectionSecurity))
	user.GET("/profile/tokens", s.handleProfile(web.SectionTokens))
	user.GET("/profile/account", s.handleProfile(web.SectionAccount))
	user.POST("/profile/name", s.handleNameChange())
	user.POST("/connections/:id/primary", s.handleConnectionPrimary())
	user.POST("/connections/:id/check", s.handleConnectionCheck())
	user.GET("/profile/export", s.handleExport())
	user.POST("/profile/sessions/delete", s.handleSessionsDelete(), s.confirmFirst(s.askLogOut))
	user.POST("/profile/sessions/:id/delete", s.handleSessionDelete(), s.confirmFirst(s.askEndSession))
	user.POST("/profile/tokens/:id/delete", s.handleTokenDelete(), s.confirmFirst(s.askRevokeToken))
	user.POST("/profile/email/resend", s.handleResendVerification())
	user.GET("/reauth", s.handleReauthForm())
	user.POST("/reauth", s.handleReauth())
	user.POST("/reauth/passkey/options", s.handlePasskeyReauthOptions())
	user.POST("/reauth/passkey", s.handlePasskeyReauth())
	user.POST("/auth/:provider/reauth", s.handleDanceStart(links.IntentReauth))
	user.POST("/profile/passkeys/:id/rename", s.handlePasskeyRename())

	// Sensitive actions: only within security.reauth_window of the last
	// proof of identity; older sessions are sent to /reauth first.
	recent := user.Group("", s.requireRecentAuth())
	recent.POST("/profile/password", s.handlePasswordChange())
	recent.POST("/profile/email", s.handleEmailChange())
	recent.POST("/profile/tokens", s.handleTokenCreate())
	recent.POST("/profile/delete", s.handleAccountDelete())
	recent.POST("/auth/:provider/connect", s.handleDanceStart(links.IntentConnect))
	recent.POST("/connections/:id/reconnect", s.handleConnectionReconnect())
	recent.POST("/connections/:id/delete", s.handleConnectionDelete(), s.confirmFirst(s.askDisconnect))
	recent.POST("/profile/mfa/totp", s.handleTOTPBegin())
	recent.POST("/profile/mfa/totp/confirm", s.handleTOTPConfirm())
	recent.POST("/profile/mfa/totp/delete", s.handleTOTPDisable(), s.confirmFirst(s.askTurnOffTOTP))
	recent.POST("/profile/mfa/recovery-codes", s.handleRecoveryCodesRegenerate(), s.confirmFirst(s.askNewRecoveryCodes))
	recent.POST("/profile/passkeys/options", s.handlePasskeyOptions())
	recent.POST("/profile/passkeys", s.handlePasskeyCreate())
	recent.POST("/profile/passkeys/:id/delete", s.handlePasskeyDelete(), s.confirmFirst(s.askRemovePasskey))

	adm := user.Group("/admin", s.requireAdmin())
	e.GET("/admin", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/admin/") })
	adm.GET("/", s.handleAdminDashboard())
	adm.GET("/users", s.handleAdminUsers())
	adm.GET("/users/:id", s.handleAdminUser())
	adm.POST("/users/:id/admin", s.handleAdminUserAction(s.adminSetRole), s.requireRecentAuth(), s.confirmFirst(s.askRevokeAdmin))
	adm.POST("/users/:id/disable", s.handleAdminUserAction(s.adminDisable), s.requireRecentAuth(), s.confirmFirst(s.askDisableUser))
	adm.POST("/users/:id/enable", s.handleAdminUserAction(s.adminEnable), s.requireRecentAuth())
	adm.POST("/users/:id/password-reset", s.handleAdminUserAction(s.adminSendReset))
	adm.POST("/users/:id/verification", s.handleAdminUserAction(s.adminResendVerification))
	adm.POST("/users/:id/mfa/delete", s.handleAdminUserAction(s.adminResetMFA), s.requireRecentAuth(), s.confirmFirst(s.askResetSecondFactors))
	adm.POST("/users/:id/sessions/delete", s.handleAdminUserAction(s.adminEndSessions), s.confirmFirst(s.askEndUserSessions))
	adm.GET("/connections", s.handleAdminConnections())
	adm.GET("/connections.csv", s.handleAdminConnectionsCSV())
	adm.POST("/connections/:id/delete", s.handleAdminConnectionDelete(), s.confirmFirst(s.askAdminDisconnect))
	adm.GET("/events", s.handleAdminEvents())
	adm.GET("/deliveries", s.handleAdminDeliveries())
	adm.POST("/deliveries/:id/retry", s.handleAdminDeliveryRetry())
	adm.GET("/mail", s.handleAdminMail())
	adm.POST("/mail/:id/retry", s.handleAdminMailRetry())

	// The JSON API: its own authentication (session or bearer token), CSRF
	// for sessions inside apiAuth, problem documents for every error.
	e.GET("/api/v1/openapi.json", s.handleOpenAPI())
	api := e.Group("/api/v1", s.loadSession(), s.apiAuth())
	read, proxy := s.requireScope(accounts.ScopeRead), s.requireScope(accounts.ScopeProxy)
	api.GET("/me", s.handleAPIMe(), read)
	api.GET("/connections", s.handleAPIConnections(), read)
	api.DELETE("/connections/:id", s.handleAPIConnectionDelete(), proxy, s.requireRecentAuth())
	api.GET("/tokens", s.handleAPITokens(), read)
	api.POST("/tokens", s.handleAPITokenCreate(), proxy, s.requireRecentAuth())
	api.DELETE("/tokens/:id", s.handleAPITokenDelete(), proxy)
	// The provider proxy: the caller's own connections (scope proxy, checked
	// in the handler with the path's user) and, for backend programs acting
	// for a user, any user's (scope admin).
	api.Match(proxyMethods, "/providers/:provider/api/*", s.handleProviderCall(false))
	api.Match(proxyMethods, "/admin/users/:id/providers/:provider/api/*", s.handleProviderCall(true))
	// The administrators' lists, with the console's filters, limits and
	// opaque cursors.
	adminAPI := api.Group("/admin", s.requireScope(accounts.ScopeAdmin), s.requireAdminEnrolled())
	adminAPI.GET("/users", s.handleAPIAdminUsers())
	adminAPI.GET("/connections", s.handleAPIAdminConnections())
	adminAPI.DELETE("/connections/:id", s.handleAPIAdminConnectionDelete())
	adminAPI.GET("/events", s.handleAPIAdminEvents())
	api.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })

	// Dev mode without mail.smtp_url: what the server "sent", to click.
	if s.opts.DevMailbox != nil {
		site.GET("/dev/mail", s.handleDevMailList())
		site.GET("/dev/mail/:id", s.handleDevMailView())
		site.GET("/dev/mail/:id/html", s.handleDevMailHTML())
	}

	site.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
}
