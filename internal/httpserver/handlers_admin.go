package httpserver

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/i18n"
	"github.com/dancecard/dancecard/internal/paging"
	"github.com/dancecard/dancecard/web"
)

// requireAdmin lets administrators through; anyone else logged in gets 403
// (errForbidden, as in the admin API). It runs after requireUser, so
// anonymous visitors were already sent to log in.
func (s *Server) requireAdmin() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			sess := sessionFrom(c)
			if sess == nil || !sess.User.IsAdmin {
				return errForbidden
			}
			if enrolled, err := s.adminEnrolled(c); err != nil {
				return err
			} else if !enrolled {
				s.flash(c, "info", tr(c, "flash.admin_needs_mfa"))
				return redirect(c, "/profile/security#mfa")
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
		return render(c, http.StatusOK, web.AdminDashboard(s.page(c, tr(c, "admin.title")), web.AdminOverview{Stats: st, Names: s.providerNames()}))
	}
}

// filterMessage is what a list page says, in the request's language, of a
// query it cannot answer (a filter, sort, limit or cursor: any 400), which
// it shows above the list's filters; "" with any other error, returned as
// it is.
func filterMessage(c echo.Context, err error) (string, error) {
	if err == nil || lookupError(err).status != http.StatusBadRequest {
		return "", err
	}
	_, msg := localError(c, err, "")
	return msg, nil
}

// pagerOf is a list page's pager: its total, and links to the first,
// previous and next pages that keep the request's filters. The first page
// is offered from any page reached by a cursor that is not the first.
func pagerOf[T any](c echo.Context, p admin.Page[T], kind string) web.Pager {
	q := c.QueryParams()
	path := c.Request().URL.Path
	at := func(cursor string) string {
		v := cloneValues(q)
		v.Del("cursor")
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		if enc := v.Encode(); enc != "" {
			return path + "?" + enc
		}
		return path
	}
	pg := web.Pager{Total: p.Total, Kind: kind}
	if q.Get("cursor") != "" && (p.Prev != "" || len(p.Rows) == 0) {
		pg.FirstURL = at("")
	}
	if p.Prev != "" {
		pg.PrevURL = at(p.Prev)
	}
	if p.Next != "" {
		pg.NextURL = at(p.Next)
	}
	return pg
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		if v[0] != "" {
			out[k] = v[:1]
		}
	}
	return out
}

func (s *Server) handleAdminUsers() echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		v := web.AdminUsers{Q: q.Get("q"), Sort: q.Get("sort"), Dir: q.Get("dir"), Role: q.Get("role"), State: q.Get("state"),
			Verified: q.Get("verified"), MFA: q.Get("mfa")}
		err := knownParams(c, userParams)
		var uq admin.UserQuery
		if err == nil {
			uq, err = admin.ParseUserQuery(q.Get)
		}
		var page admin.Page[admin.UserRow]
		if err == nil {
			page, err = s.opts.Admin.Users(c.Request().Context(), uq)
		}
		if v.Error, err = filterMessage(c, err); err != nil {
			return err
		}
		v.Rows = page.Rows
		v.Pager = pagerOf(c, page, "users")
		return render(c, statusFor(v.Error), web.AdminUsersPage(s.page(c, tr(c, "admin.tab.users")), v))
	}
}

func statusFor(filterError string) int {
	if filterError != "" {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

func (s *Server) handleAdminUser() echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		u, err := s.opts.Accounts.User(ctx, id)
		if err != nil {
			return err
		}
		v := web.AdminUser{User: u, Self: u.ID == sessionFrom(c).UserID, Names: s.providerNames(), Back: c.Request().URL.Path}
		mfa, err := s.opts.Accounts.MFAStatus(ctx, id)
		if err != nil {
			return err
		}
		v.MFA = web.MFASection{TOTP: mfa.TOTP, RecoveryCodesLeft: mfa.RecoveryCodesLeft, Passkeys: mfa.Passkeys}
		if v.LastLoginAt, err = s.opts.Admin.LastLogin(ctx, id); err != nil {
			return err
		}
		conns, err := s.opts.Admin.Connections(ctx, admin.ConnectionQuery{UserID: id, Limit: paging.MaxLimit})
		if err != nil {
			return err
		}
		v.Connections = conns.Rows
		evs, err := s.opts.Admin.Events(ctx, admin.EventQuery{UserID: id, Limit: 20})
		if err != nil {
			return err
		}
		v.Events, v.EventsTotal = evs.Rows, evs.Total
		list, err := s.opts.Accounts.Sessions(ctx, id)
		if err != nil {
			return err
		}
		for _, ss := range list {
			v.Sessions = append(v.Sessions, web.Session{ID: strconv.FormatInt(ss.ID, 10), CreatedAt: ss.CreatedAt,
				LastSeenAt: ss.LastSeenAt, UserAgent: ss.UserAgent, IP: ss.IP})
		}
		return render(c, http.StatusOK, web.AdminUserPage(s.page(c, v.User.Email), v))
	}
}

