package httpserver

import (
	"encoding/csv"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/web"
)

// connectionQuery reads the connection list's filters from the query string.
func connectionQuery(c echo.Context) (admin.ConnectionQuery, error) {
	if err := knownParams(c, connectionParams); err != nil {
		return admin.ConnectionQuery{}, err
	}
	return admin.ParseConnectionQuery(c.QueryParams().Get)
}

// providerIDs are the connection filter's choices: every configured
// provider and every provider that still has connections.
func (s *Server) providerIDs(c echo.Context) ([]string, error) {
	ids, err := s.opts.Admin.Providers(c.Request().Context())
	if err != nil {
		return nil, err
	}
	for _, p := range s.opts.Providers {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// providerNames are the display names of the configured providers; the
// admin pages show those instead of ids.
func (s *Server) providerNames() web.ProviderNames {
	names := make(web.ProviderNames, len(s.opts.Providers))
	for _, p := range s.opts.Providers {
		names[p.ID] = p.Name
	}
	return names
}

func (s *Server) handleAdminConnections() echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		v := web.AdminConnections{Provider: q.Get("provider"), Status: q.Get("status"), Q: q.Get("q"), Sort: q.Get("sort"),
			Dir: q.Get("dir"), Statuses: admin.Statuses, Names: s.providerNames(), Back: c.Request().URL.RequestURI()}
		var err error
		if v.Providers, err = s.providerIDs(c); err != nil {
			return err
		}
		cq, err := connectionQuery(c)
		var page admin.Page[admin.ConnectionRow]
		if err == nil {
			page, err = s.opts.Admin.Connections(c.Request().Context(), cq)
		}
		if v.Error, err = filterMessage(c, err); err != nil {
			return err
		}
		v.Rows = page.Rows
		v.Pager = pagerOf(c, page, "connections")
		csvQ := cloneValues(q)
		csvQ.Del("cursor")
		csvQ.Del("limit")
		v.CSVURL = "/admin/connections.csv?" + csvQ.Encode()
		return render(c, statusFor(v.Error), web.AdminConnectionsPage(s.page(c, tr(c, "admin.tab.connections")), v))
	}
}

// handleAdminConnectionsCSV streams every connection matching the list's
// filter as CSV, row by row from one query, so a million rows never sit in
// memory. A bad filter is refused before anything is written.
func (s *Server) handleAdminConnectionsCSV() echo.HandlerFunc {
	return func(c echo.Context) error {
		cq, err := connectionQuery(c)
		if err != nil {
			return err
		}
		if c.QueryParam("cursor") != "" {
			return &admin.FilterError{Field: "cursor", MessageID: "filter.export_cursor",
				Message: "The export always starts from the first row; remove the cursor."}
		}
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="connections-`+time.Now().UTC().Format("20060102-150405")+`.csv"`)
		h.Set("Cache-Control", "no-store")
		c.Response().WriteHeader(http.StatusOK)
		w := csv.NewWriter(c.Response())
		_ = w.Write([]string{"id", "user_id", "user_email", "provider", "provider_user_id", "username", "name", "email",
			"status", "scopes", "expires_at", "created_at", "last_used_at"})
		n := 0
		err = s.opts.Admin.EachConnection(c.Request().Context(), cq, func(r admin.ConnectionRow) error {
			rec := []string{strconv.FormatInt(r.ID, 10), strconv.FormatInt(r.UserID, 10), r.UserEmail,
				r.Provider, r.ProviderUserID, r.Username, r.Name, r.Email, r.Status,
				strings.Join(r.Scopes, " "), csvTime(r.ExpiresAt), csvTime(&r.CreatedAt), csvTime(r.LastUsedAt)}
			// Every cell gets the guard, not only those that look risky today.
			for i := range rec {
				rec[i] = csvSafe(rec[i])
			}
			if err := w.Write(rec); err != nil {
				return err
			}
			if n++; n%1000 == 0 {
				w.Flush()
				c.Response().Flush()
			}
			return nil
		})
		w.Flush()
		if err != nil {
			// The status line is gone; all that is left is to log and cut
			// the body short, which the client sees as a failed download.
			s.log.ErrorContext(c.Request().Context(), "export connections", "err", err.Error())
		}
		return nil
	}
}

// csvSafe keeps spreadsheet programs from running a provider-chosen value
// as a formula (CSV injection): a leading = + - @ gets a quote in front.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) handleAdminEvents() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		q := c.QueryParams()
		v := web.AdminEvents{Kind: q.Get("kind"), UserID: q.Get("user_id"), Provider: q.Get("provider"),
			Since: q.Get("since"), Until: q.Get("until"), Kinds: eventKinds(), Names: s.providerNames()}
		var err error
		if v.Providers, err = s.providerIDs(c); err != nil {
			return err
		}
		err = knownParams(c, eventParams)
		var eq admin.EventQuery
		if err == nil {
			eq, err = admin.ParseEventQuery(q.Get)
		}
		var page admin.Page[admin.EventRow]
		if err == nil {
			page, err = s.opts.Admin.Events(ctx, eq)
		}
		if v.Error, err = filterMessage(c, err); err != nil {
			return err
		}
		if eq.UserID != 0 && v.Error == "" {
			// Name the account the list is filtered by, even when it has no
			// events (yet), or is gone and only its events are left.
			if u, err := s.opts.Accounts.User(ctx, eq.UserID); err == nil {
				v.UserEmail = u.Email
			} else if !errors.Is(err, accounts.ErrNotFound) {
				return err
			}
		}
		v.Rows = page.Rows
		v.Pager = pagerOf(c, page, "events")
		return render(c, statusFor(v.Error), web.AdminEventsPage(s.page(c, tr(c, "admin.tab.events")), v))
	}
}
