package httpserver

import (
	"fmt"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/web"
)

// adminTarget is the account in :id that an administrator acts on, and
// whether it is their own (which the actions refuse, so nothing is asked).
func (s *Server) adminTarget(c echo.Context) (u accounts.User, self bool, err error) {
	id, err := pathID(c, "id")
	if err != nil {
		return u, false, err
	}
	u, err = s.opts.Accounts.User(c.Request().Context(), id)
	return u, id == sessionFrom(c).UserID, err
}

// askDisableUser names the account and counts the sessions that end.
func (s *Server) askDisableUser(c echo.Context) (web.Confirm, error) {
	u, self, err := s.adminTarget(c)
	if err != nil || self || u.Disabled {
		return web.Confirm{}, err
	}
	list, err := s.opts.Accounts.Sessions(c.Request().Context(), u.ID)
	if err != nil {
		return web.Confirm{}, err
	}
	return web.AskDisableUser(c.Request().Context(), u.Email, u.ID, len(list)), nil
}

// askEndUserSessions counts the sessions that end; with none, there is
// nothing to ask.
func (s *Server) askEndUserSessions(c echo.Context) (web.Confirm, error) {
	u, _, err := s.adminTarget(c)
	if err != nil {
		return web.Confirm{}, err
	}
	list, err := s.opts.Accounts.Sessions(c.Request().Context(), u.ID)
	if err != nil || len(list) == 0 {
		return web.Confirm{}, err
	}
	return web.AskEndUserSessions(c.Request().Context(), u.Email, u.ID, len(list)), nil
}

// askResetSecondFactors lists the second factors that go.
func (s *Server) askResetSecondFactors(c echo.Context) (web.Confirm, error) {
	u, _, err := s.adminTarget(c)
	if err != nil {
		return web.Confirm{}, err
	}
	mfa, err := s.opts.Accounts.MFAStatus(c.Request().Context(), u.ID)
	if err != nil || !mfa.TOTP && mfa.Passkeys == 0 && mfa.RecoveryCodesLeft == 0 {
		return web.Confirm{}, err
	}
	return web.AskResetSecondFactors(c.Request().Context(), u.Email, u.ID,
		web.MFASection{TOTP: mfa.TOTP, RecoveryCodesLeft: mfa.RecoveryCodesLeft, Passkeys: mfa.Passkeys}), nil
}

// askRevokeAdmin asks before another administrator is demoted; making
// someone an administrator is not destructive and is not asked.
func (s *Server) askRevokeAdmin(c echo.Context) (web.Confirm, error) {
	if grant, err := strconv.ParseBool(c.FormValue("admin")); err != nil || grant {
		return web.Confirm{}, nil
	}
	u, self, err := s.adminTarget(c)
	if err != nil || self || !u.IsAdmin {
		return web.Confirm{}, err
	}
	return web.AskRevokeAdmin(c.Request().Context(), u.Email, u.ID), nil
}

// askAdminDisconnect names whose connection goes and says when it is their
// only way to log in: no password, no other connection, no passkey.
func (s *Server) askAdminDisconnect(c echo.Context) (web.Confirm, error) {
	ctx := c.Request().Context()
	id, err := pathID(c, "id")
	if err != nil {
		return web.Confirm{}, err
	}
	cn, err := s.opts.Links.Connection(ctx, id)
	if err != nil {
		return web.Confirm{}, err
	}
	owner, err := s.opts.Accounts.User(ctx, cn.UserID)
	if err != nil {
		return web.Confirm{}, err
	}
	conns, err := s.opts.Links.Connections(ctx, cn.UserID)
	if err != nil {
		return web.Confirm{}, fmt.Errorf("admin disconnect: %w", err)
	}
	mfa, err := s.opts.Accounts.MFAStatus(ctx, cn.UserID)
	if err != nil {
		return web.Confirm{}, fmt.Errorf("admin disconnect: %w", err)
	}
	last := !owner.HasPassword && len(conns) == 1 && mfa.Passkeys == 0
	return web.AskAdminDisconnect(c.Request().Context(), owner.Email, owner.ID, s.providerDisplayName(cn.Provider),
		web.AccountName(cn.Username, cn.Name, cn.Email), s.opts.Links.Revokes(cn.Provider), last), nil
}
