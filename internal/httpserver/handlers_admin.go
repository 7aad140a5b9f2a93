package httpserver

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/web"
)

// requireAdmin lets administrators through; anyone else logged in gets 403.
// It runs after requireUser, so anonymous visitors were already sent to log in.
func (s *Server) requireAdmin() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if sess := sessionFrom(c); sess == nil || !sess.User.IsAdmin {
				return echo.ErrForbidden
			}
			return next(c)
		}
	}
}

func (s *Server) handleAdminDashboard() echo.HandlerFunc {
	return func(c echo.Context) error {
		st, err := s.opts.Admin.Dashboard(c.Request().Context())
		if err != nil {
			return err
		}
		v := web.AdminStats{Users: st.Users, Admins: st.Admins, Connections: st.Connections, NeedsReauth: st.NeedsReauth,
			LoginsOK24h: st.LoginsOK24h, LoginsFailed24h: st.LoginsFailed24h}
		for _, pc := range st.ByProvider {
			v.ByProvider = append(v.ByProvider, web.ProviderCount{Provider: pc.Provider, Count: pc.Count})
		}
		return render(c, http.StatusOK, web.AdminDashboard(s.page(c, "Administration"), v))
	}
}
