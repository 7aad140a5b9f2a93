package httpserver

import (
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/dancecard/dancecard/internal/links"
)

// routes is the whole HTTP surface, grouped by the middleware each part needs.
func (s *Server) routes() {
	e := s.echo
	e.Pre(s.recoverPanics())
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}))
	e.Use(s.observe(), s.securityHeaders(), s.requestMeta())

	// Operations: no session, no CSRF, no body.
	e.GET("/healthz", s.handleHealthz())
	e.GET("/readyz", s.handleReadyz())
	e.GET("/metrics", s.handleMetrics())
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
	site := e.Group("", middleware.BodyLimit("64K"), s.loadSession(), s.csrf())
	site.GET("/", s.handleHome())
	site.GET("/signup", s.handleSignupForm())
	site.POST("/signup", s.handleSignup())
	site.GET("/login", s.handleLoginForm())
	site.POST("/login", s.handleLogin())
	site.POST("/logout", s.handleLogout())
	site.POST("/auth/:provider/login", s.handleDanceStart(links.IntentLogin))
	site.GET("/auth/:provider/callback", s.handleDanceCallback())

	user := site.Group("", s.requireUser())
	user.GET("/profile", s.handleProfile())
	user.POST("/profile/password", s.handlePasswordChange())
	user.POST("/profile/sessions/delete", s.handleSessionsDelete())
	user.POST("/profile/sessions/:id/delete", s.handleSessionDelete())
	user.POST("/profile/tokens", s.handleTokenCreate())
	user.POST("/profile/tokens/:id/delete", s.handleTokenDelete())
	user.POST("/auth/:provider/connect", s.handleDanceStart(links.IntentConnect))
	user.POST("/connections/:id/delete", s.handleConnectionDelete())

	adm := user.Group("/admin", s.requireAdmin())
	adm.GET("/", s.handleAdminDashboard())
	adm.GET("/users", s.handleAdminUsers())
	adm.GET("/users/:id", s.handleAdminUser())
	adm.POST("/users/:id/admin", s.handleAdminUserAction(s.adminSetRole))
	adm.POST("/users/:id/disable", s.handleAdminUserAction(s.adminDisable))
	adm.POST("/users/:id/enable", s.handleAdminUserAction(s.adminEnable))
	adm.POST("/users/:id/sessions/delete", s.handleAdminUserAction(s.adminEndSessions))
	adm.GET("/connections", s.handleAdminConnections())
	adm.GET("/connections.csv", s.handleAdminConnectionsCSV())
	adm.POST("/connections/:id/delete", s.handleAdminConnectionDelete())
	adm.GET("/events", s.handleAdminEvents())
	adm.GET("/deliveries", s.handleAdminDeliveries())
	adm.POST("/deliveries/:id/retry", s.handleAdminDeliveryRetry())

	// The JSON API: its own authentication (session or bearer token), CSRF
	// for sessions inside apiAuth, problem documents for every error.
	e.GET("/api/v1/openapi.json", s.handleOpenAPI())
	api := e.Group("/api/v1", s.loadSession(), s.apiAuth())
	s.apiRoutes(api)
	s.apiAdminRoutes(api)
	s.proxyRoutes(api)
	api.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })

	site.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
}
