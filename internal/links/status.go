package links

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// MarkExpiring moves active connections whose access token is about to
// expire and cannot be refreshed to expiring, recording connection_updated
// for each in the same transaction, so the profile can offer a reconnect
// before calls start failing. Every replica may run it; the status check in
// the UPDATE makes each change happen once.
func (s *Service) MarkExpiring(ctx context.Context) (int, error) {
	n := 0
	err := postgres.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			UPDATE connections SET status = 'expiring', updated_at = now()
			WHERE status = 'active' AND refresh_token IS NULL
			  AND expires_at < now() + make_interval(secs => $1)
			RETURNING id, user_id, provider, provider_user_id`, expiringWithin.Seconds())
		if err != nil {
			return err
		}
		type changed struct {
			id, user       int64
			provider, puid string
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (changed, error) {
			var c changed
			return c, r.Scan(&c.id, &c.user, &c.provider, &c.puid)
		})
		if err != nil {
			return err
		}
		es := make([]events.Event, 0, len(list))
		for _, c := range list {
			es = append(es, events.Event{Kind: events.ConnectionUpdated, UserID: c.user,
				Provider: c.provider, ProviderUserID: c.puid, ConnectionID: c.id, Reason: "access token about to expire",
				Data: map[string]any{"old_status": StatusActive, "new_status": StatusExpiring}})
		}
		if err := events.RecordAll(ctx, tx, es); err != nil {
			return err
		}
		n = len(list)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("mark expiring connections: %w", err)
	}
	return n, nil
}

// markRefused moves c to needs_reauth after the provider answered 401 to
// its access token access, recording connection_updated in the same
// transaction, and reports whether the connection now needs a reconnect.
// The row is locked and its token read again first: a connection already
// marked is not marked twice (concurrent calls drawing the same 401 record
// one event), and one whose token was replaced meanwhile (a refresh by
// another call, a reconnect) is left alone, since the 401 was about a
// token it no longer holds.
func (s *Service) markRefused(ctx context.Context, c Connection, access string) (bool, error) {
	reauth := false
	err := postgres.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		cur, tok, err := s.lockWithToken(ctx, tx, c.UserID, c.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil // disconnected meanwhile
		case err != nil:
			return err
		case cur.Status == StatusNeedsReauth || cur.Status == StatusRevoked:
			reauth = true
			return nil
		case tok.AccessToken != access:
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE connections SET status = 'needs_reauth', updated_at = now(),
			    last_error = $2, last_error_at = now() WHERE id = $1`, cur.ID, problem(ProblemTokenRefused, "HTTP 401")); err != nil {
			return err
		}
		reauth = true
		return events.Record(ctx, tx, events.Event{Kind: events.ConnectionUpdated, UserID: cur.UserID,
			Provider: cur.Provider, ProviderUserID: cur.ProviderUserID, ConnectionID: cur.ID,
			Reason: "the provider refused the access token (401)",
			Data:   map[string]any{"old_status": cur.Status, "new_status": StatusNeedsReauth}})
	})
	if err != nil {
		return false, fmt.Errorf("links: mark connection %d needs_reauth: %w", c.ID, err)
	}
	return reauth, nil
}
