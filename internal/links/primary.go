package links

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// MakePrimary makes one of userID's connections the primary one at its
// provider: the account a proxied call uses when it names none
// (APICall.ConnectionID 0 takes the lowest rank). The connection takes a
// rank below every other of the user's at that provider, so the others keep
// their order, and connection_updated is recorded in the same transaction.
// The user's accounts at the provider are locked first, so two concurrent
// changes apply one after the other. Making the primary primary changes
// nothing and records nothing; another user's connection is ErrNotFound.
func (s *Service) MakePrimary(ctx context.Context, userID, connectionID int64) error {
	err := postgres.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT id, provider, provider_user_id, rank FROM connections
			WHERE user_id = $1 AND provider = (SELECT provider FROM connections WHERE id = $2 AND user_id = $1)
			ORDER BY rank, id FOR UPDATE`, userID, connectionID)
		if err != nil {
			return err
		}
		type ranked struct {
			id         int64
			provider   string
			providerID string
			rank       int
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ranked, error) {
			var c ranked
			return c, r.Scan(&c.id, &c.provider, &c.providerID, &c.rank)
		})
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return ErrNotFound
		}
		first := list[0]
		if first.id == connectionID {
			return nil
		}
		var target ranked
		for _, c := range list {
			if c.id == connectionID {
				target = c
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE connections SET rank = $2 WHERE id = $1`, connectionID, first.rank-1); err != nil {
			return err
		}
		return events.Record(ctx, tx, events.Event{Kind: events.ConnectionUpdated, UserID: userID,
			Provider: target.provider, ProviderUserID: target.providerID, ConnectionID: connectionID, Reason: "made primary",
			Data: map[string]any{"primary": true, "old_rank": target.rank, "new_rank": first.rank - 1,
				"previous_primary_connection_id": first.id}})
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("links: make connection %d primary: %w", connectionID, err)
	}
	return err
}
