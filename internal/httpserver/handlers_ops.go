package httpserver

import (
	"context"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/web"
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

// handleStatic serves the embedded assets. URLs carry a content hash
// (?v=...), so they may be cached for a long time.
func (s *Server) handleStatic() echo.HandlerFunc {
	sub, err := fs.Sub(web.StaticFS, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory exists
	}
	files := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return func(c echo.Context) error {
		if strings.HasSuffix(c.Request().URL.Path, "/") {
			return echo.ErrNotFound // no directory listings
		}
		c.Response().Header().Set("Cache-Control", "public, max-age=86400")
		if c.QueryParam("v") == web.AssetVersion() {
			c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
