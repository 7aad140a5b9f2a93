package links

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/postgres"
)

// RemoveByAdmin removes any user's connection on an administrator's
// behalf and revokes its token at the provider after the commit.
//
// Unlike Disconnect it does not refuse to remove the user's last way to log
// in: an administrator removes a link because the provider account is
// compromised, abusive or was linked by mistake, and keeping it alive so the
// owner can still log in through it would defeat the point. The event says
// when the account was left without a way to log in, so support can follow
// up (a password reset by email, or re-linking).
//
// It records connection_removed, which subscribers of every removal rely
// on, and admin_connection_removed naming the administrator, in the same
// transaction as the delete.
func (s *Service) RemoveByAdmin(ctx context.Context, adminID, connectionID int64) (Connection, error) {
	var c Connection
	var tok oauth.Token
	err := postgres.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		// Lock the owner, then the connection: the order Disconnect uses,
		// so the two never deadlock.
		var owner int64
		if err := tx.QueryRow(ctx, `SELECT user_id FROM connections WHERE id = $1`, connectionID).Scan(&owner); err != nil {
			return notFound(err)
		}
		u, err := s.Accounts.UserTx(ctx, tx, owner)
		if err != nil {
			return err
		}
		var access, secret, refresh []byte
		var tokenType string
		if c, err = scanConnection(scanExtra{tx.QueryRow(ctx, `SELECT `+connectionColumns+`, access_token, token_secret,
			    refresh_token, token_type FROM connections
			WHERE id = $1 AND user_id = $2 FOR UPDATE`, connectionID, owner), []any{&access, &secret, &refresh, &tokenType}}); err != nil {
			return err
		}
		// A token that cannot be opened (its key was retired, say) must not
		// keep an administrator from removing the link; it is only not
		// revoked at the provider.
		if tok, err = s.openToken(c, access, secret, refresh, tokenType); err != nil {
			s.Logger.Warn("admin removal: token unreadable, not revoking at the provider", "connection_id", c.ID, "err", err)
			tok = oauth.Token{}
		}
		var others int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM connections WHERE user_id = $1 AND id <> $2`,
			owner, connectionID).Scan(&others); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM connections WHERE id = $1`, connectionID); err != nil {
			return err
		}
		base := events.Event{UserID: owner, Provider: c.Provider, ProviderUserID: c.ProviderUserID, ConnectionID: c.ID}
		removed, byAdmin := base, base
		removed.Kind, removed.Reason = events.ConnectionRemoved, "removed by an administrator"
		byAdmin.Kind = events.AdminConnectionRemoved
		byAdmin.Data = map[string]any{"admin_id": adminID, "left_without_login": !u.HasPassword && others == 0}
		return events.RecordAll(ctx, tx, []events.Event{removed, byAdmin})
	})
	if err != nil {
		return Connection{}, err
	}
	s.revoke(ctx, c, tok)
	return c, nil
}

// Connection returns any user's connection by id, for an administrator
// about to remove it; ErrNotFound when there is none.
func (s *Service) Connection(ctx context.Context, id int64) (Connection, error) {
	return scanConnection(s.DB.QueryRow(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = $1`, id))
}

// notFound turns "no rows" into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
