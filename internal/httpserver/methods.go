package httpserver

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// notFoundRoutes are the catch-alls that answer a path no route knows.
var notFoundRoutes = map[string]bool{"/*": true, "/api/v1/*": true}

// methods runs before routing and makes the router honest about methods
// (RFC 9110): HEAD works wherever GET does, and a known path asked with a
// method it does not take answers 405 with Allow (a problem document under
// /api/v1, from the error handler) instead of falling into a not-found
// catch-all, or into authentication, first.
func (s *Server) methods() echo.MiddlewareFunc {
	all := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if s.routable(r.Method, r) {
				return next(c)
			}
			if r.Method == http.MethodHead && s.routable(http.MethodGet, r) {
				// Served as a GET whose body is dropped. The request is the
				// server's own, so its method is restored before returning.
				r.Method = http.MethodGet
				defer func() { r.Method = http.MethodHead }()
				c.Response().Writer = headWriter{c.Response().Writer}
				return next(c)
			}
			var allow []string
			get := s.routable(http.MethodGet, r)
			for _, m := range all {
				if m != r.Method && (s.routable(m, r) || m == http.MethodHead && get) {
					allow = append(allow, m)
				}
			}
			if len(allow) == 0 {
				return next(c)
			}
			c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
			return echo.ErrMethodNotAllowed
		}
	}
}

// routable reports whether a route other than a not-found catch-all takes
// method at r's path.
func (s *Server) routable(method string, r *http.Request) bool {
	c := s.echo.AcquireContext()
	defer s.echo.ReleaseContext(c)
	c.Reset(r, nil)
	s.echo.Router().Find(method, echo.GetPath(r), c)
	return !notFoundRoutes[c.Path()] && c.Get(echo.ContextKeyHeaderAllow) == nil
}

// headWriter drops a GET handler's body for a HEAD request.
type headWriter struct{ http.ResponseWriter }

func (w headWriter) Write(p []byte) (int, error) { return len(p), nil }

func (w headWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
