package httpserver

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/web"
)

// connectionQuery reads the connection list's filters from the query string.
func connectionQuery(c echo.Context) (admin.ConnectionQuery, error) {
	if err := knownParams(c, connectionParams); err != nil {
		return admin.ConnectionQuery{}, err
	}
	q := c.QueryParams()
	return admin.ParseConnectionQuery(q.Get("provider"), q.Get("status"), q.Get("q"), q.Get("sort"), q.Get("dir"),
		q.Get("cursor"), q.Get("limit"))
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

func (s *Server) handleAdminConnections() echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		v := web.AdminConnections{Provider: q.Get("provider"), Status: q.Get("status"), Q: q.Get("q"), Sort: q.Get("sort"),
			Dir: q.Get("dir"), Statuses: admin.Statuses, Back: c.Request().URL.RequestURI()}
		var err error
		if v.Providers, err = s.providerIDs(c); err != nil {
			return err
		}
		cq, err := connectionQuery(c)
		var next string
		if err == nil {
			v.Rows, next, err = s.opts.Admin.Connections(c.Request().Context(), cq)
		}
		if v.Error, err = filterMessage(err); err != nil {
			return err
		}
		v.FirstURL, v.NextURL = pageURLs("/admin/connections", q, next)
		csvQ := cloneValues(q)
		csvQ.Del("cursor")
		csvQ.Del("limit")
		v.CSVURL = "/admin/connections.csv?" + csvQ.Encode()
		return render(c, statusFor(v.Error), web.AdminConnectionsPage(s.page(c, "Connections"), v))
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
			return &admin.FilterError{Field: "cursor", Message: "The export always starts from the first row; remove the cursor."}
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
		q := c.QueryParams()
		v := web.AdminEvents{Kind: q.Get("kind"), UserID: q.Get("user_id"), Provider: q.Get("provider"),
			Since: q.Get("since"), Until: q.Get("until"), Kinds: eventKinds()}
		err := knownParams(c, eventParams)
		var eq admin.EventQuery
		if err == nil {
			eq, err = admin.ParseEventQuery(v.Kind, v.UserID, v.Provider, v.Since, v.Until, q.Get("cursor"), q.Get("limit"))
		}
		var next string
		if err == nil {
			v.Rows, next, err = s.opts.Admin.Events(c.Request().Context(), eq)
		}
		if v.Error, err = filterMessage(err); err != nil {
			return err
		}
		v.FirstURL, v.NextURL = pageURLs("/admin/events", q, next)
		return render(c, statusFor(v.Error), web.AdminEventsPage(s.page(c, "Events"), v))
	}
}
