package httpserver

import (
	"errors"
	"github.com/dancecard/dancecard/internal/ratelimit"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/i18n"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/web"
)

// providerInfo is an enabled provider by id; ok false for one no longer
// offered, which pages name by its id.
func (s *Server) providerInfo(id string) (ProviderInfo, bool) {
	for _, p := range s.opts.Providers {
		if p.ID == id {
			return p, true
		}
	}
	return ProviderInfo{ID: id, Name: id}, false
}

// providerButton is what a page needs to offer a provider: its name, mark
// and colour.
func providerButton(p ProviderInfo) web.ProviderButton {
	return web.ProviderButton{ID: p.ID, Name: p.Name, Mark: p.Mark, Colour: p.Colour}
}

// connectionViews turns connections into what the connections page shows;
// the first (highest-ranked) account at each provider is its primary.
func (s *Server) connectionViews(conns []links.Connection) []web.Connection {
	out := make([]web.Connection, 0, len(conns))
	seen := map[string]bool{}
	for _, c := range conns {
		p, _ := s.providerInfo(c.Provider)
		code, detail := links.SplitProblem(c.LastError)
		out = append(out, web.Connection{
			ID: strconv.FormatInt(c.ID, 10), Provider: c.Provider, ProviderName: orDefault(p.Name, c.Provider),
			ProviderMark: p.Mark, ProviderColour: p.Colour,
			Username: c.Username, Name: c.Name, ProfileURL: c.ProfileURL, AvatarURL: c.AvatarURL, Email: c.Email,
			Scopes: c.Scopes, Status: string(c.Status), Primary: !seen[c.Provider],
			CreatedAt: c.CreatedAt, LastUsedAt: c.LastUsedAt,
			CheckedAt: c.CheckedAt, LastError: code, LastErrorDetail: detail, LastErrorAt: c.LastErrorAt,
		})
		seen[c.Provider] = true
	}
	return out
}

// connectionID is the :id of a connection route; an id that does not
// parse is a connection that does not exist.
func connectionID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return 0, links.ErrNotFound
	}
	return id, nil
}

// connectionAnchor is where the connections page shows one account.
func connectionAnchor(id int64) string {
	return "/profile#connection-" + strconv.FormatInt(id, 10)
}

// handleConnectionPrimary makes one of the user's accounts at a provider
// the one proxied calls use when they name none.
func (s *Server) handleConnectionPrimary() echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := connectionID(c)
		if err != nil {
			return err
		}
		if err := s.opts.Links.MakePrimary(c.Request().Context(), sessionFrom(c).UserID, id); err != nil {
			return err
		}
		s.flash(c, "success", tr(c, "flash.conn.primary"))
		return redirect(c, connectionAnchor(id))
	}
}

// checkPerAccount bounds "Check connection": each check calls the
// provider, and a provider that sees an app hammer it may block the app
// for every user.
var checkPerAccount = ratelimit.Rule{Max: 30, Window: 15 * time.Minute}

// handleConnectionCheck asks the provider who the account is, through the
// proxy's path, and says what came back: the account, or the problem,
// which the account's card then shows too.
func (s *Server) handleConnectionCheck() echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := connectionID(c)
		if err != nil {
			return err
		}
		userID := sessionFrom(c).UserID
		if ok, _, err := s.opts.Limiter.Hit(c.Request().Context(), "check:user:"+strconv.FormatInt(userID, 10), checkPerAccount); err != nil {
			return err
		} else if !ok {
			s.flash(c, "error", tr(c, "flash.conn.check_rate_limited"))
			return redirect(c, connectionAnchor(id))
		}
		conn, err := s.opts.Links.Check(c.Request().Context(), userID, id)
		p, _ := s.providerInfo(conn.Provider)
		ce := (*links.CheckError)(nil)
		switch {
		case err == nil:
			s.flash(c, "success", tr(c, "flash.conn.check_ok", i18n.Data{"Provider": p.Name, "Account": checkedAccount(conn)}))
		case errors.As(err, &ce):
			code, detail := links.SplitProblem(conn.LastError)
			s.flash(c, "error", tr(c, "flash.conn.check_failed", i18n.Data{"Provider": p.Name, "Account": checkedAccount(conn),
				"Problem": web.ProblemText(c.Request().Context(), code, detail, p.Name)}))
		case errors.Is(err, links.ErrReauthRequired):
			s.flash(c, "error", tr(c, "flash.conn.check_reauth", i18n.Data{"Provider": p.Name, "Account": checkedAccount(conn)}))
		case errors.Is(err, links.ErrUnknownProvider):
			s.flash(c, "error", tr(c, "flash.conn.check_unknown_provider"))
		default:
			return err
		}
		return redirect(c, connectionAnchor(id))
	}
}

// checkedAccount names the account a check was about, as the provider
// knows it.
func checkedAccount(c links.Connection) string {
	switch {
	case c.Username != "" && c.Name != "" && c.Name != c.Username:
		return "@" + c.Username + " (" + c.Name + ")"
	case c.Username != "":
		return "@" + c.Username
	case c.Name != "":
		return c.Name
	case c.Email != "":
		return c.Email
	}
	return "#" + strconv.FormatInt(c.ID, 10)
}

// handleConnectionReconnect starts a connect dance that renews one of the
// user's connections, asking the provider to preselect its account.
func (s *Server) handleConnectionReconnect() echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := connectionID(c)
		if err != nil {
			return err
		}
		if ok, _, err := s.opts.Limiter.Hit(c.Request().Context(), "dance:ip:"+c.RealIP(), dancePerIP); err != nil {
			return err
		} else if !ok {
			return s.danceFailed(c, links.IntentConnect, "", errRateLimited)
		}
		authURL, err := s.opts.Links.Start(c.Request().Context(), links.StartRequest{
			Intent: links.IntentConnect, UserID: sessionFrom(c).UserID, Reconnect: id,
			Browser: s.browserID(c), Next: connectionAnchor(id),
		})
		if errors.Is(err, links.ErrNotFound) {
			return err
		}
		if err != nil {
			return s.danceFailed(c, links.IntentConnect, s.reconnectName(c, id), err)
		}
		return c.Redirect(http.StatusSeeOther, authURL)
	}
}

// reconnectName is the display name of the provider of one of the user's
// connections, for a failure's message; "" when it cannot be found.
func (s *Server) reconnectName(c echo.Context, id int64) string {
	conns, err := s.opts.Links.Connections(c.Request().Context(), sessionFrom(c).UserID)
	if err == nil {
		for _, cn := range conns {
			if cn.ID == id {
				p, _ := s.providerInfo(cn.Provider)
				return p.Name
			}
		}
	}
	return "" // the error's message then speaks of "the provider"
}