// handleAdminUserAction runs one administrator action on the user in :id
// and returns to the user's page with a message saying what happened.
func (s *Server) handleAdminUserAction(act func(c echo.Context, adminID, userID int64) (string, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		msg, err := act(c, sessionFrom(c).UserID, id)
		if errors.Is(err, accounts.ErrSelf) {
			_, msg := localError(c, err, "")
			s.flash(c, "error", msg)
		} else if err != nil {
			return err
		} else {
			s.flash(c, "success", msg)
		}
		return redirect(c, "/admin/users/"+strconv.FormatInt(id, 10))
	}
}

func (s *Server) adminSetRole(c echo.Context, adminID, userID int64) (string, error) {
	grant, err := strconv.ParseBool(c.FormValue("admin"))
	if err != nil {
		return "", echo.NewHTTPError(http.StatusBadRequest, "admin must be true or false")
	}
	if err := s.opts.Accounts.SetAdmin(c.Request().Context(), adminID, userID, grant); err != nil {
		return "", err
	}
	if grant {
		return tr(c, "flash.admin.granted"), nil
	}
	return tr(c, "flash.admin.revoked"), nil
}

func (s *Server) adminDisable(c echo.Context, adminID, userID int64) (string, error) {
	return tr(c, "flash.admin.disabled"), s.opts.Accounts.Disable(c.Request().Context(), adminID, userID)
}

func (s *Server) adminEnable(c echo.Context, adminID, userID int64) (string, error) {
	return tr(c, "flash.admin.enabled"), s.opts.Accounts.Enable(c.Request().Context(), adminID, userID)
}

func (s *Server) adminEndSessions(c echo.Context, adminID, userID int64) (string, error) {
	n, err := s.opts.Accounts.EndAllSessions(c.Request().Context(), adminID, userID)
	return trn(c, "flash.admin.sessions_ended", int(n)), err
}

// handleAdminConnectionDelete removes any user's connection and returns to
// the admin page it was sent from.
func (s *Server) handleAdminConnectionDelete() echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		conn, err := s.opts.Links.RemoveByAdmin(c.Request().Context(), sessionFrom(c).UserID, id)
		if err != nil {
			return err
		}
		s.flash(c, "success", tr(c, "flash.admin.connection_removed", i18n.Data{"Provider": s.providerDisplayName(conn.Provider)}))
		return redirect(c, adminBack(c.FormValue("back")))
	}
}

// adminBack is where an admin action returns: a page of the console, or
// the console's front page for anything else (never another site).
func adminBack(back string) string {
	if !strings.HasPrefix(back, "/admin/") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\\r\n") {
		return "/admin/"
	}
	return back
}

func eventKinds() []string {
	var out []string
	for _, k := range events.Kinds() {
		out = append(out, string(k))
	}
	return out
}

// adminEnrolled reports whether the session's administrator may use the
// admin pages and API: always, unless mfa.admins_must_enrol asks for a
// second factor first. Bearer-token calls are the token's business.
func (s *Server) adminEnrolled(c echo.Context) (bool, error) {
	sess := sessionFrom(c)
	if !s.opts.AdminsMustEnrol || sess == nil || c.Request().Header.Get(echo.HeaderAuthorization) != "" {
		return true, nil
	}
	mfa, err := s.opts.Accounts.MFAStatus(c.Request().Context(), sess.UserID)
	return mfa.TOTP || mfa.Passkeys > 0, err
}

// requireAdminEnrolled is adminEnrolled for the admin JSON API.
func (s *Server) requireAdminEnrolled() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if enrolled, err := s.adminEnrolled(c); err != nil {
				return err
			} else if !enrolled {
				return errMFAEnrolmentRequired
			}
			return next(c)
		}
	}
}
