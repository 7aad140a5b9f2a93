package httpserver

import (
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/admin"
)

// The query parameters each admin list understands; anything else is a
// mistake worth saying out loud rather than a filter silently ignored.
var (
	userParams       = []string{"q", "role", "state", "verified", "mfa", "sort", "dir", "cursor", "limit"}
	connectionParams = []string{"provider", "status", "q", "sort", "dir", "cursor", "limit"}
	eventParams      = []string{"kind", "user_id", "provider", "since", "until", "cursor", "limit"}
)

// knownParams refuses query parameters outside allowed and repeated ones.
func knownParams(c echo.Context, allowed []string) error {
	for k, vs := range c.QueryParams() {
		if !slices.Contains(allowed, k) {
			names := slices.Clone(allowed)
			sort.Strings(names)
			return &admin.FilterError{Field: clipParam(k), Message: "Unknown filter " + clipParam(k) + "; this list takes " +
				strings.Join(names, ", ") + "."}
		}
		if len(vs) > 1 {
			return &admin.FilterError{Field: k, Message: "Give " + k + " once."}
		}
	}
	return nil
}

func clipParam(k string) string {
	if len(k) > 40 || strings.ContainsFunc(k, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		return "(unreadable name)"
	}
	return `"` + k + `"`
}

// adminList is one page of an admin list: its items, the cursors of the
// pages before and after it (absent at either end) and how many items the
// whole list holds with the same filters.
type adminList[T any] struct {
	Items      []T         `json:"items"`
	NextCursor string      `json:"next_cursor,omitempty"`
	PrevCursor string      `json:"prev_cursor,omitempty"`
	Total      admin.Total `json:"total"`
}

func writeAdminList[T any](c echo.Context, p admin.Page[T]) error {
	if p.Rows == nil {
		p.Rows = []T{}
	}
	return c.JSON(http.StatusOK, adminList[T]{Items: p.Rows, NextCursor: p.Next, PrevCursor: p.Prev, Total: p.Total})
}

func (s *Server) handleAPIAdminUsers() echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := knownParams(c, userParams); err != nil {
			return err
		}
		uq, err := admin.ParseUserQuery(c.QueryParams().Get)
		if err != nil {
			return err
		}
		p, err := s.opts.Admin.Users(c.Request().Context(), uq)
		if err != nil {
			return err
		}
		return writeAdminList(c, p)
	}
}

func (s *Server) handleAPIAdminConnections() echo.HandlerFunc {
	return func(c echo.Context) error {
		cq, err := connectionQuery(c)
		if err != nil {
			return err
		}
		p, err := s.opts.Admin.Connections(c.Request().Context(), cq)
		if err != nil {
			return err
		}
		return writeAdminList(c, p)
	}
}

// handleAPIAdminConnectionDelete removes any user's connection, exactly as
// the console's Disconnect button does (links.RemoveByAdmin).
func (s *Server) handleAPIAdminConnectionDelete() echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		if _, err := s.opts.Links.RemoveByAdmin(c.Request().Context(), callerFrom(c).UserID, id); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

func (s *Server) handleAPIAdminEvents() echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := knownParams(c, eventParams); err != nil {
			return err
		}
		eq, err := admin.ParseEventQuery(c.QueryParams().Get)
		if err != nil {
			return err
		}
		p, err := s.opts.Admin.Events(c.Request().Context(), eq)
		if err != nil {
			return err
		}
		return writeAdminList(c, p)
	}
}
