package httpserver

import (
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/web"
)

// readConnections reads into v what the connections page shows, in the
// page's one query.
func (s *Server) readConnections(c echo.Context, sess *accounts.Session, v *web.Profile) error {
	conns, err := s.opts.Links.Connections(c.Request().Context(), sess.UserID)
	if err != nil {
		return err
	}
	v.Connections, v.ConnectProviders = s.connectionViews(conns), s.providerButtons()
	return nil
}

// readSecurity reads into v what the security page shows: sessions, second
// factors, passkeys.
func (s *Server) readSecurity(c echo.Context, sess *accounts.Session, v *web.Profile) error {
	ctx := c.Request().Context()
	list, err := s.opts.Accounts.Sessions(ctx, sess.UserID)
	if err != nil {
		return err
	}
	mfa, err := s.opts.Accounts.MFAStatus(ctx, sess.UserID)
	if err != nil {
		return err
	}
	passkeys, err := s.opts.Accounts.Passkeys(ctx, sess.UserID)
	if err != nil {
		return err
	}
	v.MFA = web.MFASection{TOTP: mfa.TOTP, RecoveryCodesLeft: mfa.RecoveryCodesLeft, Passkeys: mfa.Passkeys}
	v.Passkeys = passkeyViews(passkeys)
	v.Sessions = make([]web.Session, 0, len(list))
	for _, ss := range list {
		v.Sessions = append(v.Sessions, web.Session{
			ID: strconv.FormatInt(ss.ID, 10), CreatedAt: ss.CreatedAt, LastSeenAt: ss.LastSeenAt,
			UserAgent: ss.UserAgent, IP: ss.IP, Current: ss.ID == sess.ID,
		})
	}
	// The current session comes first: it is the one people look for.
	slices.SortStableFunc(v.Sessions, func(a, b web.Session) int {
		switch {
		case a.Current == b.Current:
			return 0
		case a.Current:
			return -1
		default:
			return 1
		}
	})
	return nil
}

// readTokens reads into v what the tokens page shows: a token just created
// on this browser, which this view takes and no other shows, and the
// tokens. The hand-off is taken first, so the list holds every token it
// shows.
func (s *Server) readTokens(c echo.Context, sess *accounts.Session, v *web.Profile) error {
	ctx := c.Request().Context()
	handed, err := s.opts.Accounts.TakeTokenHandOffs(ctx, sess.UserID, s.browserID(c))
	if err != nil {
		return err
	}
	toks, err := s.opts.Accounts.Tokens(ctx, sess.UserID)
	if err != nil {
		return err
	}
	for _, t := range handed {
		v.NewTokens = append(v.NewTokens, web.NewToken{Name: t.Name, Scope: string(t.Scope), Secret: t.Secret, ExpiresAt: t.ExpiresAt})
	}
	for _, t := range toks {
		v.Tokens = append(v.Tokens, web.APIToken{ID: strconv.FormatInt(t.ID, 10), Name: t.Name, Scope: string(t.Scope),
			Prefix: t.Prefix, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt})
	}
	return nil
}

// readAccount reads into v what the account page shows: the address a
// change waits at and the name, unless v's name form already holds what a
// refused POST typed.
func (s *Server) readAccount(c echo.Context, sess *accounts.Session, v *web.Profile) error {
	ctx := c.Request().Context()
	pending, err := s.opts.Accounts.PendingEmail(ctx, sess.UserID)
	if err != nil {
		return err
	}
	v.PendingEmail = pending
	if v.NameForm != (web.NameForm{}) {
		return nil
	}
	v.NameForm.Name, err = s.opts.Accounts.Name(ctx, sess.UserID)
	return err
}
