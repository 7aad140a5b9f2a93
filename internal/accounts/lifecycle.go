package accounts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// CheckDeleteConfirmation compares what the user typed with what deleting
// u asks for: the account's email, or DELETE when it has none.
func CheckDeleteConfirmation(u User, typed string) error {
	want := u.Email
	if want == "" {
		want = "DELETE"
	}
	if !strings.EqualFold(strings.TrimSpace(typed), want) {
		return &FieldError{Field: "confirm_email", Message: fmt.Sprintf("Type %s exactly to confirm.", want),
			MessageID: "field_error.confirm_delete", Args: map[string]any{"Want": want}}
	}
	return nil
}

// DeleteTx removes userID and every row that belongs to it (sessions,
// tokens, connections and links go with it by foreign key) inside tx,
// mails the owner a last notice and records user_deleted with the id
// only: the audit log keeps no address of a deleted account.
func (s *Service) DeleteTx(ctx context.Context, tx pgx.Tx, userID int64) error {
	u, err := s.UserTx(ctx, tx, userID)
	if err != nil {
		return err
	}
	if err := notify(ctx, tx, u, "account_deleted", nil); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, userID); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return events.Record(ctx, tx, events.Event{Kind: events.UserDeleted, UserID: userID})
}

// Export is everything the accounts domain stores about a user, without a
// secret: no password hash, no token or session hash, no link.
type Export struct {
	ID            int64        `json:"id"`
	Email         string       `json:"email"`
	EmailVerified bool         `json:"email_verified"`
	Name          string       `json:"name"`
	IsAdmin       bool         `json:"is_admin"`
	HasPassword   bool         `json:"has_password"`
	CreatedAt     time.Time    `json:"created_at"`
	Sessions      []ExportItem `json:"sessions"`
	Tokens        []ExportItem `json:"api_tokens"`
	Events        []ExportItem `json:"events"`
}

// ExportItem is one row of an exported table, as JSON.
type ExportItem map[string]any

// Export gathers the user's rows in one snapshot.
func (s *Service) Export(ctx context.Context, userID int64) (Export, error) {
	var ex Export
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+`, name FROM users WHERE id = $1`, userID), &ex.Name)
		if err != nil {
			return err
		}
		ex.ID, ex.Email, ex.EmailVerified, ex.IsAdmin, ex.HasPassword, ex.CreatedAt = u.ID, u.Email, u.EmailVerified, u.IsAdmin, u.HasPassword, u.CreatedAt
		queries := []struct {
			out *[]ExportItem
			sql string
		}{
			{&ex.Sessions, `SELECT id, ip, user_agent, created_at, last_seen_at, expires_at FROM sessions WHERE user_id = $1 ORDER BY id`},
			{&ex.Tokens, `SELECT id, name, scope, prefix, created_at, expires_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY id`},
			{&ex.Events, `SELECT id, kind, provider, provider_user_id, connection_id, reason, ip, user_agent, created_at FROM events WHERE user_id = $1 ORDER BY id`},
		}
		for _, q := range queries {
			rows, err := tx.Query(ctx, q.sql, userID)
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			items, err := pgx.CollectRows(rows, pgx.RowToMap)
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			*q.out = make([]ExportItem, len(items))
			for i, it := range items {
				(*q.out)[i] = it
			}
		}
		return nil
	})
	return ex, err
}
