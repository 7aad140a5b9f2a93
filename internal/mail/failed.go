package mail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// Failed is a dead mail as administrators see it.
type Failed struct {
	ID, UserID int64 // UserID 0: no account, or the account was deleted
	To         string
	Kind       string
	LastError  string
	Attempts   int
	CreatedAt  time.Time
	DeadAt     time.Time
}

// ListFailed lists dead mail, most recently parked first, at most limit.
func ListFailed(ctx context.Context, db Querier, limit int) ([]Failed, error) {
	rows, err := db.Query(ctx, `
		SELECT id, coalesce(user_id, 0), to_addr, kind, last_error, attempts, created_at, dead_at
		FROM mail_outbox WHERE dead_at IS NOT NULL
		ORDER BY dead_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("mail: list failed: %w", err)
	}
	fs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Failed, error) {
		var f Failed
		err := r.Scan(&f.ID, &f.UserID, &f.To, &f.Kind, &f.LastError, &f.Attempts, &f.CreatedAt, &f.DeadAt)
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("mail: list failed: %w", err)
	}
	return fs, nil
}

// CountFailed counts dead mail, for the administrators' dashboard.
func CountFailed(ctx context.Context, db Querier) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM mail_outbox WHERE dead_at IS NOT NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("mail: count failed: %w", err)
	}
	return n, nil
}

// Retry makes the dead mail id due now with a fresh count of attempts
// (after, say, the SMTP settings were fixed) and wakes the senders. It
// returns ErrNotFound when there is no such dead mail. A link mail whose
// link expired meanwhile is then not sent (see SendDue): the person asks
// for a new link instead. adminID, the administrator who asked, is
// recorded with admin_mail_retried.
func Retry(ctx context.Context, db *pgxpool.Pool, id, adminID int64) error {
	err := postgres.InTx(ctx, db, func(tx pgx.Tx) error {
		var userID *int64
		var kind string
		err := tx.QueryRow(ctx, `
			UPDATE mail_outbox
			SET dead_at = NULL, attempts = 0, next_attempt_at = now(), locked_until = NULL
			WHERE id = $1 AND dead_at IS NOT NULL RETURNING user_id, kind`, id).Scan(&userID, &kind)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, `SELECT pg_notify('`+notifyChannel+`', '')`); err != nil {
			return err
		}
		e := events.Event{Kind: events.AdminMailRetried, Data: map[string]any{"admin_id": adminID, "mail_id": id, "kind": kind}}
		if userID != nil {
			e.UserID = *userID
		}
		return events.Record(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("mail: retry %d: %w", id, err)
	}
	return nil
}
