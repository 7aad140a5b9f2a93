package links

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/postgres"
)

// DeleteUser deletes userID's account and everything stored about it, then
// revokes each connection's token at its provider (after the commit, best
// effort: a provider that is down must not keep an account alive).
func (s *Service) DeleteUser(ctx context.Context, userID int64) error {
	type revocation struct {
		c   Connection
		tok oauth.Token
	}
	var revoke []revocation
	err := postgres.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		if _, err := s.Accounts.UserTx(ctx, tx, userID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM connections WHERE user_id = $1 ORDER BY id FOR UPDATE`, userID)
		if err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		for _, id := range ids {
			c, tok, err := s.readWithToken(ctx, tx, userID, id, "")
			if err != nil {
				// A token that cannot be opened is only not revoked.
				s.Logger.Warn("delete user: token unreadable, not revoking at the provider", "connection_id", id, "err", err)
			}
			revoke = append(revoke, revocation{c, tok})
		}
		if err := deleteUserConnections(ctx, tx, userID, "account deleted"); err != nil {
			return err
		}
		return s.Accounts.DeleteTx(ctx, tx, userID)
	})
	if err != nil {
		return err
	}
	for _, r := range revoke {
		s.revoke(ctx, r.c, r.tok)
	}
	return nil
}

// deleteUserConnections removes every connection of userID inside tx and
// records each removal with reason.
func deleteUserConnections(ctx context.Context, tx pgx.Tx, userID int64, reason string) error {
	rows, err := tx.Query(ctx, `DELETE FROM connections WHERE user_id = $1 RETURNING id, provider, provider_user_id`, userID)
	if err != nil {
		return fmt.Errorf("remove connections: %w", err)
	}
	var es []events.Event
	for rows.Next() {
		e := events.Event{Kind: events.ConnectionRemoved, UserID: userID, Reason: reason}
		if err := rows.Scan(&e.ConnectionID, &e.Provider, &e.ProviderUserID); err != nil {
			rows.Close()
			return fmt.Errorf("remove connections: %w", err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("remove connections: %w", err)
	}
	return events.RecordAll(ctx, tx, es)
}
