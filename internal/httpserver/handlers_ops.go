package httpserver

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// handleHealthz says the process is up; it touches nothing else.
func (s *Server) handleHealthz() echo.HandlerFunc {
	return func(c echo.Context) error {
		return c.String(http.StatusOK, "ok\n")
	}
}

// handleReadyz says whether this replica can serve: the database answers.
func (s *Server) handleReadyz() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := s.opts.DB.Ping(ctx); err != nil {
			s.log.Warn("readiness: database unreachable", "err", err)
			return c.String(http.StatusServiceUnavailable, "database unreachable\n")
		}
		return c.String(http.StatusOK, "ready\n")
	}
}

func (s *Server) handleMetrics() echo.HandlerFunc {
	return echo.WrapHandler(s.MetricsHandler())
}
