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
	"github.com/dancecard/dancecard/web"
)

// requireAdmin lets administrators through; anyone else logged in gets 403.
// It runs after requireUser, so anonymous visitors were already sent to log in.
func (s *Server) requireAdmin() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			sess := sessionFrom(c)
			if sess == nil || !sess.User.IsAdmin {
				return echo.ErrForbidden
			}
			if enrolled, err := s.adminEnrolled(c); err != nil {
				return err
			} else if !enrolled {
				s.flash(c, "info", "Administrators here need two-step verification. Set up an authenticator app to open the admin pages.")
				return redirect(c, "/profile")
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
		return render(c, http.StatusOK, web.AdminDashboard(s.page(c, "Administration"), st))
	}
}

// filterMessage is the message of a bad list filter, or "" with any other
// error returned as it is.
func filterMessage(err error) (string, error) {
	var fe *admin.FilterError
	if errors.As(err, &fe) {
		return fe.Message, nil
	}
	return "", err
}

// pageURLs returns the first- and next-page links of a list at path with
// query q: "" where there is no such page.
func pageURLs(path string, q url.Values, next string) (first, nextURL string) {
	if q.Get("cursor") != "" {
		f := cloneValues(q)
		f.Del("cursor")
		first = path + "?" + f.Encode()
	}
	if next != "" {
		n := cloneValues(q)
		n.Set("cursor", next)
		nextURL = path + "?" + n.Encode()
	}
	return first, nextURL
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
		v := web.AdminUsers{Q: q.Get("q"), Sort: q.Get("sort"), Dir: q.Get("dir"), MFA: q.Get("mfa")}
		err := knownParams(c, userParams)
		var uq admin.UserQuery
		if err == nil {
			uq, err = admin.ParseUserQuery(v.Q, v.Sort, v.Dir, q.Get("cursor"), q.Get("limit"))
		}
		if err == nil {
			uq.MFA, err = admin.ParseMFAFilter(v.MFA)
		}
		var next string
		if err == nil {
			v.Rows, next, err = s.opts.Admin.Users(c.Request().Context(), uq)
		}
		if v.Error, err = filterMessage(err); err != nil {
			return err
		}
		v.FirstURL, v.NextURL = pageURLs("/admin/users", q, next)
		return render(c, statusFor(v.Error), web.AdminUsersPage(s.page(c, "Users"), v))
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
		v := web.AdminUser{User: u, Self: u.ID == sessionFrom(c).UserID, Back: c.Request().URL.Path}
		mfa, err := s.opts.Accounts.MFAStatus(ctx, id)
		if err != nil {
			return err
		}
		v.MFA = web.MFASection{TOTP: mfa.TOTP, RecoveryCodesLeft: mfa.RecoveryCodesLeft, Passkeys: mfa.Passkeys}
		if v.Connections, _, err = s.opts.Admin.Connections(ctx, admin.ConnectionQuery{UserID: id, Limit: admin.MaxLimit}); err != nil {
			return err
		}
		if v.Events, _, err = s.opts.Admin.Events(ctx, admin.EventQuery{UserID: id, Limit: 20}); err != nil {
			return err
		}
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
			s.flash(c, "error", lookupError(err).message)
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
		return "The account is now an administrator.", nil
	}
	return "The account is no longer an administrator.", nil
}

func (s *Server) adminDisable(c echo.Context, adminID, userID int64) (string, error) {
	return "The account was disabled and logged out everywhere.", s.opts.Accounts.Disable(c.Request().Context(), adminID, userID)
}

func (s *Server) adminEnable(c echo.Context, adminID, userID int64) (string, error) {
	return "The account was re-enabled.", s.opts.Accounts.Enable(c.Request().Context(), adminID, userID)
}

func (s *Server) adminEndSessions(c echo.Context, adminID, userID int64) (string, error) {
	n, err := s.opts.Accounts.EndAllSessions(c.Request().Context(), adminID, userID)
	return "Ended " + strconv.FormatInt(n, 10) + " sessions.", err
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
		s.flash(c, "success", "The "+conn.Provider+" connection was removed.")
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
