package httpserver

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

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

// routable reports whether a route (not a not-found catch-all) takes
// method at r's path. echo's router cannot tell: a group's catch-all and a
// real route may share a path ("/"), so the table of real routes decides.
func (s *Server) routable(method string, r *http.Request) bool {
	path := echo.GetPath(r)
	for _, pat := range s.routesBy[method] {
		if matchRoute(pat, path) {
			return true
		}
	}
	return false
}

// routeTable lists each method's route patterns, split into segments.
func routeTable(e *echo.Echo) map[string][][]string {
	out := map[string][][]string{}
	for _, r := range e.Routes() {
		if r.Method != echo.RouteNotFound {
			out[r.Method] = append(out[r.Method], strings.Split(strings.TrimPrefix(r.Path, "/"), "/"))
		}
	}
	return out
}

// matchRoute matches path against an echo pattern: ":name" takes one
// segment, "*" the rest.
func matchRoute(pat []string, path string) bool {
	rest := strings.TrimPrefix(path, "/")
	for i, seg := range pat {
		if seg == "*" || strings.HasSuffix(seg, "*") && strings.HasPrefix(rest, strings.TrimSuffix(seg, "*")) {
			return true
		}
		part, after, more := strings.Cut(rest, "/")
		switch {
		case strings.HasPrefix(seg, ":"):
			if part == "" {
				return false
			}
		case seg != part:
			return false
		}
		if i == len(pat)-1 {
			return !more
		}
		if !more {
			return false
		}
		rest = after
	}
	return false
}

// headWriter drops a GET handler's body for a HEAD request.
type headWriter struct{ http.ResponseWriter }

func (w headWriter) Write(p []byte) (int, error) { return len(p), nil }

func (w headWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
